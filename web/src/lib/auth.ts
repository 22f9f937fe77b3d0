// Credentials kept in the browser: the account's API key (localStorage, until sign-out) and the
// per-link stats token carried in a stats_url's fragment (#token=..., never sent to the server
// by the browser, only used in Authorization headers).
import { useSyncExternalStore } from 'react';
import type { Credential } from '../api/client';

const API_KEY = 'shortener.apiKey';
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return localStorage.getItem(API_KEY);
  } catch {
    return null; // storage disabled: behave as signed out
  }
}

export function getApiKey(): string | null {
  return read();
}

export function setApiKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(API_KEY, key);
    else localStorage.removeItem(API_KEY);
  } catch {
    // Storage unavailable: the key lives as long as nothing re-reads it.
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === null || event.key === API_KEY) listener(); // signed in/out in another tab
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function useApiKey(): string | null {
  return useSyncExternalStore(subscribe, read, () => null);
}

export function keyCredential(key: string | null): Credential {
  return key ? { kind: 'key', key } : null;
}

/** The stats token of a `#token=...` fragment, if any. */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  return token && token.length > 0 ? token : null;
}
