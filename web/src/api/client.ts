// The only place that speaks HTTP to the JSON API: adds credentials, turns problem+json answers
// into ApiError, and never puts a secret in a URL.
import type { CreateLinkInput, Link, LinkPage, LinkPatch, Problem, Stats } from './types';

/** A failed API call: an HTTP status with the server's problem details, or a network failure. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** Seconds to wait, from Retry-After (429 and 503). */
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = problem.title ?? '';
    this.detail = problem.detail ?? '';
    this.retryAfter = retryAfter;
  }

  /** Status 0: the server could not be reached at all. */
  get offline(): boolean {
    return this.status === 0;
  }
}

/** Who is calling: an account's API key, a link's stats token, or nobody. */
export type Credential = { kind: 'key'; key: string } | { kind: 'token'; token: string } | null;

export function authHeader(credential: Credential): Record<string, string> {
  if (!credential) return {};
  return { Authorization: `Bearer ${credential.kind === 'key' ? credential.key : credential.token}` };
}

export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const type = response.headers.get('Content-Type') ?? '';
    if (type.includes('json')) return (await response.json()) as Problem;
    const text = await response.text();
    return { title: response.statusText, detail: text.slice(0, 200) };
  } catch {
    return { title: response.statusText };
  }
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  credential?: Credential;
  signal?: AbortSignal;
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeader(options.credential ?? null) };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, { title: 'Server unreachable', detail: 'The shortener did not answer. Is it running?' });
  }
  if (!response.ok) {
    throw new ApiError(response.status, await problemOf(response), parseRetryAfter(response.headers.get('Retry-After')));
  }
  return response;
}

async function json<T>(path: string, options: RequestOptions = {}): Promise<T> {
  return (await (await request(path, options)).json()) as T;
}

const linkPath = (slug: string) => `/api/v1/links/${encodeURIComponent(slug)}`;

export interface StatsQuery {
  from?: string;
  to?: string;
  interval?: string;
  bots?: string;
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const api = {
  createLink: (input: CreateLinkInput, credential: Credential) => json<Link>('/api/v1/links', { method: 'POST', body: input, credential }),
  listLinks: (credential: Credential, limit: number, cursor?: string | null, signal?: AbortSignal) =>
    json<LinkPage>(`/api/v1/links${query({ limit: String(limit), cursor: cursor ?? undefined })}`, { credential, signal }),
  getLink: (slug: string, credential: Credential, signal?: AbortSignal) => json<Link>(linkPath(slug), { credential, signal }),
  updateLink: (slug: string, patch: LinkPatch, credential: Credential) =>
    json<Link>(linkPath(slug), { method: 'PATCH', body: patch, credential }),
  deleteLink: async (slug: string, credential: Credential) => {
    await request(linkPath(slug), { method: 'DELETE', credential });
  },
  linkStats: (slug: string, q: StatsQuery, credential: Credential, signal?: AbortSignal) =>
    json<Stats>(`${linkPath(slug)}/stats${query({ ...q })}`, { credential, signal }),
  accountStats: (q: StatsQuery, credential: Credential, signal?: AbortSignal) =>
    json<Stats>(`/api/v1/stats${query({ ...q })}`, { credential, signal }),
  clicksCsv: async (slug: string, credential: Credential): Promise<Blob> =>
    (await request(`${linkPath(slug)}/clicks.csv`, { credential })).blob(),
  linkLivePath: (slug: string) => `${linkPath(slug)}/live`,
  accountLivePath: '/api/v1/live',
};
