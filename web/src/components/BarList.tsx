// A ranked breakdown (countries, referrers, browsers...) as labelled horizontal bars.
import { useState, type ReactNode } from 'react';
import type { Count } from '../api/types';
import { formatInteger, formatPercent } from '../lib/format';
import { Skeleton } from './common';

interface BarListProps {
  items: Count[] | undefined;
  /** Share denominator: the view's total. */
  total: number;
  renderKey?: (key: string) => ReactNode;
  /** Accessible name of the list. */
  label: string;
  limit?: number;
  emptyText?: string;
  testId?: string;
}

export function BarList({ items, total, renderKey = (k) => k, label, limit = 6, emptyText = 'No clicks yet', testId }: BarListProps) {
  const [expanded, setExpanded] = useState(false);
  // The box keeps the height of `limit` rows whatever the data, so live updates never move the page.
  const style = { minHeight: `calc(${limit} * var(--bar-row))` };
  if (!items) {
    return (
      <div className="bar-box" style={style} aria-busy="true">
        {Array.from({ length: 3 }, (_, i) => (
          <div className="bar-row" key={i}>
            <Skeleton height="1.6em" />
          </div>
        ))}
      </div>
    );
  }
  if (items.length === 0) {
    return (
      <div className="bar-box" style={style}>
        <p className="muted bar-empty">{emptyText}</p>
      </div>
    );
  }
  const shown = expanded ? items : items.slice(0, limit);
  const max = Math.max(1, ...items.map((i) => i.clicks));
  return (
    <div className="bar-box" style={style}>
      <ol className="bar-list" aria-label={label} data-testid={testId}>
        {shown.map((item) => (
          <li className="bar-row" key={item.key} data-key={item.key} data-clicks={item.clicks}>
            <span className="bar-fill" style={{ width: `${(item.clicks / max) * 100}%` }} aria-hidden="true" />
            <span className="bar-label">{renderKey(item.key)}</span>
            <span className="bar-value">
              {formatInteger(item.clicks)}
              <span className="bar-share"> · {formatPercent(item.clicks, total)}</span>
            </span>
          </li>
        ))}
      </ol>
      {items.length > limit && (
        <button type="button" className="link-button small-link" onClick={() => setExpanded((e) => !e)} aria-expanded={expanded}>
          {expanded ? 'Show fewer' : `Show all ${items.length}`}
        </button>
      )}
    </div>
  );
}
