// Links created in this browser, so an anonymous creator can find a stats link again.
import type { Link } from '../api/types';

const RECENT = 'shortener.recent';
const MAX = 10;

export type RecentLink = Pick<Link, 'slug' | 'short_url' | 'url' | 'stats_url' | 'created_at'>;

export function loadRecent(): RecentLink[] {
  try {
    const value = JSON.parse(localStorage.getItem(RECENT) ?? '[]') as unknown;
    return Array.isArray(value) ? (value as RecentLink[]).slice(0, MAX) : [];
  } catch {
    return [];
  }
}

export function saveRecent(links: RecentLink[]): void {
  try {
    localStorage.setItem(RECENT, JSON.stringify(links.slice(0, MAX)));
  } catch {
    // Storage unavailable or full: the list is a convenience only.
  }
}

export function rememberLink(link: Link): RecentLink[] {
  const entry: RecentLink = {
    slug: link.slug,
    short_url: link.short_url,
    url: link.url,
    stats_url: link.stats_url,
    created_at: link.created_at,
  };
  const next = [entry, ...loadRecent().filter((l) => l.short_url !== link.short_url)].slice(0, MAX);
  saveRecent(next);
  return next;
}
