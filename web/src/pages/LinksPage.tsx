// Links: the account's links with clicks and a trend line, search, sort, pagination, edit and
// delete. The API lists links newest first by cursor; this page loads them all (up to MAX_LOADED)
// so that search and sort cover the whole account, then pages through them locally.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api, type Credential } from '../api/client';
import type { ClickEvent, Link as LinkT } from '../api/types';
import { CopyButton, EmptyState, ErrorState, LiveBadge, Skeleton, Sparkline } from '../components/common';
import { DeleteLinkDialog, EditLinkDialog } from '../components/LinkDialogs';
import { useLive } from '../hooks/useLive';
import { useNow } from '../hooks/useNow';
import { keyCredential, useApiKey } from '../lib/auth';
import { formatDateTime, formatInteger, formatRelative, truncateMiddle } from '../lib/format';
import { Link, linkPath } from '../router';
import { SignInForm } from './SignInPage';

const PAGE_SIZE = 20;
const FETCH_SIZE = 100;
const MAX_LOADED = 1000;
const STATS_CONCURRENCY = 4;
const SPARK_BUCKETS = 30;

type Sort = 'newest' | 'oldest' | 'clicks' | 'fewest';

interface RowStats {
  total: number;
  spark: number[];
}

function useAllLinks(credential: Credential) {
  const [links, setLinks] = useState<LinkT[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [generation, setGeneration] = useState(0);

  const loadPages = useCallback(
    async (start: string | null, budget: number, signal?: AbortSignal) => {
      const out: LinkT[] = [];
      let next = start;
      do {
        const page = await api.listLinks(credential, FETCH_SIZE, next, signal);
        out.push(...page.links);
        next = page.next_cursor;
      } while (next && out.length < budget);
      return { links: out, next };
    },
    [credential],
  );

  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    loadPages(null, MAX_LOADED, controller.signal).then(
      ({ links: all, next }) => {
        setLinks(all);
        setCursor(next);
      },
      (e: unknown) => {
        if (!controller.signal.aborted) setError(e instanceof ApiError ? e : new ApiError(0, { title: String(e) }));
      },
    );
    return () => controller.abort();
  }, [loadPages, generation]);

  const loadMore = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const { links: more, next } = await loadPages(cursor, MAX_LOADED);
      setLinks((l) => [...(l ?? []), ...more]);
      setCursor(next);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, { title: String(e) }));
    } finally {
      setLoadingMore(false);
    }
  };

  return { links, setLinks, cursor, error, loadMore, loadingMore, reload: () => setGeneration((g) => g + 1) };
}

/** Clicks and trend per link, fetched for the slugs in view, a few at a time. */
function useRowStats(links: LinkT[] | null, needed: string[], credential: Credential) {
  const [rows, setRows] = useState<Record<string, RowStats | 'error'>>({});
  const requested = useRef(new Set<string>());
  const created = useMemo(() => new Map((links ?? []).map((l) => [l.slug, l.created_at])), [links]);
  const neededKey = needed.join('\n');

  useEffect(() => {
    const todo = needed.filter((slug) => !requested.current.has(slug) && created.has(slug));
    if (todo.length === 0) return;
    for (const slug of todo) requested.current.add(slug);
    let next = 0;
    let cancelled = false;
    const worker = async () => {
      while (!cancelled && next < todo.length) {
        const slug = todo[next++];
        try {
          const stats = await api.linkStats(slug, { from: created.get(slug), interval: 'day', bots: 'exclude' }, credential);
          setRows((r) => ({ ...r, [slug]: { total: stats.total, spark: stats.timeseries.slice(-SPARK_BUCKETS).map((b) => b.clicks) } }));
        } catch {
          setRows((r) => ({ ...r, [slug]: 'error' }));
        }
      }
    };
    for (let i = 0; i < STATS_CONCURRENCY; i++) void worker();
    return () => {
      cancelled = true;
      for (const slug of todo.slice(next)) requested.current.delete(slug);
    };
    // `neededKey` stands for `needed` (a new array every render).
  }, [neededKey, created, credential]);

  const bump = useCallback((click: ClickEvent) => {
    if (click.bot) return;
    setRows((r) => {
      const row = r[click.slug];
      if (!row || row === 'error') return r;
      const spark = row.spark.length ? [...row.spark.slice(0, -1), row.spark[row.spark.length - 1] + 1] : [1];
      return { ...r, [click.slug]: { total: row.total + 1, spark } };
    });
  }, []);

  return { rows, bump };
}

function compare(sort: Sort, rows: Record<string, RowStats | 'error'>) {
  const clicks = (l: LinkT) => {
    const row = rows[l.slug];
    return row && row !== 'error' ? row.total : -1;
  };
  return (a: LinkT, b: LinkT) => {
    switch (sort) {
      case 'newest':
        return b.created_at.localeCompare(a.created_at);
      case 'oldest':
        return a.created_at.localeCompare(b.created_at);
      case 'clicks':
        return clicks(b) - clicks(a) || b.created_at.localeCompare(a.created_at);
      case 'fewest':
        return clicks(a) - clicks(b) || b.created_at.localeCompare(a.created_at);
    }
  };
}

export function LinksPage() {
  const apiKey = useApiKey();
  const credential = useMemo(() => keyCredential(apiKey), [apiKey]);
  if (!apiKey) {
    return (
      <div className="narrow">
        <p className="muted">Sign in to see your links.</p>
        <SignInForm />
      </div>
    );
  }
  return <LinksView key={apiKey} credential={credential} />;
}

function LinksView({ credential }: { credential: Credential }) {
  const { links, setLinks, cursor, error, loadMore, loadingMore, reload } = useAllLinks(credential);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<Sort>('newest');
  const [page, setPage] = useState(0);
  const [editing, setEditing] = useState<LinkT | null>(null);
  const [deleting, setDeleting] = useState<LinkT | null>(null);
  const [notice, setNotice] = useState('');
  const now = useNow(30_000);

  const filtered = useMemo(() => {
    const q = query.trim().toLowerCase();
    const all = links ?? [];
    return q
      ? all.filter((l) => l.slug.toLowerCase().includes(q) || l.url.toLowerCase().includes(q) || l.title.toLowerCase().includes(q))
      : all;
  }, [links, query]);

  const byClicks = sort === 'clicks' || sort === 'fewest';
  const pageCount = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const safePage = Math.min(page, pageCount - 1);
  const dateSorted = useMemo(() => (byClicks ? filtered : [...filtered].sort(compare(sort, {}))), [filtered, sort, byClicks]);
  // Sorting by clicks needs the clicks of every matching link, not only those on screen.
  const needed = (byClicks ? filtered : dateSorted.slice(safePage * PAGE_SIZE, (safePage + 1) * PAGE_SIZE)).map((l) => l.slug);
  const { rows, bump } = useRowStats(links, needed, credential);
  const status = useLive({ url: api.accountLivePath, credential, onClick: bump });
  const sorted = useMemo(
    () => (byClicks ? [...filtered].sort(compare(sort, rows)) : dateSorted),
    [byClicks, filtered, sort, rows, dateSorted],
  );
  const visible = sorted.slice(safePage * PAGE_SIZE, (safePage + 1) * PAGE_SIZE);
  const counting = byClicks ? filtered.filter((l) => !rows[l.slug]).length : 0;

  if (error && !links) return <ErrorState error={error} onRetry={reload} />;

  return (
    <div className="links-page">
      <div className="page-head">
        <h1>Links</h1>
        <div className="row">
          <LiveBadge status={status} />
          <Link to="/" className="button primary">
            New link
          </Link>
        </div>
      </div>
      <div className="toolbar">
        <label className="search">
          <span className="visually-hidden">Search links</span>
          <input
            type="search"
            placeholder="Search by slug, URL or title"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setPage(0);
            }}
          />
        </label>
        <label className="inline-field">
          <span>Sort</span>
          <select
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as Sort);
              setPage(0);
            }}
          >
            <option value="newest">Newest first</option>
            <option value="oldest">Oldest first</option>
            <option value="clicks">Most clicks</option>
            <option value="fewest">Fewest clicks</option>
          </select>
        </label>
      </div>
      <p className="visually-hidden" role="status">
        {notice}
      </p>
      {counting > 0 && <p className="hint">Counting clicks… {formatInteger(counting)} links to go.</p>}
      {!links ? (
        <div className="card">
          {Array.from({ length: 5 }, (_, i) => (
            <div key={i} className="skeleton-row">
              <Skeleton height="2.5em" />
            </div>
          ))}
        </div>
      ) : links.length === 0 ? (
        <EmptyState title="No links yet">
          <Link to="/" className="button primary">
            Shorten your first link
          </Link>
        </EmptyState>
      ) : filtered.length === 0 ? (
        <EmptyState title={`No links match “${query}”`} />
      ) : (
        <div className="card table-card">
          <table className="links-table" data-testid="links-table">
            <caption className="visually-hidden">Your links, {sort === 'newest' ? 'newest first' : `sorted by ${sort}`}</caption>
            <thead>
              <tr>
                <th scope="col">Link</th>
                <th scope="col">Destination</th>
                <th scope="col">Created</th>
                <th scope="col" className="num">
                  Clicks
                </th>
                <th scope="col">Trend</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {visible.map((link) => {
                const row = rows[link.slug];
                const expired = link.expires_at !== null && Date.parse(link.expires_at) <= now;
                return (
                  <tr key={link.slug} data-slug={link.slug}>
                    <td data-label="Link">
                      <Link to={linkPath(link.slug)} className="slug">
                        /{link.slug}
                      </Link>
                      {expired && <span className="badge warn">expired</span>}
                      <CopyButton text={link.short_url} label="Copy" className="button tiny" />
                    </td>
                    <td data-label="Destination" className="dest">
                      {link.title && <span className="dest-title">{link.title}</span>}
                      <a href={link.url} target="_blank" rel="noreferrer" className="muted" title={link.url}>
                        {truncateMiddle(link.url, 60)}
                      </a>
                    </td>
                    <td data-label="Created">
                      <time dateTime={link.created_at} title={formatDateTime(link.created_at)}>
                        {formatRelative(link.created_at, now)}
                      </time>
                    </td>
                    <td data-label="Clicks" className="num" data-testid="row-clicks">
                      {row === undefined ? <Skeleton width="3ch" height="1.5em" /> : row === 'error' ? '—' : formatInteger(row.total)}
                    </td>
                    <td data-label="Trend">
                      {row && row !== 'error' ? <Sparkline values={row.spark} /> : <Skeleton width="96px" height="24px" />}
                    </td>
                    <td className="actions">
                      <button type="button" className="button small" onClick={() => setEditing(link)} aria-label={`Edit /${link.slug}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button small danger-outline"
                        onClick={() => setDeleting(link)}
                        aria-label={`Delete /${link.slug}`}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {links && filtered.length > PAGE_SIZE && (
        <nav className="pager" aria-label="Pages">
          <button type="button" className="button" onClick={() => setPage(safePage - 1)} disabled={safePage === 0}>
            Previous
          </button>
          <span>
            Page {safePage + 1} of {pageCount}
          </span>
          <button type="button" className="button" onClick={() => setPage(safePage + 1)} disabled={safePage >= pageCount - 1}>
            Next
          </button>
        </nav>
      )}
      {cursor && (
        <p className="center">
          <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load older links'}
          </button>
        </p>
      )}
      {error && links && <ErrorState error={error} onRetry={reload} />}
      <EditLinkDialog
        link={editing}
        credential={credential}
        onClose={() => setEditing(null)}
        onSaved={(saved) => {
          setLinks((all) => (all ?? []).map((l) => (l.slug === saved.slug ? saved : l)));
          setEditing(null);
          setNotice(`Saved /${saved.slug}`);
        }}
      />
      <DeleteLinkDialog
        link={deleting}
        credential={credential}
        onClose={() => setDeleting(null)}
        onDeleted={(slug) => {
          setLinks((all) => (all ?? []).filter((l) => l.slug !== slug));
          setDeleting(null);
          setNotice(`Deleted /${slug}`);
        }}
      />
    </div>
  );
}
