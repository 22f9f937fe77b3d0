// Edit (destination, title, expiry) and delete (with confirmation) dialogs for one link.
import { useState, type FormEvent } from 'react';
import { ApiError, api, type Credential } from '../api/client';
import type { Link, LinkPatch } from '../api/types';
import { fromLocalInput, parseTime, toLocalInput, toRfc3339 } from '../lib/format';
import { InlineError } from './common';
import { Dialog } from './Dialog';

export function validateUrl(text: string): string | null {
  const value = text.trim();
  if (!value) return 'Enter a URL.';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a full URL, starting with http:// or https://.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Only http:// and https:// links can be shortened.';
  if (!url.hostname) return 'The URL needs a host name.';
  return null;
}

interface EditProps {
  link: Link | null;
  credential: Credential;
  onClose: () => void;
  onSaved: (link: Link) => void;
}

export function EditLinkDialog({ link, credential, onClose, onSaved }: EditProps) {
  return (
    <Dialog open={link !== null} title={link ? `Edit /${link.slug}` : 'Edit'} onClose={onClose} testId="edit-dialog">
      {link && <EditForm key={link.slug} link={link} credential={credential} onClose={onClose} onSaved={onSaved} />}
    </Dialog>
  );
}

function EditForm({ link, credential, onClose, onSaved }: EditProps & { link: Link }) {
  const [url, setUrl] = useState(link.url);
  const [title, setTitle] = useState(link.title);
  const [expires, setExpires] = useState(link.expires_at ? toLocalInput(parseTime(link.expires_at)) : '');
  const [error, setError] = useState<ApiError | string | null>(null);
  const [saving, setSaving] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const invalid = validateUrl(url);
    if (invalid) return setError(invalid);
    const patch: LinkPatch = {};
    if (url.trim() !== link.url) patch.url = url.trim();
    if (title !== link.title) patch.title = title;
    const expiresMs = expires ? fromLocalInput(expires) : null;
    if (expires && Number.isNaN(expiresMs)) return setError('The expiry date is not valid.');
    const newExpiry = expiresMs === null ? null : toRfc3339(expiresMs!);
    const oldExpiry = link.expires_at ? toRfc3339(parseTime(link.expires_at)) : null;
    if (newExpiry !== oldExpiry) patch.expires_at = newExpiry;
    if (Object.keys(patch).length === 0) return onClose();
    setSaving(true);
    setError(null);
    try {
      onSaved(await api.updateLink(link.slug, patch, credential));
    } catch (e) {
      setError(e instanceof ApiError ? e : String(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="edit-url">Destination URL</label>
        <input id="edit-url" type="url" value={url} onChange={(e) => setUrl(e.target.value)} required autoFocus />
      </div>
      <div className="field">
        <label htmlFor="edit-title">Title</label>
        <input id="edit-title" type="text" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} />
      </div>
      <div className="field">
        <label htmlFor="edit-expires">Expires</label>
        <div className="row">
          <input id="edit-expires" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          {expires && (
            <button type="button" className="link-button" onClick={() => setExpires('')}>
              Never expire
            </button>
          )}
        </div>
        <p className="hint">{expires ? 'Local time. After it, the short link answers 410 Gone.' : 'No expiry.'}</p>
      </div>
      <InlineError error={error} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="button primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

interface DeleteProps {
  link: Link | null;
  credential: Credential;
  onClose: () => void;
  onDeleted: (slug: string) => void;
}

export function DeleteLinkDialog({ link, credential, onClose, onDeleted }: DeleteProps) {
  const [error, setError] = useState<ApiError | string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    if (!link) return;
    setBusy(true);
    setError(null);
    try {
      await api.deleteLink(link.slug, credential);
      onDeleted(link.slug);
    } catch (e) {
      setError(e instanceof ApiError ? e : String(e));
    } finally {
      setBusy(false);
    }
  };
  const close = () => {
    setError(null);
    onClose();
  };
  return (
    <Dialog open={link !== null} title={link ? `Delete /${link.slug}?` : 'Delete'} onClose={close} testId="delete-dialog">
      {link && (
        <>
          <p>
            The short link will stop working (visitors get <strong>410 Gone</strong>). This cannot be undone.
          </p>
          <p className="muted break">{link.url}</p>
          <InlineError error={error} />
          <div className="dialog-actions">
            <button type="button" className="button" onClick={close} autoFocus>
              Cancel
            </button>
            <button type="button" className="button danger" onClick={confirm} disabled={busy}>
              {busy ? 'Deleting…' : 'Delete link'}
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
