// Overview: account-wide totals, clicks over time, top links and a live counter.
import { useCallback, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { BotsMode } from '../api/types';
import { BarList } from '../components/BarList';
import { ErrorState, Kpi, LiveBadge } from '../components/common';
import { Donut } from '../components/Donut';
import { LiveFeed } from '../components/LiveFeed';
import { RangeControls } from '../components/RangeControls';
import { TimeChart } from '../charts/Lazy';
import { useLiveStats } from '../hooks/useLiveStats';
import { useNow } from '../hooks/useNow';
import { keyCredential, useApiKey } from '../lib/auth';
import { countryName, flagEmoji, formatInteger, formatPercent, truncateMiddle } from '../lib/format';
import { DEFAULT_RANGE, type RangeState } from '../lib/range';
import { Link, linkPath } from '../router';
import { SignInForm } from './SignInPage';

const TOP_SHOWN = 5; // the box keeps room for this many rows, so data never moves the page

export function OverviewPage() {
  const apiKey = useApiKey();
  const credential = useMemo(() => keyCredential(apiKey), [apiKey]);
  const [range, setRange] = useState<RangeState>(DEFAULT_RANGE);
  const [bots, setBots] = useState<BotsMode>('exclude');
  const now = useNow(5_000);
  const [showAllTop, setShowAllTop] = useState(false);
  const fetchStats = useCallback(
    (q: Parameters<typeof api.accountStats>[0], signal: AbortSignal) => api.accountStats(q, credential, signal),
    [credential],
  );
  const { stats, error, status, recent, liveCount, refetch } = useLiveStats({
    fetchStats,
    liveUrl: apiKey ? api.accountLivePath : null,
    credential,
    range,
    bots,
    sourceKey: apiKey ?? '',
  });

  if (!apiKey) {
    return (
      <div className="narrow">
        <p className="muted">Sign in to see your account’s overview.</p>
        <SignInForm />
      </div>
    );
  }
  if (error && !stats) return <ErrorState error={error} onRetry={refetch} />;
  const total = stats?.total ?? 0;
  const allTop = stats?.top_links ?? [];
  const top = showAllTop ? allTop : allTop.slice(0, TOP_SHOWN);

  return (
    <div className="overview">
      <div className="page-head">
        <h1>Overview</h1>
        <LiveBadge status={status} />
      </div>
      <RangeControls range={range} onRange={setRange} bots={bots} onBots={setBots} />
      <section className="kpis" aria-label="Totals">
        <Kpi label="Clicks" value={<span data-testid="total">{formatInteger(total)}</span>} loading={!stats} />
        <Kpi label="Unique visitors" value={formatInteger(stats?.unique ?? 0)} loading={!stats} />
        <Kpi label="Bot clicks" value={formatInteger(stats?.bots ?? 0)} loading={!stats} />
        <Kpi
          label="Live"
          value={
            <span className={liveCount > 0 ? 'live-count pulse' : 'live-count'} key={liveCount} data-testid="live-count">
              +{formatInteger(liveCount)}
            </span>
          }
          hint="clicks since this page opened"
        />
      </section>
      <section className="card" aria-labelledby="over-time">
        <h2 id="over-time">Clicks over time</h2>
        {stats ? <TimeChart series={stats.timeseries} interval={stats.interval} /> : <div className="chart-placeholder skeleton" />}
      </section>
      <div className="grid-2">
        <section className="card span-2" aria-labelledby="top-links">
          <div className="card-head">
            <h2 id="top-links">Top links</h2>
            {allTop.length > TOP_SHOWN && (
              <button type="button" className="link-button small-link" onClick={() => setShowAllTop((s) => !s)} aria-expanded={showAllTop}>
                {showAllTop ? 'Show fewer' : `Show all ${allTop.length}`}
              </button>
            )}
          </div>
          <div className="top-box">
            {!stats ? (
              <div className="skeleton" style={{ height: '100%', minHeight: 'inherit' }} />
            ) : top.length === 0 ? (
              <p className="muted">No clicks in this range yet.</p>
            ) : (
              <table className="top-table">
                <thead>
                  <tr>
                    <th scope="col">Link</th>
                    <th scope="col" className="dest">
                      Destination
                    </th>
                    <th scope="col" className="num">
                      Clicks
                    </th>
                    <th scope="col" className="num">
                      Share
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {top.map((l) => (
                    <tr key={l.slug}>
                      <td>
                        <Link to={linkPath(l.slug)} className="slug">
                          /{l.slug}
                        </Link>
                      </td>
                      <td className="muted dest">{truncateMiddle(l.url, 60)}</td>
                      <td className="num">{formatInteger(l.clicks)}</td>
                      <td className="num">{formatPercent(l.clicks, total)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </section>
        <section className="card" aria-labelledby="countries">
          <h2 id="countries">Countries</h2>
          <BarList
            items={stats?.countries}
            total={total}
            label="Clicks by country"
            renderKey={(k) => `${flagEmoji(k) || '🌐'} ${countryName(k)}`}
          />
        </section>
        <section className="card" aria-labelledby="devices">
          <h2 id="devices">Devices</h2>
          <Donut items={stats?.devices} label="Clicks by device" />
        </section>
        <section className="card span-2" aria-labelledby="feed">
          <h2 id="feed">Latest clicks</h2>
          <LiveFeed clicks={recent} now={now} showSlug />
        </section>
      </div>
    </div>
  );
}
