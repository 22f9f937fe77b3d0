#!/usr/bin/env node
// End-to-end test of the web app against the real `shortener` binary, in headless Chromium.
//
//   node web/e2e/dashboard.e2e.mjs          (after `npm run build` in web/ and building the binary)
//
// It starts the binary on a random loopback port with a fresh data dir (trusting loopback as a
// proxy, so X-Forwarded-For sets the client address), then drives the UI: shorten a URL
// anonymously and signed in, watch a link's dashboard update live (total, countries, devices)
// while redirects with different User-Agents and addresses hit the short link over plain HTTP,
// edit and delete the link, and open a stats link as an anonymous visitor in a fresh browser
// profile. Screenshots of each page (desktop and 375 px) go to web/test-results/.
//
// Every wait is bounded; the binary is always stopped by its PID. Environment:
//   SHORTENER_BIN            binary (default <repo>/build/shortener)
//   SHORTENER_WEB_DIR        built app (default <repo>/web/dist)
//   SHORTENER_E2E_ARGS       extra `serve` arguments, space-separated (e.g. --geoip-db paths)
//   SHORTENER_E2E_REQUIRE=1  a missing binary, app build or browser fails instead of skipping
//   SHORTENER_E2E_KEEP=1     keep the temporary data dir and browser profiles
//   CHROMIUM_BIN             browser (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// Visitors sent through X-Forwarded-For, with the country the shipped IP database gives their
// address (ip-location-db geo-whois-asn-country) and the device class uap-core gives their UA.
const VISITORS = [
  {
    name: 'desktop Chrome',
    ip: '8.8.8.8',
    country: 'US',
    device: 'desktop',
    bot: false,
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  },
  {
    name: 'iPhone Safari',
    ip: '1.1.1.1',
    country: 'AU',
    device: 'mobile',
    bot: false,
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
  {
    name: 'desktop Chrome again',
    ip: '8.8.8.8',
    country: 'US',
    device: 'desktop',
    bot: false,
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  },
  {
    name: 'Googlebot',
    ip: '66.249.66.1',
    country: 'US',
    device: 'bot',
    bot: true,
    ua: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  },
];

const START_TIMEOUT = 15_000; // to the "listening on" line
const READY_TIMEOUT = 10_000; // to /readyz answering 200
const LIVE_TIMEOUT = 5_000; // a redirect must show on the dashboard within this (target: ~1 s)
const UI_TIMEOUT = 10_000; // one UI step (navigation, dialog, fetch)
const HTTP_TIMEOUT = 5_000; // one plain HTTP exchange
const STOP_TIMEOUT = 5_000; // SIGTERM -> exit, then SIGKILL
const TOTAL_TIMEOUT = 240_000; // the whole run

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.SHORTENER_BIN || join(REPO, 'build', 'shortener');
const WEB_DIR = resolve(process.env.SHORTENER_WEB_DIR || join(REPO, 'web', 'dist'));
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const OUT = join(REPO, 'web', 'test-results');
const KEEP = process.env.SHORTENER_E2E_KEEP === '1';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };

const log = (...args) => console.log('[e2e]', ...args);
const results = [];
const cleanups = [];

function skipOrFail(message) {
  if (process.env.SHORTENER_E2E_REQUIRE === '1') {
    console.error(`[e2e] ${message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`[e2e] skipped: ${message} (set SHORTENER_E2E_REQUIRE=1 to fail instead)`);
  process.exit(0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; throws with the last observation after `ms`. */
async function waitFor(what, probe, ms = UI_TIMEOUT) {
  const start = Date.now();
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last && last.ok !== false) return last;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; last saw ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// The binary

async function startBinary() {
  const dataDir = mkdtempSync(join(tmpdir(), 'shortener-web-e2e-'));
  cleanups.push(() => (KEEP ? log(`kept ${dataDir}`) : rmSync(dataDir, { recursive: true, force: true })));
  const adminKey = `sk_${randomBytes(24).toString('base64url').slice(0, 29)}`; // 32 characters
  const extra = (process.env.SHORTENER_E2E_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--data-dir',
    dataDir,
    '--admin-key',
    adminKey,
    '--trust-proxy',
    '127.0.0.1/32',
    '--web-dir',
    WEB_DIR,
    ...extra,
  ];
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stderr.on('data', (chunk) => output.push(chunk.toString()));
  cleanups.push(() => stopBinary(child));
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const base = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" line within ${START_TIMEOUT} ms; stderr: ${output.join('')}`)),
      START_TIMEOUT,
    );
    child.once('exit', (code) => reject(new Error(`binary exited with ${code} before listening; stderr: ${output.join('')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const match = /^listening on (http:\/\/\S+?)\/?\s*$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
  });
  await waitFor('/readyz', async () => (await get(`${base}/readyz`)).status === 200, READY_TIMEOUT);
  const home = await get(`${base}/`);
  if (home.status !== 200 || !String(home.headers['content-type']).startsWith('text/html')) {
    throw new Error(
      `GET / answered ${home.status} ${home.headers['content-type']}: the binary does not serve the app from --web-dir ${WEB_DIR}`,
    );
  }
  log(`binary pid ${child.pid} at ${base}`);
  return { base, adminKey, child };
}

async function stopBinary(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = sleep(STOP_TIMEOUT).then(() => 'timeout');
  if ((await Promise.race([exited, timer])) === 'timeout') {
    log(`pid ${child.pid} ignored SIGTERM for ${STOP_TIMEOUT} ms; killing`);
    child.kill('SIGKILL');
    await exited;
  }
}

/** One plain HTTP GET, no redirect following, no keep-alive. */
function get(url, headers = {}) {
  return new Promise((resolvePromise, reject) => {
    const request = http.get(url, { headers, agent: false, timeout: HTTP_TIMEOUT }, (response) => {
      response.resume();
      response.on('end', () => resolvePromise({ status: response.statusCode, headers: response.headers }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

function visit(shortUrl, visitor) {
  return get(shortUrl, { 'User-Agent': visitor.ua, 'X-Forwarded-For': visitor.ip });
}

// ---------------------------------------------------------------------------------------------
// The browser

async function launch(name) {
  const profile = mkdtempSync(join(tmpdir(), `shortener-web-e2e-${name}-`));
  cleanups.push(() => !KEEP && rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: DESKTOP,
    timeout: 30_000,
  });
  cleanups.unshift(() => context.close().catch(() => {}));
  context.setDefaultTimeout(UI_TIMEOUT);
  context.setDefaultNavigationTimeout(UI_TIMEOUT);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
  return { context, page, errors };
}

async function screenshots(page, name) {
  await page.screenshot({ path: join(OUT, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await sleep(300); // charts resize on the next frame
  await page.screenshot({ path: join(OUT, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await sleep(200);
}

const text = (page, selector) => page.locator(selector).first().innerText({ timeout: UI_TIMEOUT });
const num = async (page, testId) => Number((await text(page, `[data-testid="${testId}"]`)).replace(/[^\d]/g, ''));

/** A breakdown list ({key: clicks}) read from its data attributes. */
function breakdown(page, testId) {
  return page.$$eval(`[data-testid="${testId}"] [data-key]`, (items) =>
    Object.fromEntries(items.map((el) => [el.dataset.key, Number(el.dataset.clicks)])),
  );
}

/** Checks that `probe` still returns `value` after `ms` (no late double counting). */
async function stays(what, probe, value, ms = 1_500) {
  await sleep(ms);
  const now = await probe();
  if (JSON.stringify(now) !== JSON.stringify(value))
    throw new Error(`${what} changed from ${JSON.stringify(value)} to ${JSON.stringify(now)}`);
}

async function waitLive(page) {
  await page.locator('[data-testid="live-status"][data-status="open"]').first().waitFor({ timeout: UI_TIMEOUT });
}

function expected(visitors, withBots) {
  const counted = visitors.filter((v) => withBots || !v.bot);
  const tally = (field) => counted.reduce((acc, v) => ({ ...acc, [v[field]]: (acc[v[field]] ?? 0) + 1 }), {});
  return { total: counted.length, bots: visitors.filter((v) => v.bot).length, countries: tally('country'), devices: tally('device') };
}

const sameCounts = (actual, wanted) =>
  Object.entries(wanted).every(([k, v]) => actual[k] === v) && Object.keys(actual).length === Object.keys(wanted).length;

// ---------------------------------------------------------------------------------------------
// Steps

async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok ${results.length} - ${name} (${Date.now() - start} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(
      `not ok ${results.length} - ${name}\n  ${String(error.stack || error)
        .split('\n')
        .join('\n  ')}`,
    );
    throw error;
  }
}

async function run() {
  const server = await startBinary();
  const { base, adminKey } = server;
  const owner = await launch('owner');
  const { page } = owner;
  const state = {};

  await step('home page shortens a URL anonymously, with a QR code and a stats link', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Shorten a link' }).waitFor();
    await screenshots(page, 'home');
    await page.getByLabel('Long URL').fill('https://example.com/e2e/anonymous?utm_source=e2e');
    await page.getByRole('button', { name: 'Shorten', exact: true }).click();
    const short = page.getByTestId('short-url');
    await short.waitFor();
    state.anonShort = await short.innerText();
    state.anonStats = await page.getByRole('link', { name: 'View analytics' }).getAttribute('href');
    if (!state.anonShort.startsWith(base)) throw new Error(`short link ${state.anonShort} is not on ${base}`);
    if (!/\/dashboard\/links\/[^/#]+#token=.+/.test(state.anonStats)) throw new Error(`stats link looks wrong: ${state.anonStats}`);
    await page.getByTestId('qr-code').waitFor();
    await screenshots(page, 'home-result');
  });

  await step('sign in with the admin API key', async () => {
    await page.goto(`${base}/dashboard/signin`);
    await screenshots(page, 'signin');
    await page.getByLabel('API key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.getByRole('heading', { name: 'Links' }).waitFor();
    await page.getByText('No links yet').waitFor();
  });

  await step('shorten a URL with a custom slug while signed in', async () => {
    state.slug = `e2e-${randomBytes(4).toString('hex')}`;
    state.destination = 'https://example.com/e2e/owned';
    await page.getByRole('link', { name: 'New link' }).click();
    await page.getByLabel('Long URL').fill(state.destination);
    await page.getByText('Custom slug, expiry, title').click();
    await page.getByLabel('Custom slug').fill(state.slug);
    await page.getByLabel('Title').fill('E2E link');
    await page.getByRole('button', { name: 'Shorten', exact: true }).click();
    state.short = await page.getByTestId('short-url').innerText();
    if (state.short !== `${base}/${state.slug}`) throw new Error(`short link ${state.short}, expected ${base}/${state.slug}`);
  });

  await step('links page lists the link', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Links' }).click();
    const row = page.locator(`tr[data-slug="${state.slug}"]`);
    await row.waitFor();
    await waitFor('the row click count', async () => (await row.getByTestId('row-clicks').innerText()).trim() === '0');
    await screenshots(page, 'links');
  });

  await step('link dashboard updates live: total, countries, devices', async () => {
    await page
      .locator(`tr[data-slug="${state.slug}"]`)
      .getByRole('link', { name: `/${state.slug}` })
      .click();
    await page.waitForURL(`${base}/dashboard/links/${state.slug}`);
    await waitLive(page);
    await waitFor('total 0', async () => (await num(page, 'total')) === 0);
    await page.evaluate(() => {
      window.__e2eNoReload = true;
    });
    for (const visitor of VISITORS) {
      const response = await visit(state.short, visitor);
      if (response.status !== 302 || response.headers.location !== state.destination) {
        throw new Error(`${visitor.name}: GET ${state.short} answered ${response.status} -> ${response.headers.location}`);
      }
    }
    const sent = Date.now();
    const want = expected(VISITORS, false);
    const seen = await waitFor(
      `total ${want.total}, countries ${JSON.stringify(want.countries)}, devices ${JSON.stringify(want.devices)}`,
      async () => {
        const now = {
          total: await num(page, 'total'),
          countries: await breakdown(page, 'countries'),
          devices: await breakdown(page, 'devices'),
        };
        return {
          ...now,
          ok: now.total === want.total && sameCounts(now.countries, want.countries) && sameCounts(now.devices, want.devices),
        };
      },
      LIVE_TIMEOUT,
    );
    log(`dashboard caught up ${Date.now() - sent} ms after the last redirect: ${JSON.stringify(seen)}`);
    await stays('the total', () => num(page, 'total'), want.total);
    await waitFor(`bot clicks ${want.bots}`, async () => (await num(page, 'bots')) === want.bots, LIVE_TIMEOUT);
    await waitFor('live feed entries', async () => (await page.getByTestId('live-feed').locator('li').count()) === VISITORS.length);
    if (!(await page.evaluate(() => window.__e2eNoReload === true))) throw new Error('the page reloaded');
  });

  await step('bot toggle includes bot clicks', async () => {
    const want = expected(VISITORS, true);
    await page.getByTestId('bots-toggle').check();
    await waitFor(`total ${want.total} with bots`, async () => {
      const now = { total: await num(page, 'total'), devices: await breakdown(page, 'devices') };
      return { ...now, ok: now.total === want.total && sameCounts(now.devices, want.devices) };
    });
    await stays('the total with bots', () => num(page, 'total'), want.total);
    await screenshots(page, 'analytics');
    await page.getByTestId('bots-toggle').uncheck();
  });

  await step('overview shows account totals', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await waitLive(page);
    const want = expected(VISITORS, false);
    await waitFor(`account total ${want.total}`, async () => (await num(page, 'total')) === want.total);
    await page
      .getByRole('table')
      .getByRole('link', { name: `/${state.slug}` })
      .waitFor();
    await screenshots(page, 'overview');
  });

  await step('edit the destination; the next redirect follows it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Links' }).click();
    await page.getByRole('button', { name: `Edit /${state.slug}` }).click();
    const dialog = page.getByTestId('edit-dialog');
    await dialog.getByLabel('Destination URL').fill('https://example.org/e2e/edited');
    await screenshots(page, 'edit-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator(`tr[data-slug="${state.slug}"]`).getByText('https://example.org/e2e/edited').waitFor();
    const response = await get(state.short, { 'User-Agent': 'curl/8.0' });
    if (response.status !== 302 || response.headers.location !== 'https://example.org/e2e/edited') {
      throw new Error(`after edit: ${response.status} -> ${response.headers.location}`);
    }
  });

  await step('delete the link after confirmation; it answers 410', async () => {
    await page.getByRole('button', { name: `Delete /${state.slug}` }).click();
    const dialog = page.getByTestId('delete-dialog');
    await dialog.getByText('This cannot be undone').waitFor();
    await dialog.getByRole('button', { name: 'Delete link' }).click();
    await page.locator(`tr[data-slug="${state.slug}"]`).waitFor({ state: 'detached' });
    const response = await get(state.short);
    if (response.status !== 410) throw new Error(`deleted link answered ${response.status}`);
  });

  await step('an anonymous visitor opens the stats link in a fresh browser and sees clicks live', async () => {
    const visitor = await launch('anonymous');
    state.visitor = visitor;
    const anon = visitor.page;
    await anon.goto(state.anonStats.startsWith('http') ? state.anonStats : `${base}${state.anonStats}`);
    await waitLive(anon);
    await waitFor('total 0', async () => (await num(anon, 'total')) === 0);
    if (await anon.evaluate(() => localStorage.getItem('shortener.apiKey'))) throw new Error('fresh profile has an API key');
    const response = await visit(state.anonShort, VISITORS[1]);
    if (response.status !== 302) throw new Error(`anonymous link answered ${response.status}`);
    await waitFor(
      `total 1 from ${VISITORS[1].country}`,
      async () => {
        const now = { total: await num(anon, 'total'), countries: await breakdown(anon, 'countries') };
        return { ...now, ok: now.total === 1 && now.countries[VISITORS[1].country] === 1 };
      },
      LIVE_TIMEOUT,
    );
    if ((await anon.getByRole('button', { name: 'Edit' }).count()) !== 0) throw new Error('a stats-token visitor can edit the link');
    await screenshots(anon, 'stats-anonymous');
  });

  await step('no console errors', async () => {
    const errors = [...owner.errors, ...(state.visitor?.errors ?? [])];
    if (errors.length) throw new Error(errors.join('\n'));
  });

  // From here on the browser logs the failed requests on purpose.
  await step('error states: unknown link, rejected stats token, rejected API key', async () => {
    const anon = state.visitor.page;
    await anon.goto(`${base}/dashboard/links/no-such-link-e2e#token=not-a-token`);
    await anon
      .getByRole('alert')
      .getByText(/Not found|Not signed in/)
      .waitFor();
    await screenshots(anon, 'error-unknown-link');
    await anon.evaluate(() => localStorage.setItem('shortener.apiKey', 'sk_not_a_real_key_000000000000'));
    await anon.goto(`${base}/dashboard`);
    await anon.getByRole('alert').getByText('Not signed in').waitFor();
    await anon.getByRole('alert').getByRole('link', { name: 'Sign in' }).waitFor();
    await screenshots(anon, 'error-rejected-key');
  });

  await step('server down: the live stream says so and retries', async () => {
    await page.goto(`${base}/dashboard/overview`);
    await waitLive(page);
    await stopBinary(server.child);
    await page.locator('[data-testid="live-status"][data-status="reconnecting"]').waitFor({ timeout: LIVE_TIMEOUT });
    await screenshots(page, 'server-down');
  });
}

async function main() {
  if (!existsSync(BIN)) skipOrFail(`shortener binary not found at ${BIN} (build it, or set SHORTENER_BIN)`);
  if (!existsSync(join(WEB_DIR, 'index.html'))) skipOrFail(`no app build at ${WEB_DIR} (run npm ci && npm run build in web/)`);
  if (!existsSync(CHROMIUM)) skipOrFail(`no browser at ${CHROMIUM} (apt-get install chromium)`);
  mkdirSync(OUT, { recursive: true });
  const watchdog = setTimeout(() => {
    console.error(`[e2e] the whole run exceeded ${TOTAL_TIMEOUT} ms`);
    process.exitCode = 1;
    void cleanup().finally(() => process.exit(1));
  }, TOTAL_TIMEOUT);
  try {
    await run();
  } catch (error) {
    if (!results.some((r) => !r.ok)) {
      results.push({ name: 'setup', ok: false });
      console.log(`not ok - setup\n  ${error.stack || error}`);
    }
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`screenshots in ${OUT}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const fn of cleanups) {
    try {
      await fn();
    } catch (error) {
      log(`cleanup: ${error.message}`);
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

await main();
