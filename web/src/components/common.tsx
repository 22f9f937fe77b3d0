// Small shared pieces: states (loading, empty, error), KPI cards, copy button, live badge.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { formatDuration } from '../lib/format';
import type { LiveStatus } from '../lib/sse';
import { Link } from '../router';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <span className="spinner" role="status">
      <span className="visually-hidden">{label}</span>
    </span>
  );
}

/** A grey placeholder block of a fixed size, so content does not jump when data arrives. */
export function Skeleton({ height = '1em', width = '100%' }: { height?: string; width?: string }) {
  return <span className="skeleton" style={{ height, width, maxWidth: '100%' }} aria-hidden="true" />;
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

/** What went wrong, in words a person can act on. */
export function describeError(error: ApiError): { title: string; detail: string } {
  if (error.offline)
    return { title: 'Cannot reach the server', detail: 'The shortener did not answer. Check that it is running, then retry.' };
  switch (error.status) {
    case 401:
      return {
        title: 'Not signed in',
        detail: `The API key or stats link was not accepted — it may have been revoked or mistyped.${error.detail ? ` (${error.detail})` : ''}`,
      };
    case 403:
      return { title: 'Not allowed', detail: error.detail || 'This key cannot see that.' };
    case 404:
      return { title: 'Not found', detail: error.detail || 'There is no such link, or it belongs to another account.' };
    case 410:
      return { title: 'Gone', detail: error.detail || 'This link was deleted or has expired.' };
    case 429:
      return {
        title: 'Too many requests',
        detail: error.retryAfter !== null ? `Try again in ${formatDuration(error.retryAfter)}.` : 'Slow down a little and try again.',
      };
    default:
      return { title: error.title || `Error ${error.status}`, detail: error.detail || 'The server could not complete the request.' };
  }
}

export function ErrorState({ error, onRetry, children }: { error: ApiError; onRetry?: () => void; children?: ReactNode }) {
  const { title, detail } = describeError(error);
  return (
    <div className="error-state" role="alert">
      <p className="error-title">{title}</p>
      <p>{detail}</p>
      <div className="row">
        {error.status === 401 && (
          <Link className="button" to="/dashboard/signin">
            Sign in
          </Link>
        )}
        {onRetry && error.status !== 401 && error.status !== 404 && (
          <button type="button" className="button" onClick={onRetry}>
            Retry
          </button>
        )}
        {children}
      </div>
    </div>
  );
}

export function InlineError({ error }: { error: ApiError | string | null }) {
  if (!error) return null;
  const text =
    typeof error === 'string'
      ? error
      : (() => {
          const { title, detail } = describeError(error);
          return error.status === 400 || error.status === 409 ? detail || title : `${title}: ${detail}`;
        })();
  return (
    <p className="inline-error" role="alert">
      {text}
    </p>
  );
}

export function Kpi({ label, value, hint, loading }: { label: string; value: ReactNode; hint?: ReactNode; loading?: boolean }) {
  return (
    <div className="kpi">
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{loading ? <Skeleton height="1.1em" width="4ch" /> : value}</div>
      {hint !== undefined && <div className="kpi-hint">{hint}</div>}
    </div>
  );
}

export function CopyButton({ text, label = 'Copy', className = 'button' }: { text: string; label?: string; className?: string }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API unavailable (plain HTTP on a LAN address): fall back to a selection copy.
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), 2000);
  };
  return (
    <button type="button" className={className} onClick={copy} aria-label={copied ? 'Copied' : `${label}: ${text}`}>
      <span aria-hidden="true">{copied ? 'Copied ✓' : label}</span>
    </button>
  );
}

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  open: 'Live',
  reconnecting: 'Reconnecting…',
  failed: 'Live updates off',
  closed: 'Offline',
};

export function LiveBadge({ status }: { status: LiveStatus }) {
  return (
    <span className={`live-badge live-${status}`} role="status" data-testid="live-status" data-status={status}>
      <span className="live-dot" aria-hidden="true" />
      {LIVE_TEXT[status]}
    </span>
  );
}

/** A tiny trend line; decorative (the number beside it carries the meaning). */
export function Sparkline({ values, width = 96, height = 24 }: { values: number[]; width?: number; height?: number }) {
  if (values.length < 2) return <svg className="sparkline" width={width} height={height} aria-hidden="true" />;
  const max = Math.max(1, ...values);
  const step = width / (values.length - 1);
  const y = (v: number) => height - 2 - (v / max) * (height - 4);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      <polygon points={`0,${height} ${points} ${width},${height}`} className="sparkline-area" />
      <polyline points={points} className="sparkline-line" />
    </svg>
  );
}
