// Writes a `.gz` copy beside every compressible build output so the shortener binary can serve
// precompressed files (it picks `x.js.gz` for `x.js` when the client accepts gzip). A copy is
// only written when it is smaller than the original.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(js|mjs|css|svg|html|json|txt|map)$/;

async function* files(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

export function gzipPlugin(): Plugin {
  let outDir = 'dist';
  return {
    name: 'shortener-gzip',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      for await (const path of files(outDir)) {
        if (!COMPRESSIBLE.test(path)) continue;
        const raw = await readFile(path);
        // Level 9: built once, served many times.
        const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
        if (gz.length < raw.length) await writeFile(`${path}.gz`, gz);
      }
    },
  };
}
