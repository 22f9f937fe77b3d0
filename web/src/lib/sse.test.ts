import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveStream, LiveStreamError, SseParser, type LiveStatus, type SseMessage } from './sse';

describe('SseParser', () => {
  it('parses events, ids, multi-line data and comments', () => {
    const parser = new SseParser();
    const out = parser.feed(': ping\n\nevent: click\nid: 42\ndata: {"a":1}\n\ndata: line one\ndata: line two\n\n');
    expect(out).toEqual([
      { event: 'click', data: '{"a":1}', id: '42' },
      { event: 'message', data: 'line one\nline two' },
    ]);
  });

  it('reassembles messages split anywhere across chunks', () => {
    const text = 'event: click\r\nid: 7\r\ndata: {"slug":"abc"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const out = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
      expect(out, `cut at ${cut}`).toEqual([{ event: 'click', data: '{"slug":"abc"}', id: '7' }]);
    }
  });

  it('accepts CR line endings, fields without a space or value, and retry', () => {
    const parser = new SseParser();
    expect(parser.feed('retry: 2500\revent:click\rdata:x\rdata\r\r')).toEqual([{ event: 'click', data: 'x\n' }]);
    expect(parser.retry).toBe(2500);
  });

  it('drops events without data and ignores unknown fields', () => {
    const parser = new SseParser();
    expect(parser.feed('event: click\nfoo: bar\n\nid: 3\n\n')).toEqual([]);
    expect(parser.feed('data: ok\n\n')).toEqual([{ event: 'message', data: 'ok' }]);
  });
});

/** A scripted server: each fetch() gets the next connection's behaviour. */
class FakeServer {
  requests: { url: string; headers: Record<string, string> }[] = [];
  private controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  private statuses: number[] = [];
  failNext = 0;

  respondWith(...statuses: number[]): void {
    this.statuses.push(...statuses);
  }

  fetch = async (url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    this.requests.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) } });
    if (this.failNext > 0) {
      this.failNext--;
      throw new TypeError('fetch failed');
    }
    const status = this.statuses.shift() ?? 200;
    if (status !== 200) return new Response('nope', { status });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    this.controllers.push(controller);
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  };

  get connections(): number {
    return this.requests.length;
  }

  send(text: string): void {
    this.controllers.at(-1)!.enqueue(new TextEncoder().encode(text));
  }

  close(): void {
    this.controllers.at(-1)!.close();
  }
}

describe('LiveStream', () => {
  let server: FakeServer;
  let messages: SseMessage[];
  let statuses: LiveStatus[];
  let opens: boolean[];
  let stream: LiveStream | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
    server = new FakeServer();
    messages = [];
    statuses = [];
    opens = [];
  });

  afterEach(() => {
    stream?.stop();
    vi.useRealTimers();
  });

  function start(overrides: Partial<ConstructorParameters<typeof LiveStream>[0]> = {}): LiveStream {
    stream = new LiveStream({
      url: '/api/v1/links/abc/live',
      headers: () => ({ Authorization: 'Bearer secret' }),
      onMessage: (m) => messages.push(m),
      onStatus: (s) => statuses.push(s),
      onOpen: (reconnected) => opens.push(reconnected),
      fetch: server.fetch,
      random: () => 1,
      initialDelayMs: 1000,
      maxDelayMs: 8000,
      heartbeatTimeoutMs: 45_000,
      ...overrides,
    });
    stream.start();
    return stream;
  }

  const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

  it('connects with credentials in a header and delivers events', async () => {
    start();
    await tick();
    expect(server.requests[0]).toEqual({
      url: '/api/v1/links/abc/live',
      headers: { Accept: 'text/event-stream', Authorization: 'Bearer secret' },
    });
    server.send('event: click\nid: 1\ndata: {"id":"1"}\n\n');
    await tick();
    expect(messages).toEqual([{ event: 'click', data: '{"id":"1"}', id: '1' }]);
    expect(statuses).toEqual(['connecting', 'open']);
    expect(opens).toEqual([false]);
  });

  it('reconnects after the stream ends and resumes with Last-Event-ID', async () => {
    start();
    await tick();
    server.send('event: click\nid: 17\ndata: {}\n\n');
    await tick();
    server.close();
    await tick();
    expect(statuses.at(-1)).toBe('reconnecting');
    await tick(999);
    expect(server.connections).toBe(1);
    await tick(1);
    expect(server.connections).toBe(2);
    expect(server.requests[1].headers['Last-Event-ID']).toBe('17');
    expect(opens).toEqual([false, true]);
  });

  it('backs off exponentially up to the cap while the server is down, then resets', async () => {
    server.failNext = 5;
    start();
    await tick();
    const times: number[] = [];
    let elapsed = 0;
    while (server.connections < 6) {
      const before = server.connections;
      await tick(100);
      elapsed += 100;
      if (server.connections > before) times.push(elapsed);
    }
    // Delays 1 s, 2 s, 4 s, 8 s, 8 s (capped): connections at these cumulative times.
    expect(times).toEqual([1000, 3000, 7000, 15000, 23000]);
    server.send(': ping\n\n');
    await tick();
    server.close();
    await tick();
    await tick(1000);
    expect(server.connections).toBe(7);
  });

  it('applies jitter between half and all of the delay', () => {
    const low = new LiveStream({ url: '/x', onMessage: () => {}, random: () => 0, initialDelayMs: 1000, maxDelayMs: 30_000 });
    const high = new LiveStream({ url: '/x', onMessage: () => {}, random: () => 0.999999, initialDelayMs: 1000, maxDelayMs: 30_000 });
    expect([0, 1, 2, 5, 10].map((a) => low.backoffDelay(a))).toEqual([500, 1000, 2000, 15000, 15000]);
    expect([0, 1, 2, 5, 10].map((a) => high.backoffDelay(a))).toEqual([1000, 2000, 4000, 30000, 30000]);
  });

  it('drops a silent connection after the heartbeat timeout', async () => {
    start({ heartbeatTimeoutMs: 45_000 });
    await tick();
    await tick(30_000);
    server.send(': ping\n\n'); // a heartbeat re-arms the watchdog
    await tick(44_000);
    expect(server.connections).toBe(1);
    await tick(1_000);
    expect(statuses.at(-1)).toBe('reconnecting');
    await tick(1_000);
    expect(server.connections).toBe(2);
  });

  it('retries server errors but gives up on refused credentials', async () => {
    server.respondWith(503, 401);
    start();
    await tick();
    expect(server.connections).toBe(1);
    await tick(1000);
    expect(server.connections).toBe(2);
    await tick(60_000);
    expect(server.connections).toBe(2);
    expect(statuses.at(-1)).toBe('failed');
  });

  it('reports the refusing status', async () => {
    server.respondWith(404);
    let error: unknown;
    start({ onStatus: (s, e) => s === 'failed' && (error = e) });
    await tick();
    expect(error).toBeInstanceOf(LiveStreamError);
    expect((error as LiveStreamError).status).toBe(404);
  });

  it('honours the server retry field', async () => {
    start();
    await tick();
    server.send('retry: 5000\n: hi\n\n');
    await tick();
    server.close();
    await tick(4_999);
    expect(server.connections).toBe(1);
    await tick(1);
    expect(server.connections).toBe(2);
  });

  it('stops cleanly, also while waiting to reconnect', async () => {
    server.failNext = 1;
    const s = start();
    await tick();
    s.stop();
    await tick(60_000);
    expect(server.connections).toBe(1);
    expect(statuses.at(-1)).toBe('closed');
  });
});
