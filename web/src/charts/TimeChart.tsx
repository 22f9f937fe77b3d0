// Clicks over time (uPlot, lazy-loaded with the analytics pages): bars for clicks, a line for
// unique visitors. Data updates go through setData, so live clicks do not rebuild the chart.
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bucket, Interval } from '../api/types';
import { formatBucket, formatCompact, formatInteger, parseTime } from '../lib/format';
import { INTERVAL_MS } from '../lib/shape';

interface Props {
  series: Bucket[];
  interval: Interval;
  height?: number;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function useColorScheme(): string {
  const query = useMemo(() => window.matchMedia('(prefers-color-scheme: dark)'), []);
  const [scheme, setScheme] = useState(query.matches ? 'dark' : 'light');
  useEffect(() => {
    const onChange = () => setScheme(query.matches ? 'dark' : 'light');
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [query]);
  return scheme;
}

function toData(series: Bucket[]): AlignedData {
  return [series.map((b) => parseTime(b.t) / 1000), series.map((b) => b.clicks), series.map((b) => b.unique)];
}

export default function TimeChart({ series, interval, height = 260 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scheme = useColorScheme();
  const data = useMemo(() => toData(series), [series]);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--muted');
    const grid = cssVar('--border');
    const clicks = cssVar('--c1');
    const unique = cssVar('--c2');
    const options: Options = {
      width: el.clientWidth || 600,
      height,
      cursor: { points: { size: 6 } },
      legend: { live: true },
      scales: {
        // Each bar covers its bucket [t, t + step): leave room for the last one.
        x: { time: true, range: (_u, min, max) => [min, max + INTERVAL_MS[interval] / 1000] },
        y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
      },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7],
          values: (_u, values) => values.map((v) => formatCompact(v)),
          size: 48,
        },
      ],
      series: [
        { value: (_u, v) => (v == null ? '—' : formatBucket(v * 1000, interval)) },
        {
          label: 'Clicks',
          stroke: clicks,
          fill: `${clicks}55`,
          width: 1,
          paths: uPlot.paths.bars!({ size: [0.7, 40], align: 1 }),
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : formatInteger(v)),
        },
        {
          label: 'Unique',
          stroke: unique,
          width: 2,
          points: { show: false },
          value: (_u, v) => (v == null ? '—' : formatInteger(v)),
        },
      ],
    };
    const u = new uPlot(options, latest.current, el);
    plot.current = u;
    const observer = new ResizeObserver(() => {
      if (el.clientWidth > 0) u.setSize({ width: el.clientWidth, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [height, interval, scheme]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const total = series.reduce((s, b) => s + b.clicks, 0);
  const peak = series.reduce<Bucket | null>((best, b) => (!best || b.clicks > best.clicks ? b : best), null);
  const summary =
    series.length === 0
      ? 'No data'
      : `${formatInteger(total)} clicks from ${formatBucket(series[0].t, interval)} to ${formatBucket(series[series.length - 1].t, interval)}` +
        (peak && peak.clicks > 0 ? `; peak ${formatInteger(peak.clicks)} at ${formatBucket(peak.t, interval)}` : '');
  return (
    <div className="time-chart" role="img" aria-label={`Clicks over time: ${summary}`}>
      <div ref={box} style={{ minHeight: height }} />
    </div>
  );
}
