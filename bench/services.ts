/** Makes sure Redis and PostgreSQL answer, starting them the way the tests do when they do not. */
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import pg from 'pg';
import { config } from './config.js';

async function reachable(): Promise<string[]> {
  const missing: string[] = [];
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    missing.push('redis');
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: config.postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch {
    missing.push('postgres');
  } finally {
    await client.end().catch(() => {});
  }
  return missing;
}

/** Runs `scripts/services.sh` when a server is unreachable; throws when it still is. */
export async function ensureServices(): Promise<void> {
  if ((await reachable()).length === 0) return;
  console.log('bench: starting services with scripts/services.sh');
  execFileSync('bash', ['scripts/services.sh'], { stdio: 'inherit' });
  const missing = await reachable();
  if (missing.length > 0) throw new Error(`unreachable after scripts/services.sh: ${missing.join(', ')}`);
}

/** Server versions, for the results header. */
export async function serverVersions(): Promise<Record<string, string>> {
  const redis = new Redis(config.redisUrl);
  const client = new pg.Client({ connectionString: config.postgresUrl });
  try {
    const info = await redis.info('server');
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return {
      'redis-server': /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
      postgresql: rows[0]?.server_version ?? '?',
    };
  } finally {
    redis.disconnect();
    await client.end();
  }
}
