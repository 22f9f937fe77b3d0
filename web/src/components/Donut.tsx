// Device classes as a donut with a legend (the legend carries the numbers for screen readers).
import type { Count } from '../api/types';
import { dimensionLabel, formatInteger, formatPercent } from '../lib/format';
import { Skeleton } from './common';

const COLORS: Record<string, string> = {
  desktop: 'var(--c1)',
  mobile: 'var(--c2)',
  tablet: 'var(--c3)',
  bot: 'var(--c4)',
  other: 'var(--c5)',
};
const fallback = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)'];

export function Donut({ items, label, testId }: { items: Count[] | undefined; label: string; testId?: string }) {
  if (!items) return <Skeleton height="var(--donut-box)" />;
  const total = items.reduce((s, i) => s + i.clicks, 0);
  if (total === 0) return <p className="muted bar-empty donut">No clicks yet</p>;
  const r = 42;
  const circumference = 2 * Math.PI * r;
  let offset = 0;
  return (
    <div className="donut">
      <svg viewBox="0 0 120 120" width="120" height="120" aria-hidden="true">
        <circle cx="60" cy="60" r={r} className="donut-track" />
        {items.map((item, index) => {
          const length = (item.clicks / total) * circumference;
          const arc = (
            <circle
              key={item.key}
              cx="60"
              cy="60"
              r={r}
              fill="none"
              stroke={COLORS[item.key] ?? fallback[index % fallback.length]}
              strokeWidth="16"
              strokeDasharray={`${length} ${circumference - length}`}
              strokeDashoffset={-offset}
              transform="rotate(-90 60 60)"
            />
          );
          offset += length;
          return arc;
        })}
      </svg>
      <ul className="legend" aria-label={label} data-testid={testId}>
        {items.map((item, index) => (
          <li key={item.key} data-key={item.key} data-clicks={item.clicks}>
            <span className="swatch" style={{ background: COLORS[item.key] ?? fallback[index % fallback.length] }} aria-hidden="true" />
            <span className="legend-label">{dimensionLabel(item.key)}</span>
            <span className="legend-value">
              {formatInteger(item.clicks)} <span className="muted">({formatPercent(item.clicks, total)})</span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
