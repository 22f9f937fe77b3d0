// Display formatting: numbers, dates, relative times, countries. Every function takes an optional
// locale (and time zone) so tests are deterministic; the app passes none and gets the browser's.
import type { Interval } from '../api/types';

export interface FormatOptions {
  locale?: string;
  timeZone?: string;
}

/** Milliseconds since the epoch for an RFC 3339 timestamp; NaN when it is not one. */
export function parseTime(text: string): number {
  // Date.parse is only specified for up to millisecond precision; the server sends microseconds.
  const match = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!match) return Number.NaN;
  const [, base, fraction = '', zone = 'Z'] = match;
  const millis = (fraction + '000').slice(0, 3);
  return Date.parse(`${base.replace(/[t ]/, 'T')}.${millis}${zone.toUpperCase()}`);
}

/** RFC 3339 in UTC with second precision: what the API accepts. */
export function toRfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function formatInteger(n: number, { locale }: FormatOptions = {}): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** Exact below 10,000, compact above ("12K", "3.4M") where space is short. */
export function formatCompact(n: number, { locale }: FormatOptions = {}): string {
  if (Math.abs(n) < 10_000) return formatInteger(n, { locale });
  return new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/** Share of a total as a whole percentage; "<1%" rather than a misleading 0. */
export function formatPercent(part: number, total: number, { locale }: FormatOptions = {}): string {
  if (total <= 0 || part <= 0) return new Intl.NumberFormat(locale, { style: 'percent' }).format(0);
  const share = part / total;
  if (share < 0.01) return `<${new Intl.NumberFormat(locale, { style: 'percent' }).format(0.01)}`;
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(share);
}

function toMs(t: string | number): number {
  return typeof t === 'number' ? t : parseTime(t);
}

export function formatDate(t: string | number, { locale, timeZone }: FormatOptions = {}): string {
  const ms = toMs(t);
  if (Number.isNaN(ms)) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(ms);
}

export function formatDateTime(t: string | number, { locale, timeZone }: FormatOptions = {}): string {
  const ms = toMs(t);
  if (Number.isNaN(ms)) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(ms);
}

export function formatTime(t: string | number, { locale, timeZone }: FormatOptions = {}): string {
  const ms = toMs(t);
  if (Number.isNaN(ms)) return '—';
  return new Intl.DateTimeFormat(locale, { timeStyle: 'medium', timeZone }).format(ms);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "42 seconds ago", "3 hours ago", "yesterday", "in 5 days"; a date past 30 days. */
export function formatRelative(t: string | number, now: number, options: FormatOptions = {}): string {
  const ms = toMs(t);
  if (Number.isNaN(ms)) return '—';
  const diff = ms - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(options.locale, { numeric: 'auto' });
  const sign = diff < 0 ? -1 : 1;
  if (abs < 10 * SECOND) return diff <= 0 ? 'just now' : rtf.format(Math.round(diff / SECOND), 'second');
  if (abs < MINUTE) return rtf.format(sign * Math.floor(abs / SECOND), 'second');
  if (abs < HOUR) return rtf.format(sign * Math.floor(abs / MINUTE), 'minute');
  if (abs < DAY) return rtf.format(sign * Math.floor(abs / HOUR), 'hour');
  if (abs < 30 * DAY) return rtf.format(sign * Math.floor(abs / DAY), 'day');
  return formatDate(ms, options);
}

/** Seconds as "45 s", "2 min", "1 h 5 min" (for Retry-After). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** Axis/tooltip label of a time bucket. */
export function formatBucket(t: string | number, interval: Interval, { locale, timeZone }: FormatOptions = {}): string {
  const ms = toMs(t);
  if (interval === 'day') return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone }).format(ms);
  return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone }).format(ms);
}

let regionNames: Map<string, Intl.DisplayNames> | undefined;

/** "US" -> "United States"; "unknown" -> "Unknown"; anything unrecognised is shown as given. */
export function countryName(code: string, { locale }: FormatOptions = {}): string {
  if (!code || code.toLowerCase() === 'unknown') return 'Unknown';
  regionNames ??= new Map();
  const key = locale ?? '';
  let names = regionNames.get(key);
  if (!names) {
    names = new Intl.DisplayNames(locale ? [locale] : undefined, { type: 'region', fallback: 'code' });
    regionNames.set(key, names);
  }
  try {
    return names.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** The flag emoji of an alpha-2 code (regional indicator symbols); "" for anything else. */
export function flagEmoji(code: string): string {
  if (!/^[A-Za-z]{2}$/.test(code)) return '';
  const base = 0x1f1e6 - 'A'.charCodeAt(0);
  const upper = code.toUpperCase();
  return String.fromCodePoint(base + upper.charCodeAt(0), base + upper.charCodeAt(1));
}

const LABELS: Record<string, string> = {
  unknown: 'Unknown',
  direct: 'Direct',
  desktop: 'Desktop',
  mobile: 'Mobile',
  tablet: 'Tablet',
  bot: 'Bot',
  other: 'Other',
};

/** Human label of a dimension value ("direct" -> "Direct"); hosts and names pass through. */
export function dimensionLabel(key: string): string {
  if (!key) return 'Unknown';
  return LABELS[key] ?? key;
}

/** Shortens the middle of a long URL, keeping its host and its end visible. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  const head = Math.ceil(keep * 0.6);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}

/** A datetime-local input's value (local wall time) for an instant. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The instant of a datetime-local input's value (local wall time); NaN when empty or invalid. */
export function fromLocalInput(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return Number.NaN;
  return new Date(value).getTime();
}
