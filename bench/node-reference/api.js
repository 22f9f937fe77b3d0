// The seed's Fastify API (benchmark reference only):
//
//   POST /api/links {"url": "..."}  -> nanoid slug, INSERT INTO urls, SET link:{slug} (24h TTL),
//                                      201 {"slug", "short_url", "url"}
//   GET  /:slug                     -> Redis GET link:{slug}, PostgreSQL on a miss (and cache it),
//                                      302 Location; a BullMQ "click" job is enqueued without
//                                      awaiting it (the response does not wait for Redis' answer)
//
// node api.js [--listen 127.0.0.1:3000] [--processes 1] [--pool-size 10] [--log]
// (env: LISTEN, API_PROCESSES, PG_POOL_SIZE). --processes N > 1 forks N processes with
// node:cluster sharing the port (one process per core, what the seed gets from several pods).
import cluster from 'node:cluster';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { nanoid } from 'nanoid';
import {
  BULL_PREFIX, CACHE_TTL_S, CLICK_JOB_OPTIONS, KEY_PREFIX, QUEUE_NAME, REDIS_URL,
  bullConnection, clickJobData, flag, makePool,
} from './lib.js';

const listen = flag('listen', 'LISTEN', '127.0.0.1:3000');
const processes = Number(flag('processes', 'API_PROCESSES', '1'));
const poolSize = Number(flag('pool-size', 'PG_POOL_SIZE', '10'));
const logging = process.argv.includes('--log');
const [host, portText] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];
const port = Number(portText);
const publicUrl = process.env.PUBLIC_URL || `http://${host}:${port}`;

if (processes > 1 && cluster.isPrimary) {
  runPrimary();
} else {
  await runServer();
}

function runPrimary() {
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('listening', () => {
    if (++listening === processes) console.log(`listening on http://${host}:${port} (${processes} processes)`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`api process ${worker.process.pid} exited (${signal || code}); stopping`);
      stop();
    }
    if (Object.keys(cluster.workers).length === 0) process.exit(stopping ? 0 : 1);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function runServer() {
  const pool = makePool(poolSize);
  // Cache client: keys become noderef:link:{slug}; auto-pipelining batches concurrent commands.
  const redis = new Redis(REDIS_URL, { keyPrefix: `${KEY_PREFIX}:`, enableAutoPipelining: true });
  const clickQueue = new Queue(QUEUE_NAME, {
    connection: bullConnection(),
    prefix: BULL_PREFIX,
    defaultJobOptions: CLICK_JOB_OPTIONS,
  });
  clickQueue.on('error', (err) => console.error('click queue:', err.message));

  const app = Fastify({ logger: logging, trustProxy: true });
  const slugPattern = /^[A-Za-z0-9_-]{1,32}$/;
  const logError = (what) => (err) => console.error(what, err.message);

  app.get('/healthz', async () => ({ ok: true }));

  app.post('/api/links', {
    schema: {
      body: {
        type: 'object',
        required: ['url'],
        properties: { url: { type: 'string', minLength: 1, maxLength: 2048 } },
      },
    },
  }, async (request, reply) => {
    const { url } = request.body;
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      return reply.code(400).send({ error: 'invalid url' });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return reply.code(400).send({ error: 'only http and https urls' });
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const slug = nanoid(6);
      let id;
      try {
        const { rows } = await pool.query({
          name: 'insert-url',
          text: 'INSERT INTO urls (slug, original_url) VALUES ($1, $2) RETURNING id',
          values: [slug, parsed.href],
        });
        id = rows[0].id;
      } catch (err) {
        if (err.code === '23505') continue; // slug taken: draw another
        throw err;
      }
      await redis.set(`link:${slug}`, JSON.stringify({ id, url: parsed.href }), 'EX', CACHE_TTL_S);
      return reply.code(201).send({ slug, short_url: `${publicUrl}/${slug}`, url: parsed.href });
    }
    return reply.code(503).send({ error: 'could not allocate a slug' });
  });

  app.get('/:slug', async (request, reply) => {
    const { slug } = request.params;
    if (!slugPattern.test(slug)) return reply.code(404).send({ error: 'not found' });
    let link;
    const cached = await redis.get(`link:${slug}`);
    if (cached !== null) {
      link = JSON.parse(cached);
    } else {
      const { rows } = await pool.query({
        name: 'get-url',
        text: 'SELECT id, original_url FROM urls WHERE slug = $1',
        values: [slug],
      });
      if (rows.length === 0) return reply.code(404).send({ error: 'not found' });
      link = { id: rows[0].id, url: rows[0].original_url };
      redis.set(`link:${slug}`, JSON.stringify(link), 'EX', CACHE_TTL_S).catch(logError('cache set:'));
    }
    // Fire and forget: the redirect does not wait for the job to be stored.
    clickQueue
      .add('click', clickJobData(link.id, slug, request.ip, request.headers['user-agent'],
        request.headers.referer, Date.now()))
      .catch(logError('enqueue click:'));
    return reply.redirect(link.url, 302);
  });

  const shutdown = async () => {
    try {
      await app.close();
      await clickQueue.close();
      redis.disconnect();
      await pool.end();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await app.listen({ host, port });
  if (!cluster.isWorker) console.log(`listening on http://${host}:${port}`);
}
