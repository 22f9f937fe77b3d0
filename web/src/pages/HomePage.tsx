// Home: paste a long URL -> the short link, a copy button, a QR code and the private stats link.
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, api } from '../api/client';
import type { CreateLinkInput, Link as LinkT } from '../api/types';
import { CopyButton, InlineError } from '../components/common';
import { validateUrl } from '../components/LinkDialogs';
import { QrCode } from '../components/QrCode';
import { keyCredential, useApiKey } from '../lib/auth';
import { formatDuration, formatRelative, fromLocalInput, toRfc3339 } from '../lib/format';
import { loadRecent, rememberLink, saveRecent, type RecentLink } from '../lib/recent';
import { Link, internalPath } from '../router';
import { useNow } from '../hooks/useNow';

const SLUG_RE = /^[A-Za-z0-9_-]{3,64}$/;

function StatsLink({ url, children, className }: { url: string; children: ReactNode; className?: string }) {
  const path = internalPath(url);
  return path ? (
    <Link to={path} className={className}>
      {children}
    </Link>
  ) : (
    <a href={url} className={className}>
      {children}
    </a>
  );
}

export function HomePage() {
  const apiKey = useApiKey();
  const [url, setUrl] = useState('');
  const [slug, setSlug] = useState('');
  const [expires, setExpires] = useState('');
  const [title, setTitle] = useState('');
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<LinkT | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [recent, setRecent] = useState<RecentLink[]>(() => loadRecent());
  const now = useNow(1000);
  const input = useRef<HTMLInputElement>(null);
  const result = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (created) result.current?.focus();
  }, [created]);

  const waiting = retryAt !== null && retryAt > now;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const invalid = validateUrl(url);
    if (invalid) return setError(invalid);
    if (slug && !SLUG_RE.test(slug)) return setError('A custom slug is 3 to 64 letters, digits, “-” or “_”.');
    const body: CreateLinkInput = { url: url.trim() };
    if (slug) body.slug = slug;
    if (title.trim()) body.title = title.trim();
    if (expires) {
      const ms = fromLocalInput(expires);
      if (Number.isNaN(ms)) return setError('The expiry date is not valid.');
      if (ms <= Date.now()) return setError('The expiry must be in the future.');
      body.expires_at = toRfc3339(ms);
    }
    setBusy(true);
    setError(null);
    try {
      const link = await api.createLink(body, keyCredential(apiKey));
      setCreated(link);
      setRecent(rememberLink(link));
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, { title: String(e) });
      if (err.status === 429) setRetryAt(Date.now() + (err.retryAfter ?? 60) * 1000);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const reset = () => {
    setCreated(null);
    setUrl('');
    setSlug('');
    setExpires('');
    setTitle('');
    setError(null);
    setTimeout(() => input.current?.focus());
  };

  return (
    <div className="home">
      <section className="hero">
        <h1>Shorten a link</h1>
        <p className="lead">Paste a long URL, get a short one, and watch every click arrive in real time.</p>
        {!created ? (
          <form className="card shorten-form" onSubmit={submit} noValidate aria-describedby="shorten-owner">
            <div className="shorten-row">
              <label htmlFor="long-url" className="visually-hidden">
                Long URL
              </label>
              <input
                ref={input}
                id="long-url"
                name="url"
                type="url"
                inputMode="url"
                autoComplete="url"
                placeholder="https://example.com/a/very/long/link"
                value={url}
                onChange={(e) => setUrl(e.target.value)}
                required
                autoFocus
              />
              <button type="submit" className="button primary" disabled={busy || waiting}>
                {busy ? 'Shortening…' : 'Shorten'}
              </button>
            </div>
            <details className="options">
              <summary>Custom slug, expiry, title</summary>
              <div className="options-grid">
                <div className="field">
                  <label htmlFor="slug">Custom slug</label>
                  <input id="slug" value={slug} onChange={(e) => setSlug(e.target.value)} placeholder="my-launch" autoComplete="off" />
                  <p className="hint">3–64 letters, digits, “-” or “_”. Leave empty for a random one.</p>
                </div>
                <div className="field">
                  <label htmlFor="expires">Expires</label>
                  <input id="expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
                  <p className="hint">Optional, your local time.</p>
                </div>
                <div className="field">
                  <label htmlFor="title">Title</label>
                  <input id="title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
                </div>
              </div>
            </details>
            <InlineError error={error} />
            {waiting && <p className="hint">You can shorten again in {formatDuration((retryAt! - now) / 1000)}.</p>}
            <p id="shorten-owner" className="hint">
              {apiKey ? (
                'Signed in: the link belongs to your account.'
              ) : (
                <>
                  Anonymous link: keep its stats link, it is the only way to see the analytics. <Link to="/dashboard/signin">Sign in</Link>{' '}
                  to manage links.
                </>
              )}
            </p>
          </form>
        ) : (
          <section className="card result" aria-labelledby="result-title" data-testid="result">
            <h2 id="result-title" ref={result} tabIndex={-1}>
              Your short link
            </h2>
            <div className="result-grid">
              <div className="result-main">
                <p className="short-url">
                  <a href={created.short_url} target="_blank" rel="noreferrer" data-testid="short-url">
                    {created.short_url}
                  </a>
                </p>
                <div className="row">
                  <CopyButton text={created.short_url} label="Copy link" className="button primary" />
                  <a className="button" href={created.short_url} target="_blank" rel="noreferrer">
                    Open
                  </a>
                </div>
                <p className="muted break">→ {created.url}</p>
                {created.expires_at && <p className="hint">Expires {formatRelative(created.expires_at, now)}.</p>}
                <div className="stats-box">
                  <h3>Private stats link</h3>
                  <p className="hint">Anyone with this link can see the link’s analytics — share it carefully.</p>
                  <div className="row">
                    <StatsLink url={created.stats_url} className="button">
                      View analytics
                    </StatsLink>
                    <CopyButton text={created.stats_url} label="Copy stats link" />
                  </div>
                </div>
              </div>
              <QrCode text={created.short_url} name={`qr-${created.slug}`} />
            </div>
            <button type="button" className="link-button" onClick={reset}>
              Shorten another link
            </button>
          </section>
        )}
      </section>

      {recent.length > 0 && (
        <section className="card recent" aria-labelledby="recent-title">
          <div className="card-head">
            <h2 id="recent-title">Created in this browser</h2>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                saveRecent([]);
                setRecent([]);
              }}
            >
              Forget
            </button>
          </div>
          <ul className="recent-list">
            {recent.map((link) => (
              <li key={link.short_url}>
                <a href={link.short_url} target="_blank" rel="noreferrer" className="mono">
                  {link.short_url.replace(/^https?:\/\//, '')}
                </a>
                <span className="muted ellipsis">{link.url}</span>
                <StatsLink url={link.stats_url} className="small-link">
                  Stats
                </StatsLink>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
