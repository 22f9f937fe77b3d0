// Time ranges of the analytics pages and the stats query they become.
import type { Interval } from '../api/types';
import { toRfc3339 } from './format';

export type RangeKey = '1h' | '24h' | '7d' | '30d' | 'custom';

export interface RangeState {
  key: RangeKey;
  interval: Interval;
  /** Custom range bounds (ms). */
  from?: number;
  to?: number;
}

export const RANGE_PRESETS: { key: Exclude<RangeKey, 'custom'>; label: string; ms: number; interval: Interval }[] = [
  { key: '1h', label: '1 h', ms: 3_600_000, interval: 'minute' },
  { key: '24h', label: '24 h', ms: 86_400_000, interval: 'hour' },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000, interval: 'hour' },
  { key: '30d', label: '30 d', ms: 30 * 86_400_000, interval: 'day' },
];

export const DEFAULT_RANGE: RangeState = { key: '7d', interval: 'hour' };

/** Intervals worth offering for a span: at least 2 and at most ~1,500 buckets. */
export function intervalsFor(spanMs: number): Interval[] {
  const all: [Interval, number][] = [
    ['minute', 60_000],
    ['hour', 3_600_000],
    ['day', 86_400_000],
  ];
  const fit = all.filter(([, step]) => spanMs / step <= 1500 && spanMs / step >= 2).map(([i]) => i);
  return fit.length ? fit : ['day'];
}

export function spanOf(range: RangeState, now: number): number {
  if (range.key === 'custom') return Math.max(60_000, (range.to ?? now) - (range.from ?? now - 86_400_000));
  return RANGE_PRESETS.find((p) => p.key === range.key)!.ms;
}

/** Whether the range ends now, so live clicks belong in it. */
export function isLive(range: RangeState, now: number): boolean {
  return range.key !== 'custom' || range.to === undefined || range.to >= now;
}

export function rangeQuery(range: RangeState, now: number): { from: string; to?: string; interval: Interval } {
  if (range.key === 'custom') {
    const to = range.to ?? now;
    const from = range.from ?? to - 86_400_000;
    return { from: toRfc3339(from), ...(range.to !== undefined ? { to: toRfc3339(to) } : {}), interval: range.interval };
  }
  // No `to`: the server answers up to its own "now", which is what live clicks are compared with.
  return { from: toRfc3339(now - spanOf(range, now)), interval: range.interval };
}
