// Server-sent events over fetch(): EventSource cannot send an Authorization header, and the
// dashboard's credentials must never go into a URL. LiveStream keeps one stream open, parses it
// (SseParser), and reconnects by itself:
//   connect (Last-Event-ID = last id seen) -> read chunks -> parse -> dispatch
//   stream ends, errors, or stays silent past the heartbeat timeout -> wait (exponential backoff
//   with jitter) -> connect again. 401/403/404/410 are final: retrying cannot help.

export interface SseMessage {
  event: string;
  data: string;
  /** The `id:` of this message, when it had one. */
  id?: string;
}

/** Incremental parser for the text/event-stream format (WHATWG HTML, "server-sent events"). */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private id: string | undefined;
  private sawId = false;
  private pendingCR = false;
  /** Reconnection time (ms) last announced by a `retry:` field. */
  retry: number | undefined;

  /** Feeds decoded text; returns the messages completed by it. */
  feed(chunk: string): SseMessage[] {
    // A CRLF may be split across chunks: after a CR ending a chunk, a leading LF is not a new line.
    if (this.pendingCR && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.pendingCR = false;
    this.buffer += chunk;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === '\r') {
        if (i === this.buffer.length - 1) this.pendingCR = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') return this.dispatch(out);
    if (line.startsWith(':')) return; // comment (the server's heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventType = value;
    else if (field === 'id') {
      if (!value.includes('\0')) {
        this.id = value;
        this.sawId = true;
      }
    } else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }

  private dispatch(out: SseMessage[]): void {
    const id = this.sawId ? this.id : undefined;
    if (this.data.length > 0)
      out.push({ event: this.eventType || 'message', data: this.data.join('\n'), ...(id !== undefined ? { id } : {}) });
    this.data = [];
    this.eventType = '';
    this.sawId = false;
  }
}

export type LiveStatus = 'connecting' | 'open' | 'reconnecting' | 'failed' | 'closed';

/** Why a stream gave up: an HTTP status that retrying cannot fix. */
export class LiveStreamError extends Error {
  constructor(readonly status: number) {
    super(`live stream refused: HTTP ${status}`);
    this.name = 'LiveStreamError';
  }
}

export interface LiveStreamOptions {
  url: string;
  /** Credentials, read again on each (re)connect. */
  headers?: () => Record<string, string>;
  onMessage: (message: SseMessage) => void;
  onStatus?: (status: LiveStatus, error?: unknown) => void;
  /** Each successful connect; `reconnected` is false the first time. Refetch snapshots here. */
  onOpen?: (reconnected: boolean) => void;
  fetch?: typeof fetch;
  /** First reconnect delay; doubles per failed attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** No byte for this long (the server pings every 15 s) means a dead connection. */
  heartbeatTimeoutMs?: number;
  /** [0, 1); jitter source, injectable for tests. */
  random?: () => number;
  lastEventId?: string;
}

const FINAL_STATUSES = new Set([400, 401, 403, 404, 410]);

export class LiveStream {
  private readonly options: LiveStreamOptions;
  private stopped = true;
  private attempt = 0;
  private opens = 0;
  private controller: AbortController | undefined;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private sleeper: { timer: ReturnType<typeof setTimeout>; resolve: () => void } | undefined;
  private serverRetry: number | undefined;
  lastEventId: string | undefined;
  status: LiveStatus = 'closed';

  constructor(options: LiveStreamOptions) {
    this.options = options;
    this.lastEventId = options.lastEventId;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.clearWatchdog();
    this.controller?.abort();
    this.reader?.cancel().catch(() => {});
    if (this.sleeper) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.resolve();
    }
    this.setStatus('closed');
  }

  /** Delay before reconnect attempt number `attempt` (0-based): exponential, capped, with jitter. */
  backoffDelay(attempt: number): number {
    const initial = this.serverRetry ?? this.options.initialDelayMs ?? 1000;
    const max = this.options.maxDelayMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(attempt, 20));
    // "Equal jitter": between half and all of the base, so many clients do not reconnect in step.
    const random = this.options.random ?? Math.random;
    return Math.round(base / 2 + (base / 2) * random());
  }

  private setStatus(status: LiveStatus, error?: unknown): void {
    this.status = status;
    this.options.onStatus?.(status, error);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.setStatus(this.opens === 0 && this.attempt === 0 ? 'connecting' : 'reconnecting');
      let error: unknown;
      try {
        await this.connectAndRead();
      } catch (e) {
        error = e;
      } finally {
        this.clearWatchdog();
        this.reader = undefined;
      }
      if (this.stopped) return;
      if (error instanceof LiveStreamError) {
        this.stopped = true;
        this.setStatus('failed', error);
        return;
      }
      const delay = this.backoffDelay(this.attempt++);
      this.setStatus('reconnecting', error);
      await this.sleep(delay);
    }
  }

  private async connectAndRead(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...(this.options.headers?.() ?? {}) };
    if (this.lastEventId !== undefined) headers['Last-Event-ID'] = this.lastEventId;
    this.armWatchdog();
    const doFetch = this.options.fetch ?? globalThis.fetch.bind(globalThis);
    const response = await doFetch(this.options.url, { headers, signal: controller.signal, cache: 'no-store' });
    if (!response.ok) {
      response.body?.cancel().catch(() => {});
      if (FINAL_STATUSES.has(response.status)) throw new LiveStreamError(response.status);
      throw new Error(`live stream: HTTP ${response.status}`);
    }
    if (!response.body) throw new Error('live stream: no body');
    this.reader = response.body.getReader();
    this.setStatus('open');
    this.options.onOpen?.(this.opens++ > 0);
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done || this.stopped) return;
      // Any byte, a heartbeat comment included, proves the connection alive.
      this.armWatchdog();
      this.attempt = 0;
      for (const message of parser.feed(decoder.decode(value, { stream: true }))) {
        if (message.id !== undefined) this.lastEventId = message.id;
        this.options.onMessage(message);
        if (this.stopped) return;
      }
      if (parser.retry !== undefined) this.serverRetry = parser.retry;
    }
  }

  private armWatchdog(): void {
    this.clearWatchdog();
    const timeout = this.options.heartbeatTimeoutMs ?? 45_000;
    this.watchdog = setTimeout(() => {
      this.controller?.abort();
      this.reader?.cancel().catch(() => {});
    }, timeout);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = { timer, resolve };
    });
  }
}
