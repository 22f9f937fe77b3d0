// The seed's BullMQ click worker (benchmark reference only): for each "click" job, geo from the
// IP (geoip-lite, its bundled GeoLite data), device/browser/OS from the User-Agent
// (ua-parser-js), then one statement that inserts the raw click and upserts the link's daily
// counter (atomic: a data-modifying CTE, one round trip).
//
// node worker.js [--concurrency 32] [--pool-size N]   (env: WORKER_CONCURRENCY, PG_POOL_SIZE)
// Run several processes to use several cores; each takes jobs from the same queue.
import { Worker } from 'bullmq';
import geoip from 'geoip-lite';
import UAParser from 'ua-parser-js';
import { BULL_PREFIX, QUEUE_NAME, bullConnection, flag, makePool } from './lib.js';

const concurrency = Number(flag('concurrency', 'WORKER_CONCURRENCY', '32'));
const poolSize = Number(flag('pool-size', 'PG_POOL_SIZE', String(Math.min(concurrency, 16))));

const pool = makePool(poolSize);
const parser = new UAParser();

const INSERT_CLICK = `
WITH c AS (
  INSERT INTO clicks (url_id, clicked_at, ip, country, region, city, device_type, browser, os, referrer)
  VALUES ($1, to_timestamp($2::double precision / 1000), $3, $4, $5, $6, $7, $8, $9, $10)
  RETURNING url_id, clicked_at
)
INSERT INTO daily_clicks (url_id, day, clicks)
SELECT url_id, (clicked_at AT TIME ZONE 'UTC')::date, 1 FROM c
ON CONFLICT (url_id, day) DO UPDATE SET clicks = daily_clicks.clicks + 1`;

async function processClick(job) {
  const { urlId, ip, ua, referer, ts } = job.data;
  const geo = ip ? geoip.lookup(ip) : null;
  const agent = parser.setUA(ua || '').getResult(); // synchronous: safe to share one parser
  await pool.query({
    name: 'insert-click',
    text: INSERT_CLICK,
    values: [
      urlId,
      ts,
      ip || null,
      geo?.country || null,
      geo?.region || null,
      geo?.city || null,
      agent.device.type || 'desktop',
      agent.browser.name || null,
      agent.os.name || null,
      referer || null,
    ],
  });
}

const worker = new Worker(QUEUE_NAME, processClick, {
  connection: bullConnection(),
  prefix: BULL_PREFIX,
  concurrency,
});
worker.on('failed', (job, err) => console.error(`click job ${job?.id} failed: ${err.message}`));
worker.on('error', (err) => console.error('worker:', err.message));

const shutdown = async () => {
  try {
    await worker.close(); // lets the active jobs finish
    await pool.end();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

await worker.waitUntilReady();
console.log(`worker ready (concurrency ${concurrency}, pool ${poolSize})`);
