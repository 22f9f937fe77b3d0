// Data shaping for the live dashboard: folds click events from the SSE stream into a stats
// answer, so counters, chart, map and breakdowns move without refetching. Pure functions only.
//
// How a live view stays exact: the page keeps the last stats answer (`base`) and the click events
// received since. The server publishes a click only after its rollups are committed, so an event
// that reached the page before the stats request left is already in the answer; of the others,
// only those newer than the answer's `to` are added (see liveClicks), each once by id. A periodic
// refetch moves `base` forward and drops the events it now counts.
import type { Bucket, BotsMode, ClickEvent, Count, Dimension, Interval, Stats, TopLink } from '../api/types';
import { parseTime } from './format';

export const INTERVAL_MS: Record<Interval, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** The value a click adds to each breakdown. One place decides the keys (see the report on cities). */
export function dimensionKeys(click: ClickEvent): Record<Dimension, string> {
  return {
    countries: click.country || 'unknown',
    cities: click.city || 'unknown',
    referrers: click.referrer || 'direct',
    devices: click.device || 'other',
    browsers: click.browser || 'unknown',
    os: click.os || 'unknown',
  };
}

/** Adds `by` to `key`, keeping the list sorted by clicks (descending; ties keep their order). */
export function bumpCount(list: Count[], key: string, by = 1): Count[] {
  const index = list.findIndex((c) => c.key === key);
  const next = index < 0 ? [...list, { key, clicks: by }] : list.map((c, i) => (i === index ? { key, clicks: c.clicks + by } : c));
  // Array.prototype.sort is stable, so equal counts keep their previous order.
  return next.sort((a, b) => b.clicks - a.clicks);
}

function bumpTopLinks(list: TopLink[], slug: string): TopLink[] {
  const index = list.findIndex((l) => l.slug === slug);
  const next = index < 0 ? [...list, { slug, url: '', clicks: 1 }] : list.map((l, i) => (i === index ? { ...l, clicks: l.clicks + 1 } : l));
  return next.sort((a, b) => b.clicks - a.clicks);
}

export interface SeriesOptions {
  /** Keep the number of buckets: appending at the end drops as many at the start (rolling ranges). */
  slide?: boolean;
}

/**
 * Adds one click at `tMs` to a series of equal buckets (each `t` is a bucket's start). A click after
 * the last bucket appends zero-filled buckets up to its own; one before the first is ignored.
 */
export function addToSeries(series: Bucket[], interval: Interval, tMs: number, unique: boolean, options: SeriesOptions = {}): Bucket[] {
  const step = INTERVAL_MS[interval];
  const u = unique ? 1 : 0;
  if (series.length === 0) {
    return [{ t: new Date(Math.floor(tMs / step) * step).toISOString(), clicks: 1, unique: u }];
  }
  const first = parseTime(series[0].t);
  const index = Math.floor((tMs - first) / step);
  if (index < 0 || Number.isNaN(index)) return series;
  if (index < series.length) {
    return series.map((b, i) => (i === index ? { t: b.t, clicks: b.clicks + 1, unique: b.unique + u } : b));
  }
  const next = series.slice();
  for (let i = series.length; i <= index; i++) {
    next.push({ t: new Date(first + i * step).toISOString(), clicks: i === index ? 1 : 0, unique: i === index ? u : 0 });
  }
  return options.slide ? next.slice(next.length - series.length) : next;
}

/**
 * The instant after which clicks are not yet in a stats answer: its `to`, or the moment the answer
 * arrived when `to` lies later (a server may round `to` up to the end of a bucket).
 */
export function liveThreshold(stats: Pick<Stats, 'to'>, receivedAt: number): number {
  const to = parseTime(stats.to);
  return Number.isNaN(to) ? receivedAt : Math.min(to, receivedAt);
}

export interface ApplyOptions {
  bots: BotsMode;
  /** Only clicks strictly after this instant (ms) are added; see liveThreshold. */
  after: number;
  /** Extend the time series (rolling ranges that end "now"); otherwise only counters move. */
  extendSeries?: boolean;
  slide?: boolean;
}

/** base + the given click events (deduplicated by id), as a new stats object. */
export function applyClicks(base: Stats, clicks: readonly ClickEvent[], options: ApplyOptions): Stats {
  let out: Stats = base;
  const seen = new Set<string>();
  for (const click of clicks) {
    if (seen.has(click.id)) continue;
    seen.add(click.id);
    const t = parseTime(click.t);
    if (!(t > options.after)) continue;
    if (out === base) out = { ...base };
    if (click.bot) {
      out.bots += 1;
      if (options.bots === 'exclude') continue;
    }
    out.total += 1;
    if (click.unique) out.unique += 1;
    if (options.extendSeries !== false)
      out.timeseries = addToSeries(out.timeseries, out.interval, t, click.unique, { slide: options.slide });
    const keys = dimensionKeys(click);
    for (const dimension of Object.keys(keys) as Dimension[]) out[dimension] = bumpCount(out[dimension] ?? [], keys[dimension]);
    if (out.top_links) out.top_links = bumpTopLinks(out.top_links, click.slug);
  }
  return out;
}

/** A click event and when this page received it (ms, the page's clock). */
export interface ReceivedClick {
  click: ClickEvent;
  receivedAt: number;
}

/**
 * The events a stats answer does not count yet: received after its request was sent (earlier ones
 * were committed before the query ran) and newer than its `to` (`after`, see liveThreshold).
 */
export function liveClicks(received: readonly ReceivedClick[], requestedAt: number, after: number): ClickEvent[] {
  return received.filter((r) => r.receivedAt > requestedAt && parseTime(r.click.t) > after).map((r) => r.click);
}

/** Newest-first list of recent clicks, without duplicates, at most `cap` long. */
export function pushRecent(recent: readonly ClickEvent[], click: ClickEvent, cap: number): ClickEvent[] {
  if (recent.some((c) => c.id === click.id)) return recent as ClickEvent[];
  return [click, ...recent].slice(0, cap);
}

/** Clicks per bucket, for sparklines. */
export function seriesValues(series: readonly Bucket[]): number[] {
  return series.map((b) => b.clicks);
}

/** Sum of a breakdown (for shares) — equals total unless the server truncates the list. */
export function sumCounts(list: readonly Count[]): number {
  return list.reduce((sum, c) => sum + c.clicks, 0);
}
