// Link analytics: totals, clicks over time, map, breakdowns and a live feed, all moving in real
// time. Reachable with the account's API key or with the link's stats token (#token=...).
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, api, type Credential } from '../api/client';
import type { BotsMode, Link as LinkT } from '../api/types';
import { BarList } from '../components/BarList';
import { CopyButton, ErrorState, Kpi, LiveBadge, Skeleton } from '../components/common';
import { Donut } from '../components/Donut';
import { DeleteLinkDialog, EditLinkDialog } from '../components/LinkDialogs';
import { LiveFeed } from '../components/LiveFeed';
import { QrCode, download } from '../components/QrCode';
import { RangeControls } from '../components/RangeControls';
import { TimeChart, WorldMap } from '../charts/Lazy';
import { useLiveStats } from '../hooks/useLiveStats';
import { useNow } from '../hooks/useNow';
import { keyCredential, tokenFromHash, useApiKey } from '../lib/auth';
import { countryName, dimensionLabel, flagEmoji, formatDateTime, formatInteger, formatRelative } from '../lib/format';
import { DEFAULT_RANGE, type RangeState } from '../lib/range';
import { navigate, useLocation } from '../router';

function CountryLabel({ code }: { code: string }) {
  return (
    <>
      <span aria-hidden="true">{flagEmoji(code) || '🌐'} </span>
      {countryName(code)}
    </>
  );
}

export function LinkAnalyticsPage({ slug }: { slug: string }) {
  const { hash } = useLocation();
  const apiKey = useApiKey();
  const token = tokenFromHash(hash);
  // The stats token always works for its own link; the API key also unlocks editing.
  const statsCredential: Credential = useMemo(() => (token ? { kind: 'token', token } : keyCredential(apiKey)), [token, apiKey]);
  const keyCred = useMemo(() => keyCredential(apiKey), [apiKey]);
  const [link, setLink] = useState<LinkT | null>(null);
  const [linkError, setLinkError] = useState<ApiError | null>(null);
  const [range, setRange] = useState<RangeState>(DEFAULT_RANGE);
  const [bots, setBots] = useState<BotsMode>('exclude');
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [showQr, setShowQr] = useState(false);
  const [csvError, setCsvError] = useState<ApiError | null>(null);
  const now = useNow(5_000);

  useEffect(() => {
    setLink(null);
    setLinkError(null);
    if (!keyCred) return;
    const controller = new AbortController();
    api.getLink(slug, keyCred, controller.signal).then(setLink, (e: unknown) => {
      if (!controller.signal.aborted && e instanceof ApiError) setLinkError(e);
    });
    return () => controller.abort();
  }, [slug, keyCred]);

  const fetchStats = useCallback(
    (q: Parameters<typeof api.linkStats>[1], signal: AbortSignal) => api.linkStats(slug, q, statsCredential, signal),
    [slug, statsCredential],
  );
  const secret = statsCredential ? (statsCredential.kind === 'key' ? statsCredential.key : statsCredential.token) : '';
  const { stats, loading, error, status, recent, refetch } = useLiveStats({
    fetchStats,
    liveUrl: statsCredential ? api.linkLivePath(slug) : null,
    credential: statsCredential,
    range,
    bots,
    sourceKey: `${slug}\n${secret}`,
  });

  if (!statsCredential) {
    return (
      <div className="narrow">
        <h1>/{slug}</h1>
        <ErrorState
          error={
            new ApiError(401, { detail: 'Sign in with your API key, or open the private stats link you got when the link was created.' })
          }
        />
      </div>
    );
  }
  if (error && !stats) {
    return (
      <div className="narrow">
        <h1>/{slug}</h1>
        <ErrorState error={error} onRetry={refetch}>
          {error.status === 404 && (
            <button type="button" className="button" onClick={() => navigate('/dashboard')}>
              Back to links
            </button>
          )}
        </ErrorState>
      </div>
    );
  }

  const shortUrl = link?.short_url ?? `${window.location.origin}/${slug}`;
  const destination = link?.url ?? stats?.url;
  const total = stats?.total ?? 0;
  const lastClick = recent.find((c) => bots === 'include' || !c.bot);

  const exportCsv = async () => {
    setCsvError(null);
    try {
      download(`${slug}-clicks.csv`, await api.clicksCsv(slug, statsCredential));
    } catch (e) {
      if (e instanceof ApiError) setCsvError(e);
    }
  };

  return (
    <div className="analytics">
      <div className="page-head">
        <div className="title-block">
          <h1 className="slug-title">/{slug}</h1>
          <p className="row">
            <a href={shortUrl} target="_blank" rel="noreferrer" className="mono">
              {shortUrl.replace(/^https?:\/\//, '')}
            </a>
            <CopyButton text={shortUrl} label="Copy" className="button tiny" />
          </p>
          {/* Lines are reserved while the link loads, so nothing below moves when it arrives. */}
          {(keyCred || destination) && (
            <p className="muted break dest-line">
              {destination ? `→ ${destination}` : linkError ? '' : <Skeleton width="min(60%, 28rem)" />}
            </p>
          )}
          {keyCred && (
            <p className="hint meta-line">
              {link ? (
                <>
                  {link.title && <strong className="dest-title-inline">{link.title} · </strong>}
                  Created {formatRelative(link.created_at, now)}
                  {link.expires_at && ` · expires ${formatRelative(link.expires_at, now)}`}
                </>
              ) : linkError ? (
                token ? (
                  'Viewing with the stats link.'
                ) : (
                  'Link details unavailable.'
                )
              ) : (
                <Skeleton width="min(40%, 16rem)" />
              )}
            </p>
          )}
        </div>
        <div className="row actions">
          <LiveBadge status={status} />
          <button type="button" className="button" onClick={() => setShowQr((s) => !s)} aria-expanded={showQr}>
            QR code
          </button>
          <button type="button" className="button" onClick={exportCsv}>
            Export CSV
          </button>
          {keyCred && !linkError && (
            <>
              <button type="button" className="button" onClick={() => setEditing(true)} disabled={!link}>
                Edit
              </button>
              <button type="button" className="button danger-outline" onClick={() => setDeleting(true)} disabled={!link}>
                Delete
              </button>
            </>
          )}
        </div>
      </div>
      {csvError && <ErrorState error={csvError} />}
      {showQr && (
        <div className="card qr-card">
          <QrCode text={shortUrl} name={`qr-${slug}`} size={200} />
        </div>
      )}

      <RangeControls range={range} onRange={setRange} bots={bots} onBots={setBots} />
      {error && stats && (
        <p className="inline-error" role="alert">
          Could not refresh: {error.detail || error.title}. Showing the last data.
        </p>
      )}

      <section className="kpis" aria-label="Totals" aria-busy={loading && !stats}>
        <Kpi
          label="Clicks"
          value={<span data-testid="total">{formatInteger(total)}</span>}
          loading={!stats}
          hint={bots === 'include' ? 'bots included' : 'humans'}
        />
        <Kpi
          label="Unique visitors"
          value={<span data-testid="unique">{formatInteger(stats?.unique ?? 0)}</span>}
          loading={!stats}
          hint="sum of daily uniques"
        />
        <Kpi
          label="Bot clicks"
          value={<span data-testid="bots">{formatInteger(stats?.bots ?? 0)}</span>}
          loading={!stats}
          hint={bots === 'include' ? 'in the total' : 'not in the total'}
        />
        <Kpi
          label="Last click"
          value={lastClick ? formatRelative(lastClick.t, Math.max(now, Date.now())) : '—'}
          loading={!stats}
          hint={lastClick ? formatDateTime(lastClick.t) : 'since this page opened'}
        />
      </section>

      <section className="card" aria-labelledby="over-time">
        <h2 id="over-time">Clicks over time</h2>
        {stats ? <TimeChart series={stats.timeseries} interval={stats.interval} /> : <div className="chart-placeholder skeleton" />}
      </section>

      <div className="grid-2">
        <section className="card span-2 map-card" aria-labelledby="where">
          <h2 id="where">Where</h2>
          <div className="map-layout">
            {stats ? <WorldMap countries={stats.countries} /> : <div className="world-map skeleton" style={{ aspectRatio: '960 / 426' }} />}
            <div>
              <h3>Top countries</h3>
              <BarList
                items={stats?.countries}
                total={total}
                label="Clicks by country"
                renderKey={(k) => <CountryLabel code={k} />}
                testId="countries"
              />
            </div>
          </div>
        </section>
        <section className="card" aria-labelledby="cities">
          <h2 id="cities">Cities</h2>
          <BarList
            items={stats?.cities}
            total={total}
            label="Clicks by city"
            renderKey={dimensionLabel}
            testId="cities"
            emptyText="No city data (the city database is optional)"
          />
        </section>
        <section className="card" aria-labelledby="referrers">
          <h2 id="referrers">Referrers</h2>
          <BarList items={stats?.referrers} total={total} label="Clicks by referrer" renderKey={dimensionLabel} testId="referrers" />
        </section>
        <section className="card" aria-labelledby="devices">
          <h2 id="devices">Devices</h2>
          <Donut items={stats?.devices} label="Clicks by device" testId="devices" />
        </section>
        <section className="card" aria-labelledby="browsers">
          <h2 id="browsers">Browsers</h2>
          <BarList items={stats?.browsers} total={total} label="Clicks by browser" renderKey={dimensionLabel} testId="browsers" />
        </section>
        <section className="card" aria-labelledby="os">
          <h2 id="os">Operating systems</h2>
          <BarList items={stats?.os} total={total} label="Clicks by operating system" renderKey={dimensionLabel} testId="os" />
        </section>
        <section className="card" aria-labelledby="feed">
          <h2 id="feed">Latest clicks</h2>
          <LiveFeed clicks={recent} now={now} />
        </section>
      </div>

      {link && (
        <>
          <EditLinkDialog
            link={editing ? link : null}
            credential={keyCred}
            onClose={() => setEditing(false)}
            onSaved={(saved) => {
              setLink(saved);
              setEditing(false);
            }}
          />
          <DeleteLinkDialog
            link={deleting ? link : null}
            credential={keyCred}
            onClose={() => setDeleting(false)}
            onDeleted={() => navigate('/dashboard')}
          />
        </>
      )}
    </div>
  );
}
