// Shared configuration and helpers of the Node.js reference (bench/ only, not the product).
//
// Everything lives apart from the shortener's own data: PostgreSQL tables in the schema
// `noderef` (search_path of every pooled connection), Redis cache keys under `noderef:` and
// BullMQ keys under `noderef:bull:`.
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL || 'postgres://localhost/postgres';
export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
export const PG_SCHEMA = process.env.NODEREF_SCHEMA || 'noderef';
export const KEY_PREFIX = process.env.NODEREF_PREFIX || 'noderef';
export const QUEUE_NAME = 'clicks';
export const BULL_PREFIX = `${KEY_PREFIX}:bull`;
export const CACHE_TTL_S = 24 * 60 * 60; // the seed: 24h TTL per slug

// --name value / --name=value, else the environment variable, else the default.
export function flag(name, envName, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}` && i + 1 < argv.length) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return process.env[envName] ?? fallback;
}

export function makePool(max) {
  return new pg.Pool({
    connectionString: DATABASE_URL,
    max,
    idleTimeoutMillis: 60_000,
    options: `-c search_path=${PG_SCHEMA}`,
    application_name: 'noderef',
  });
}

// ioredis options for BullMQ connections (it requires maxRetriesPerRequest: null on workers and
// refuses ioredis' keyPrefix: BullMQ has its own `prefix`).
export function bullConnection() {
  const u = new URL(REDIS_URL);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    password: u.password || undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  };
}

// Job options: the completed job is deleted at once (the click is in PostgreSQL), failures are
// retried with backoff and the last 1,000 failures kept for inspection.
export const CLICK_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};

// The job payload of one redirect: what the worker needs to enrich and store the click.
export function clickJobData(urlId, slug, ip, userAgent, referer, timestampMs) {
  return { urlId, slug, ip, ua: userAgent || '', referer: referer || '', ts: timestampMs };
}
