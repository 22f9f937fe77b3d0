// The latest clicks as they arrive from the live stream.
import type { ClickEvent } from '../api/types';
import { countryName, dimensionLabel, flagEmoji, formatDateTime, formatRelative } from '../lib/format';
import { Link, linkPath } from '../router';

function place(click: ClickEvent): string {
  const parts = [click.city, click.region].filter((p) => p && p !== 'unknown');
  const country = countryName(click.country);
  return parts.length ? `${parts.join(', ')}, ${country}` : country;
}

export function LiveFeed({ clicks, now, showSlug = false }: { clicks: ClickEvent[]; now: number; showSlug?: boolean }) {
  if (clicks.length === 0) {
    return (
      <div className="feed-box">
        <p className="muted feed-empty">Waiting for clicks… they appear here the moment someone opens the link.</p>
      </div>
    );
  }
  return (
    // A scrolling box: focusable, so keyboard users can scroll it too.
    <div className="feed-box" tabIndex={0} role="region" aria-label="Latest clicks, newest first">
      <ol className="feed" aria-label="Latest clicks" data-testid="live-feed">
        {clicks.map((click) => (
          <li key={click.id} className="feed-item">
            <span className="feed-flag" aria-hidden="true">
              {flagEmoji(click.country) || '🌐'}
            </span>
            <span className="feed-main">
              <span className="feed-where">
                {showSlug && (
                  <>
                    <Link to={linkPath(click.slug)}>/{click.slug}</Link>{' '}
                  </>
                )}
                {place(click)}
              </span>
              <span className="feed-what muted">
                {dimensionLabel(click.device)} · {click.browser || 'Unknown browser'}
                {click.browser_version ? ` ${click.browser_version}` : ''} · {click.os || 'Unknown OS'} ·{' '}
                {dimensionLabel(click.referrer || 'direct')}
                {click.bot && (
                  <span className="badge bot" title={click.bot_reason ? `Detected by ${click.bot_reason}` : undefined}>
                    bot
                  </span>
                )}
                {click.unique && !click.bot && <span className="badge">new visitor</span>}
              </span>
            </span>
            <time className="feed-time muted" dateTime={click.t} title={formatDateTime(click.t)}>
              {formatRelative(click.t, Math.max(now, Date.now()))}
            </time>
          </li>
        ))}
      </ol>
    </div>
  );
}
