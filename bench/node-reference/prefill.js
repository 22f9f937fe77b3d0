// node prefill.js N: empties the click queue, then adds N click jobs with Queue.addBulk (chunks
// of 1,000, a few chunks in flight), as N redirects would have, over the links in `urls`, with
// User-Agents, public IPv4 addresses and referers drawn from bench/lib's lists (the same mix
// bench/lib/click_mix.lua sends the shortener). Run it while no worker runs: the jobs then wait
// as a backlog. Prints the queue's waiting count.
//   env: BENCH_UA_FILE, BENCH_REFERER_FILE (default: ../lib/*.txt), BENCH_SEED (42)
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { BULL_PREFIX, CLICK_JOB_OPTIONS, QUEUE_NAME, bullConnection, clickJobData, makePool } from './lib.js';

const total = Number(process.argv[2]);
if (!Number.isInteger(total) || total <= 0) {
  console.error('usage: node prefill.js N');
  process.exit(2);
}
const lines = (path) => readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
const agents = lines(process.env.BENCH_UA_FILE || new URL('../lib/user_agents.txt', import.meta.url));
const referers = lines(process.env.BENCH_REFERER_FILE || new URL('../lib/referers.txt', import.meta.url))
  .map((l) => (l === '-' ? '' : l));

// mulberry32: a small seeded PRNG, so runs draw the same jobs.
let state = Number(process.env.BENCH_SEED || 42) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
function publicIpv4() {
  let a;
  do a = 1 + Math.floor(random() * 223); while (a === 10 || a === 127);
  return `${a}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`;
}

const pool = makePool(1);
const { rows: links } = await pool.query('SELECT id, slug FROM urls');
await pool.end();
if (links.length === 0) {
  console.error('prefill: no links in urls');
  process.exit(1);
}

const queue = new Queue(QUEUE_NAME, { connection: bullConnection(), prefix: BULL_PREFIX });
await queue.obliterate({ force: true }); // jobs left by the redirect benchmark
await queue.resume(); // obliterate pauses the queue first
const started = Date.now();
const chunk = 1000;
const inFlight = 4;
let next = 0;
async function lane() {
  while (next < total) {
    const n = Math.min(chunk, total - next);
    next += n;
    const jobs = [];
    for (let i = 0; i < n; i++) {
      const link = pick(links);
      jobs.push({
        name: 'click',
        data: clickJobData(link.id, link.slug, publicIpv4(), pick(agents), pick(referers), Date.now()),
        opts: CLICK_JOB_OPTIONS,
      });
    }
    await queue.addBulk(jobs);
  }
}
await Promise.all(Array.from({ length: inFlight }, lane));
const waiting = await queue.getWaitingCount();
console.log(`queued ${total} click jobs in ${((Date.now() - started) / 1000).toFixed(1)}s; waiting ${waiting}`);
await queue.close();
