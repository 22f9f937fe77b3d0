// React binding of LiveStream: one SSE connection per mounted view, click events decoded.
import { useEffect, useRef, useState } from 'react';
import { authHeader, type Credential } from '../api/client';
import type { ClickEvent } from '../api/types';
import { LiveStream, type LiveStatus } from '../lib/sse';

export interface LiveOptions {
  /** null: no stream (e.g. no credential yet). */
  url: string | null;
  credential: Credential;
  onClick: (click: ClickEvent) => void;
  /** Called on every reconnect (not the first connect): time to refetch a snapshot. */
  onReconnect?: () => void;
}

export function useLive({ url, credential, onClick, onReconnect }: LiveOptions): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>('closed');
  // Callbacks change every render; the stream must not restart for that.
  const handlers = useRef({ onClick, onReconnect });
  handlers.current = { onClick, onReconnect };
  const secret = credential ? (credential.kind === 'key' ? credential.key : credential.token) : null;
  const kind = credential?.kind ?? null;

  useEffect(() => {
    if (!url || !secret || !kind) {
      setStatus('closed');
      return;
    }
    const cred: Credential = kind === 'key' ? { kind, key: secret } : { kind, token: secret };
    const stream = new LiveStream({
      url,
      headers: () => authHeader(cred),
      onStatus: (s) => setStatus(s),
      onOpen: (reconnected) => {
        if (reconnected) handlers.current.onReconnect?.();
      },
      onMessage: (message) => {
        if (message.event !== 'click') return;
        try {
          const click = JSON.parse(message.data) as ClickEvent;
          if (!click.id && message.id) click.id = message.id;
          handlers.current.onClick(click);
        } catch {
          // A malformed event is skipped; the next snapshot refetch corrects the counts.
        }
      },
    });
    stream.start();
    return () => stream.stop();
  }, [url, secret, kind]);

  return status;
}
