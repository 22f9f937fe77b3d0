// A stats view that moves in real time: the last stats answer (base) + click events from the
// SSE stream folded in by applyClicks (which events count: see liveClicks in lib/shape.ts). The base is refetched when the query changes, after a
// stream reconnect (events may have been missed), and every minute while the tab is visible,
// which keeps the view exact even if an event was lost.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type Credential } from '../api/client';
import type { BotsMode, ClickEvent, Stats } from '../api/types';
import { isLive, rangeQuery, type RangeState } from '../lib/range';
import { applyClicks, liveClicks, liveThreshold, pushRecent, type ReceivedClick } from '../lib/shape';
import { useLive } from './useLive';

const RECONCILE_MS = 60_000;
const FEED_SIZE = 50;
const MAX_PENDING = 20_000; // events kept for folding; a refetch prunes them long before this

export interface LiveStatsOptions {
  fetchStats: (query: ReturnType<typeof rangeQuery> & { bots: BotsMode }, signal: AbortSignal) => Promise<Stats>;
  liveUrl: string | null;
  credential: Credential;
  range: RangeState;
  bots: BotsMode;
  /** Changes when the stats source changes (another slug or credential). */
  sourceKey: string;
}

interface Base {
  stats: Stats;
  requestedAt: number;
  after: number;
  live: boolean;
  bots: BotsMode;
}

export function useLiveStats({ fetchStats, liveUrl, credential, range, bots, sourceKey }: LiveStatsOptions) {
  const [base, setBase] = useState<Base | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [pending, setPending] = useState<ReceivedClick[]>([]);
  const [recent, setRecent] = useState<ClickEvent[]>([]);
  const [liveCount, setLiveCount] = useState(0);
  const [generation, setGeneration] = useState(0);
  const fetcher = useRef(fetchStats);
  fetcher.current = fetchStats;

  const refetch = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    setBase(null);
    setPending([]);
    setRecent([]);
    setLiveCount(0);
  }, [sourceKey]);

  useEffect(() => {
    const controller = new AbortController();
    const now = Date.now();
    setLoading(true);
    fetcher
      .current({ ...rangeQuery(range, now), bots }, controller.signal)
      .then((stats) => {
        const after = liveThreshold(stats, Date.now());
        setBase({ stats, requestedAt: now, after, live: isLive(range, now), bots });
        setPending((events) => events.filter((e) => e.receivedAt > now));
        setError(null);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        setError(e instanceof ApiError ? e : new ApiError(0, { title: 'Unexpected error', detail: String(e) }));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [sourceKey, range, bots, generation]);

  // Keep the snapshot honest while the page stays open.
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') refetch();
    }, RECONCILE_MS);
    return () => clearInterval(timer);
  }, [refetch]);

  const status = useLive({
    url: error && (error.status === 401 || error.status === 404) ? null : liveUrl,
    credential,
    onClick: (click) => {
      const entry = { click, receivedAt: Date.now() };
      setPending((events) => (events.length >= MAX_PENDING ? [...events.slice(1), entry] : [...events, entry]));
      setRecent((list) => pushRecent(list, click, FEED_SIZE));
      if (!click.bot) setLiveCount((n) => n + 1);
    },
    onReconnect: refetch,
  });

  const stats = useMemo(() => {
    if (!base) return null;
    if (!base.live) return base.stats; // a range in the past: live clicks do not belong to it
    return applyClicks(base.stats, liveClicks(pending, base.requestedAt, base.after), {
      bots: base.bots,
      after: base.after,
      extendSeries: true,
      slide: true,
    });
  }, [base, pending]);

  return { stats, loading, error, status, recent, liveCount, refetch, live: base?.live ?? true };
}
