// Sign in with an API key: checked against the API, then kept in this browser until sign-out.
import { useState, type FormEvent } from 'react';
import { ApiError, api } from '../api/client';
import { InlineError } from '../components/common';
import { setApiKey } from '../lib/auth';
import { navigate, useLocation } from '../router';

export function SignInForm({ onSignedIn, headingLevel = 1 }: { onSignedIn?: () => void; headingLevel?: 1 | 2 }) {
  const [key, setKey] = useState('');
  const [show, setShow] = useState(false);
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const Heading = headingLevel === 1 ? 'h1' : 'h2';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = key.trim();
    if (!value) return setError('Enter your API key.');
    setBusy(true);
    setError(null);
    try {
      await api.listLinks({ kind: 'key', key: value }, 1);
      setApiKey(value);
      onSignedIn?.();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setError('This API key was not accepted. Check it, or create a new one.');
      else setError(e instanceof ApiError ? e : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card signin" onSubmit={submit} noValidate>
      <Heading>Sign in</Heading>
      <p className="muted">
        Use an API key to see and manage your links. Create one with <code>shortener keys create</code>; the admin key is printed when the
        server first starts.
      </p>
      <div className="field">
        <label htmlFor="api-key">API key</label>
        <div className="row nowrap">
          <input
            id="api-key"
            type={show ? 'text' : 'password'}
            value={key}
            onChange={(e) => setKey(e.target.value)}
            autoComplete="current-password"
            spellCheck={false}
            placeholder="sk_…"
            autoFocus
          />
          <button type="button" className="button" onClick={() => setShow((s) => !s)} aria-pressed={show}>
            {show ? 'Hide' : 'Show'}
          </button>
        </div>
        <p className="hint">Kept in this browser’s storage until you sign out.</p>
      </div>
      <InlineError error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Checking…' : 'Sign in'}
      </button>
    </form>
  );
}

export function SignInPage() {
  const { search } = useLocation();
  const next = search.get('next');
  const target = next && next.startsWith('/dashboard') ? next : '/dashboard';
  return (
    <div className="narrow">
      <SignInForm onSignedIn={() => navigate(target, { replace: true })} />
    </div>
  );
}
