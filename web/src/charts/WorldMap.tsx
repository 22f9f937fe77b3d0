// Country choropleth (d3-geo + topojson-client + world-atlas 110m, lazy-loaded). The TopoJSON is
// fetched once as a hashed static asset; paths are projected once and only fills change with data.
import { geoEqualEarth, geoPath } from 'd3-geo';
import type { Feature, Geometry } from 'geojson';
import { useEffect, useMemo, useState, type MouseEvent } from 'react';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlasUrl from 'world-atlas/countries-110m.json?url';
import type { Count } from '../api/types';
import { countryName, formatInteger } from '../lib/format';
import { alpha2OfAtlasFeature } from '../lib/iso';

const WIDTH = 960;
const HEIGHT = 426; // Equal Earth without Antarctica, fitted to WIDTH (measured: 952 x 418 + margins)

interface Shape {
  code: string;
  d: string;
}

let shapes: Promise<Shape[]> | undefined;

function loadShapes(): Promise<Shape[]> {
  shapes ??= fetch(atlasUrl)
    .then((r) => {
      if (!r.ok) throw new Error(`world map: HTTP ${r.status}`);
      return r.json() as Promise<Topology<{ countries: GeometryCollection<{ name: string }> }>>;
    })
    .then((topology) => {
      const countries = feature(topology, topology.objects.countries).features as Feature<Geometry, { name: string }>[];
      const visible = countries.filter((f) => alpha2OfAtlasFeature(f) !== 'AQ'); // Antarctica: no clicks, much space
      const projection = geoEqualEarth().fitExtent(
        [
          [4, 4],
          [WIDTH - 4, HEIGHT - 4],
        ],
        { type: 'FeatureCollection', features: visible },
      );
      const path = geoPath(projection);
      return visible.map((f) => ({ code: alpha2OfAtlasFeature(f) ?? '', d: path(f) ?? '' }));
    })
    .catch((error: unknown) => {
      shapes = undefined; // let a later mount retry
      throw error;
    });
  return shapes;
}

interface Hover {
  code: string;
  x: number;
  y: number;
}

export default function WorldMap({ countries }: { countries: Count[] }) {
  const [list, setList] = useState<Shape[] | null>(null);
  const [failed, setFailed] = useState(false);
  const [hover, setHover] = useState<Hover | null>(null);

  useEffect(() => {
    let alive = true;
    loadShapes().then(
      (s) => alive && setList(s),
      () => alive && setFailed(true),
    );
    return () => {
      alive = false;
    };
  }, []);

  const counts = useMemo(() => new Map(countries.map((c) => [c.key.toUpperCase(), c.clicks])), [countries]);
  const max = Math.max(1, ...counts.values());

  const fill = (code: string) => {
    const clicks = counts.get(code) ?? 0;
    if (clicks === 0) return 'var(--map-empty)';
    const share = Math.round(25 + 75 * Math.sqrt(clicks / max));
    return `color-mix(in srgb, var(--c1) ${share}%, var(--map-empty))`;
  };

  const onMove = (event: MouseEvent<SVGSVGElement>) => {
    const target = event.target as SVGElement;
    const code = target.getAttribute('data-code');
    if (!code) return setHover(null);
    const rect = event.currentTarget.getBoundingClientRect();
    setHover({ code, x: event.clientX - rect.left, y: event.clientY - rect.top });
  };

  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return (
    <div className="world-map" style={{ aspectRatio: `${WIDTH} / ${HEIGHT}` }}>
      {failed && <p className="muted">The world map could not be loaded.</p>}
      {list && (
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          role="img"
          aria-label={`World map: clicks from ${counts.size} ${counts.size === 1 ? 'country' : 'countries'}, ${formatInteger(total)} in all`}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          data-testid="world-map"
        >
          {list.map((s, i) => (
            <path
              key={`${s.code}-${i}`}
              d={s.d}
              data-code={s.code}
              fill={fill(s.code)}
              className={hover?.code === s.code ? 'country hovered' : 'country'}
            />
          ))}
        </svg>
      )}
      {hover && (
        <div className="map-tooltip" style={{ left: hover.x, top: hover.y }} role="tooltip">
          <strong>{countryName(hover.code)}</strong>
          <span>{formatInteger(counts.get(hover.code) ?? 0)} clicks</span>
        </div>
      )}
    </div>
  );
}
