// Shapes of the shortener's JSON API (docs/api.md; issues 2 and 3).

export interface Link {
  slug: string;
  short_url: string;
  url: string;
  title: string;
  created_at: string;
  expires_at: string | null;
  stats_url: string;
}

export interface LinkPage {
  links: Link[];
  next_cursor: string | null;
}

export interface CreateLinkInput {
  url: string;
  slug?: string;
  expires_at?: string;
  title?: string;
}

export interface LinkPatch {
  url?: string;
  title?: string;
  expires_at?: string | null;
}

export type Interval = 'minute' | 'hour' | 'day';
export type BotsMode = 'include' | 'exclude';

export interface Bucket {
  t: string;
  clicks: number;
  unique: number;
}

export interface Count {
  key: string;
  clicks: number;
}

export interface TopLink {
  slug: string;
  url: string;
  clicks: number;
}

export interface Stats {
  slug?: string;
  /** Present when the server includes it (not part of the documented contract). */
  url?: string;
  from: string;
  to: string;
  interval: Interval;
  total: number;
  unique: number;
  bots: number;
  timeseries: Bucket[];
  countries: Count[];
  cities: Count[];
  referrers: Count[];
  devices: Count[];
  browsers: Count[];
  os: Count[];
  top_links?: TopLink[];
}

/** Dimensions of a stats answer that live clicks feed. */
export const DIMENSIONS = ['countries', 'cities', 'referrers', 'devices', 'browsers', 'os'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** One enriched click as sent by the live SSE streams (`event: click`). */
export interface ClickEvent {
  id: string;
  slug: string;
  t: string;
  country: string;
  region: string;
  city: string;
  referrer: string;
  device: string;
  browser: string;
  browser_version: string;
  os: string;
  bot: boolean;
  bot_reason: string;
  unique: boolean;
}

/** RFC 9457 problem details, as every /api error answers. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
}
