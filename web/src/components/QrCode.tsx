// QR code of a short link, drawn in the page (uqr computes the modules; we draw one SVG path).
import { useMemo } from 'react';
import { encode } from 'uqr';

function modulesPath(data: boolean[][]): string {
  // One horizontal run per row segment keeps the path short (and crisp at any size).
  let d = '';
  data.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      d += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  });
  return d;
}

/** The QR code of `text`: its module path, side length (modules) and a standalone SVG file. */
export function qrModel(text: string): { d: string; size: number; svg: string } {
  // A 4-module border: the quiet zone the QR specification asks for.
  const { data, size } = encode(text, { ecc: 'M', border: 4 });
  const d = modulesPath(data);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges"><rect width="${size}" height="${size}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
  return { d, size, svg };
}

function download(name: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function downloadPng(svg: string, name: string) {
  const image = new Image();
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 512;
    const context = canvas.getContext('2d')!;
    context.imageSmoothingEnabled = false;
    context.drawImage(image, 0, 0, 512, 512);
    const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (png) download(name, png);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function QrCode({ text, name, size = 160 }: { text: string; name: string; size?: number }) {
  const { d, size: n, svg } = useMemo(() => qrModel(text), [text]);
  return (
    <figure className="qr">
      <svg
        viewBox={`0 0 ${n} ${n}`}
        width={size}
        height={size}
        shapeRendering="crispEdges"
        role="img"
        aria-label={`QR code for ${text}`}
        data-testid="qr-code"
      >
        <rect width={n} height={n} fill="#fff" />
        <path d={d} fill="#000" />
      </svg>
      <figcaption className="row">
        <button type="button" className="button small" onClick={() => download(`${name}.svg`, new Blob([svg], { type: 'image/svg+xml' }))}>
          SVG
        </button>
        <button type="button" className="button small" onClick={() => void downloadPng(svg, `${name}.png`)}>
          PNG
        </button>
      </figcaption>
    </figure>
  );
}

export { download };
