/** Removing what a subject wrote: Redis keys under a prefix, a PostgreSQL schema or table. */
import { Redis } from 'ioredis';
import pg from 'pg';
import { config } from './config.js';

/** Deletes every key starting with `prefix` (SCAN + UNLINK; the bench owns the prefix). */
export async function deleteRedisPrefix(prefix: string, url = config.redisUrl): Promise<void> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** Runs one statement on a short-lived connection. */
export async function postgresExec(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: config.postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Drops a schema and everything in it. */
export const dropSchema = (schema: string): Promise<void> =>
  postgresExec(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
