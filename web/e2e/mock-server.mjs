#!/usr/bin/env node
// A stand-in for `shortener serve` for UI development: the same command line, the same
// "listening on" line, the API of issues 2 and 3 (links, stats, clicks.csv, live SSE), redirects
// that record clicks, and the built app from --web-dir with SPA fallback. State is in memory.
//
//   node e2e/mock-server.mjs serve --listen 127.0.0.1:8080 --web-dir dist --demo
//
// --demo seeds a few links and keeps clicking them. Geo and device detection are tiny tables
// (see GEO and classify below), not the real databases. Never used by the e2e test itself.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const args = process.argv.slice(2);
if (args[0] === 'serve') args.shift();
function flag(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
}
const listen = flag('listen', '127.0.0.1:8080');
const webDir = resolve(flag('web-dir', new URL('../dist', import.meta.url).pathname));
const adminKey = flag('admin-key', 'sk_mock_admin_key_0000000000');
const demo = args.includes('--demo');
const [host, portText] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];

const GEO = {
  '8.8.8.8': { country: 'US', region: 'California', city: 'Mountain View' },
  '1.1.1.1': { country: 'AU', region: 'Queensland', city: 'Brisbane' },
  '9.9.9.9': { country: 'CH', region: 'Zurich', city: 'Zurich' },
  '81.2.69.142': { country: 'GB', region: 'England', city: 'London' },
  '133.242.0.3': { country: 'JP', region: 'Tokyo', city: 'Tokyo' },
  '200.160.2.3': { country: 'BR', region: 'São Paulo', city: 'São Paulo' },
  '193.0.6.139': { country: 'NL', region: 'North Holland', city: 'Amsterdam' },
};

function classify(ua) {
  if (/bot|crawler|spider|slurp|facebookexternalhit/i.test(ua))
    return { device: 'bot', browser: /Googlebot/.test(ua) ? 'Googlebot' : 'Other bot', os: 'Other', bot: true, bot_reason: 'ua-list' };
  const device = /iPad|Tablet/.test(ua)
    ? 'tablet'
    : /iPhone|Android.*Mobile|Mobile Safari/.test(ua)
      ? 'mobile'
      : /Windows|Macintosh|X11|Linux/.test(ua)
        ? 'desktop'
        : 'other';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /CriOS|Chrome\//.test(ua)
        ? device === 'mobile'
          ? 'Chrome Mobile'
          : 'Chrome'
        : /Safari\//.test(ua)
          ? device === 'desktop'
            ? 'Safari'
            : 'Mobile Safari'
          : /curl/.test(ua)
            ? 'curl'
            : 'Other';
  const os = /iPhone|iPad/.test(ua)
    ? 'iOS'
    : /Android/.test(ua)
      ? 'Android'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'Mac OS X'
          : /Linux|X11/.test(ua)
            ? 'Linux'
            : 'Other';
  const version = /(?:Chrome|Firefox|Version|Edg)\/(\d+)/.exec(ua)?.[1] ?? '';
  return { device, browser, browser_version: version, os, bot: false, bot_reason: '' };
}

const accounts = new Map([[adminKey, 'admin']]);
const links = new Map(); // slug -> link (+ account, token, deleted)
const clicks = []; // every click, oldest first
const uniques = new Set();
const subscribers = new Set(); // { res, slug | null, account }
let seq = 0;

const now = () => Date.now();
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const randomSlug = () => randomBytes(6).toString('base64url').slice(0, 7);

function publicUrl(req) {
  return `http://${req.headers.host}`;
}

function linkJson(req, l) {
  const base = publicUrl(req);
  return {
    slug: l.slug,
    short_url: `${base}/${l.slug}`,
    url: l.url,
    title: l.title,
    created_at: l.created_at,
    expires_at: l.expires_at,
    stats_url: `${base}/dashboard/links/${l.slug}#token=${l.token}`,
  };
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

function problem(res, status, title, detail, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...headers });
  res.end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

function bearer(req) {
  const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    return undefined;
  }
}

function clientIp(req) {
  const peer = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  const xff = req.headers['x-forwarded-for'];
  if (peer === '127.0.0.1' && xff) return String(xff).split(',').at(-1).trim();
  return peer;
}

let anonymous = [];
function rateLimited(ip) {
  const t = now();
  anonymous = anonymous.filter((a) => t - a.t < 60_000);
  if (anonymous.filter((a) => a.ip === ip).length >= 30) return true;
  anonymous.push({ ip, t });
  return false;
}

function recordClick(link, req) {
  const t = now();
  const ip = clientIp(req);
  const ua = String(req.headers['user-agent'] ?? '');
  const geo = GEO[ip] ?? { country: 'unknown', region: '', city: '' };
  const day = new Date(t).toISOString().slice(0, 10);
  const visitor = createHash('sha256').update(`${ip}|${ua}|${day}|${link.slug}`).digest('hex');
  const unique = !uniques.has(visitor);
  uniques.add(visitor);
  let referrer = 'direct';
  try {
    if (req.headers.referer) referrer = new URL(req.headers.referer).host.toLowerCase();
  } catch {
    referrer = 'unknown';
  }
  const click = {
    id: `${t.toString(36)}-${(++seq).toString(36)}`,
    slug: link.slug,
    t: new Date(t).toISOString(),
    ...geo,
    referrer,
    ...classify(ua),
    unique,
    account: link.account,
  };
  clicks.push(click);
  // Like the real worker, the event goes out shortly after the redirect.
  setTimeout(() => broadcast(click), 50);
}

function frame(click) {
  const { account, ...event } = click;
  return `event: click\nid: ${click.id}\ndata: ${JSON.stringify(event)}\n\n`;
}

function broadcast(click) {
  for (const s of subscribers) if (s.slug ? s.slug === click.slug : s.account === click.account) s.res.write(frame(click));
}

const STEP = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function stats(list, query, slug) {
  const to = query.get('to') ? Date.parse(query.get('to')) : now();
  const from = query.get('from') ? Date.parse(query.get('from')) : to - 7 * 86_400_000;
  if (Number.isNaN(from) || Number.isNaN(to) || from >= to) return null;
  const span = to - from;
  let interval = query.get('interval') || (span <= 6 * 3_600_000 ? 'minute' : span <= 14 * 86_400_000 ? 'hour' : 'day');
  if (!STEP[interval]) return null;
  while (span / STEP[interval] > 1500 && interval !== 'day') interval = interval === 'minute' ? 'hour' : 'day';
  const step = STEP[interval];
  const withBots = query.get('bots') === 'include';
  const inRange = list.filter((c) => Date.parse(c.t) >= from && Date.parse(c.t) <= to);
  const counted = inRange.filter((c) => withBots || !c.bot);
  const first = Math.floor(from / step) * step;
  const series = [];
  for (let b = first; b <= to; b += step) series.push({ t: iso(b), clicks: 0, unique: 0 });
  const dims = { countries: 'country', cities: 'city', referrers: 'referrer', devices: 'device', browsers: 'browser', os: 'os' };
  const out = {
    slug,
    from: iso(from),
    to: iso(to),
    interval,
    total: counted.length,
    unique: counted.filter((c) => c.unique).length,
    bots: inRange.filter((c) => c.bot).length,
    timeseries: series,
  };
  for (const c of counted) {
    const bucket = series[Math.floor((Date.parse(c.t) - first) / step)];
    if (bucket) {
      bucket.clicks++;
      if (c.unique) bucket.unique++;
    }
  }
  for (const [name, field] of Object.entries(dims)) {
    const counts = new Map();
    for (const c of counted) {
      const key = c[field] || (field === 'referrer' ? 'direct' : 'unknown');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    out[name] = [...counts].map(([key, n]) => ({ key, clicks: n })).sort((a, b) => b.clicks - a.clicks);
  }
  if (!slug) {
    delete out.slug;
    const by = new Map();
    for (const c of counted) by.set(c.slug, (by.get(c.slug) ?? 0) + 1);
    out.top_links = [...by]
      .map(([s, n]) => ({ slug: s, url: links.get(s)?.url ?? '', clicks: n }))
      .sort((a, b) => b.clicks - a.clicks)
      .slice(0, 10);
  }
  return out;
}

function live(req, res, slug, account) {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write(': connected\n\n');
  const last = req.headers['last-event-id'];
  if (last) {
    const index = clicks.findIndex((c) => c.id === last);
    if (index >= 0) for (const c of clicks.slice(index + 1)) if (slug ? c.slug === slug : c.account === account) res.write(frame(c));
  }
  const sub = { res, slug, account };
  subscribers.add(sub);
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(ping);
    subscribers.delete(sub);
  });
}

async function api(req, res, url) {
  const parts = url.pathname.split('/').slice(3); // after /api/v1
  const key = bearer(req);
  const account = key ? accounts.get(key) : undefined;
  if (key && !account && !(parts[0] === 'links' && parts[1])) return problem(res, 401, 'Unauthorized', 'unknown API key');

  if (parts[0] === 'links' && parts.length === 1) {
    if (req.method === 'POST') {
      const input = await body(req);
      if (!input || typeof input !== 'object') return problem(res, 400, 'Bad Request', 'request body is not valid JSON');
      if (!input.url) return problem(res, 400, 'Bad Request', 'url is required');
      let parsed;
      try {
        parsed = new URL(input.url);
      } catch {
        return problem(res, 400, 'Bad Request', 'url is not a valid absolute URL');
      }
      if (!/^https?:$/.test(parsed.protocol)) return problem(res, 400, 'Bad Request', 'url scheme must be http or https');
      if (!account && rateLimited(clientIp(req)))
        return problem(res, 429, 'Too Many Requests', 'anonymous link creation is rate-limited', { 'Retry-After': '30' });
      const slug = input.slug ?? randomSlug();
      if (!/^[A-Za-z0-9_-]{3,64}$/.test(slug)) return problem(res, 400, 'Bad Request', 'slug must be 3-64 characters of A-Z a-z 0-9 _ -');
      if (links.has(slug)) return problem(res, 409, 'Conflict', `slug '${slug}' is taken`);
      const link = {
        slug,
        url: input.url,
        title: input.title ?? '',
        created_at: iso(now()),
        expires_at: input.expires_at ?? null,
        token: randomBytes(16).toString('base64url'),
        account: account ?? null,
      };
      links.set(slug, link);
      return send(res, 201, linkJson(req, link), { Location: `/api/v1/links/${slug}` });
    }
    if (!account) return problem(res, 401, 'Unauthorized', 'an API key is required');
    const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 50));
    const mine = [...links.values()].filter((l) => l.account === account && !l.deleted).reverse();
    const start = Number(url.searchParams.get('cursor') ?? 0);
    const page = mine.slice(start, start + limit);
    return send(res, 200, {
      links: page.map((l) => linkJson(req, l)),
      next_cursor: start + limit < mine.length ? String(start + limit) : null,
    });
  }

  if (parts[0] === 'links' && parts[1]) {
    const link = links.get(decodeURIComponent(parts[1]));
    const owner = link && !link.deleted && account && link.account === account;
    const byToken = link && !link.deleted && key && key === link.token;
    if (key && !account && !byToken) return problem(res, 401, 'Unauthorized', 'unknown API key or stats token');
    if (!key) return problem(res, 401, 'Unauthorized', 'an API key is required');
    if (parts.length === 2) {
      if (!owner) return problem(res, 404, 'Not Found', 'no such link');
      if (req.method === 'GET') return send(res, 200, linkJson(req, link));
      if (req.method === 'PATCH') {
        const input = await body(req);
        if (!input || typeof input !== 'object') return problem(res, 400, 'Bad Request', 'request body is not valid JSON');
        if (input.url !== undefined) link.url = input.url;
        if (input.title !== undefined) link.title = input.title;
        if ('expires_at' in input) link.expires_at = input.expires_at;
        return send(res, 200, linkJson(req, link));
      }
      if (req.method === 'DELETE') {
        link.deleted = true;
        res.writeHead(204).end();
        return;
      }
      return problem(res, 405, 'Method Not Allowed', req.method);
    }
    if (!owner && !byToken) return problem(res, 404, 'Not Found', 'no such link');
    const mine = clicks.filter((c) => c.slug === link.slug);
    if (parts[2] === 'stats') {
      const out = stats(mine, url.searchParams, link.slug);
      return out ? send(res, 200, out) : problem(res, 400, 'Bad Request', 'invalid from/to/interval');
    }
    if (parts[2] === 'live') return live(req, res, link.slug, null);
    if (parts[2] === 'clicks.csv') {
      res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Disposition': `attachment; filename="${link.slug}-clicks.csv"` });
      res.end(
        [
          'id,t,country,city,referrer,device,browser,os,bot',
          ...mine.map((c) => [c.id, c.t, c.country, c.city, c.referrer, c.device, c.browser, c.os, c.bot].join(',')),
        ].join('\n') + '\n',
      );
      return;
    }
  }
  if (parts[0] === 'stats' && parts.length === 1) {
    if (!account) return problem(res, 401, 'Unauthorized', 'an API key is required');
    const out = stats(
      clicks.filter((c) => c.account === account),
      url.searchParams,
      null,
    );
    return out ? send(res, 200, out) : problem(res, 400, 'Bad Request', 'invalid from/to/interval');
  }
  if (parts[0] === 'live' && parts.length === 1) {
    if (!account) return problem(res, 401, 'Unauthorized', 'an API key is required');
    return live(req, res, null, account);
  }
  return problem(res, 404, 'Not Found', 'no such endpoint');
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function serveFile(req, res, path) {
  const gz = `${path}.gz`;
  const useGz = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && existsSync(gz);
  const headers = {
    'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
    'Cache-Control': path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    Vary: 'Accept-Encoding',
  };
  if (useGz) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = statSync(useGz ? gz : path).size;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  createReadStream(useGz ? gz : path).pipe(res);
}

function staticOrRedirect(req, res, url) {
  const path = url.pathname;
  if (path === '/' || path === '/dashboard' || path.startsWith('/dashboard/')) return serveFile(req, res, join(webDir, 'index.html'));
  if (path.startsWith('/assets/')) {
    const file = normalize(join(webDir, path));
    if (file.startsWith(webDir) && existsSync(file) && statSync(file).isFile()) return serveFile(req, res, file);
    return problem(res, 404, 'Not Found', 'no such asset');
  }
  if (path === '/healthz' || path === '/readyz') return send(res, 200, { status: 'ok' });
  const link = links.get(decodeURIComponent(path.slice(1)));
  if (!link) {
    res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not found</h1>');
    return;
  }
  if (link.deleted || (link.expires_at && Date.parse(link.expires_at) <= now())) {
    res.writeHead(410, { 'Content-Type': 'text/html' }).end('<h1>Gone</h1>');
    return;
  }
  if (req.method === 'GET') recordClick(link, req);
  res.writeHead(302, { Location: link.url, 'Cache-Control': 'private, max-age=0' }).end();
}

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://mock');
  if (url.pathname.startsWith('/api/v1/')) {
    api(req, res, url).catch((e) => problem(res, 500, 'Internal Server Error', String(e)));
  } else staticOrRedirect(req, res, url);
});

server.listen(Number(portText), host, () => {
  const { port } = server.address();
  console.log(`listening on http://${host}:${port}`);
  console.log(`admin key: ${adminKey}`);
  if (demo) startDemo(port);
});

function startDemo(port) {
  const seedUrls = [
    'https://example.com/launch',
    'https://example.org/docs/getting-started',
    'https://example.net/blog/2026/11/a-long-post-title',
  ];
  seedUrls.forEach((u, i) => {
    const slug = ['launch', 'docs', 'blog'][i];
    links.set(slug, {
      slug,
      url: u,
      title: ['Launch page', 'Docs', ''][i],
      created_at: iso(now() - (i + 1) * 86_400_000),
      expires_at: null,
      token: `demo-token-${slug}`,
      account: 'admin',
    });
  });
  const agents = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  ];
  const ips = Object.keys(GEO);
  const refs = ['', 'https://news.ycombinator.com/', 'https://www.google.com/', 'https://t.co/x'];
  // Backfill a week of history, then click live every few seconds.
  const fake = (slug, t) => {
    const link = links.get(slug);
    const pick = (list) => list[Math.floor(Math.random() ** 1.5 * list.length)];
    const req = {
      headers: { 'user-agent': pick(agents), referer: pick(refs), 'x-forwarded-for': pick(ips) },
      socket: { remoteAddress: '127.0.0.1' },
    };
    recordClick(link, req);
    clicks.at(-1).t = new Date(t).toISOString();
  };
  for (let i = 0; i < 400; i++) fake(['launch', 'docs', 'blog'][i % 3], now() - Math.random() ** 2 * 7 * 86_400_000);
  clicks.sort((a, b) => a.t.localeCompare(b.t));
  setInterval(() => fake(['launch', 'docs', 'blog'][Math.floor(Math.random() * 3)], now()), 4000).unref?.();
  console.log(`demo: links /launch /docs /blog; stats: http://${host}:${port}/dashboard/links/launch#token=demo-token-launch`);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
