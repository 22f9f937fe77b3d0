// node migrate.js [--reset]: creates the schema and its tables (idempotent). --reset drops the
// schema first (throwaway bench databases only).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { DATABASE_URL, PG_SCHEMA } from './lib.js';

const client = new pg.Client({ connectionString: DATABASE_URL });
await client.connect();
try {
  const schema = client.escapeIdentifier(PG_SCHEMA);
  if (process.argv.includes('--reset')) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  await client.query(readFileSync(new URL('./schema.sql', import.meta.url), 'utf8'));
  console.log(`schema ${PG_SCHEMA} ready`);
} finally {
  await client.end();
}
