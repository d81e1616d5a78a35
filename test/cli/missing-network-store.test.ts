/**
 * The commands that open a store writable but must not create it (`purge-cache`, and a
 * `migrate --upgrade-source` source) refuse a Redis prefix or PostgreSQL schema that does not
 * exist, as they refuse a missing folder or database file: exit 2, nothing created. Until
 * 2026-12-06 such a typo created an empty store and exited 0. A store in an older format is
 * still opened, and upgraded.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { redactUrl } from '../../src/core/index.js';
import {
  dropSchema,
  POSTGRES_TEST_URL,
  schemaExists,
  uniqueTestSchema,
  withPgClient,
} from '../conformance/harness-postgres.js';
import { REDIS_TEST_URL, uniqueTestPrefix } from '../conformance/harness-redis.js';
import { createSchemaAtVersion } from '../postgres/helpers.js';
import { deleteKeysWithPrefix, quickClient, scanKeysWithPrefix } from '../redis/redis-server.js';
import { describeWithService } from '../services.js';
import { cli } from './run-cli.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-missing-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * Runs `purge-cache` (plain and `--json`) and `migrate --upgrade-source` from `spec`, checking
 * each exits 2 naming the missing store and that the migration's target was not created.
 */
async function expectRefused(spec: string, shown: string): Promise<void> {
  const plain = await cli('purge-cache', spec);
  expect({ code: plain.code, stdout: plain.stdout }).toEqual({ code: 2, stdout: '' });
  expect(plain.stderr).toContain(`The store ${shown} does not exist (`);
  expect(plain.stderr).toContain('nothing was created');
  const json = await cli('purge-cache', spec, '--json');
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2 });
  const target = join(dir, 'target.db');
  const migrated = await cli('migrate', '--from', spec, '--to', `sqlite:${target}`, '--upgrade-source');
  expect(migrated.code).toBe(2);
  expect(migrated.stderr).toContain(`The source ${shown} does not exist (`);
  expect(existsSync(target)).toBe(false);
}

describeWithService('redis')('CLI: a writable open of a missing Redis prefix', () => {
  const client = quickClient(REDIS_TEST_URL);
  const prefixes: string[] = [];
  const specOf = (prefix: string) => `${REDIS_TEST_URL}?prefix=${encodeURIComponent(prefix)}`;
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysWithPrefix(client, prefix).catch(() => undefined);
    client.disconnect();
  });

  it('exits 2 and writes no key (purge-cache, migrate --upgrade-source)', async () => {
    const prefix = uniqueTestPrefix();
    prefixes.push(prefix);
    await expectRefused(specOf(prefix), `${REDIS_TEST_URL} (prefix ${JSON.stringify(prefix)})`);
    expect(await scanKeysWithPrefix(client, prefix)).toEqual([]);
  });

  it('still purges an existing prefix', async () => {
    const prefix = uniqueTestPrefix();
    prefixes.push(prefix);
    const store = new RedisStorage({ url: REDIS_TEST_URL, keyPrefix: prefix });
    await store.initialize();
    await store.storeCacheEntry('soon', { v: 1 }, 0.01);
    await store.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const result = await cli('purge-cache', specOf(prefix), '--json');
    expect({ code: result.code, out: JSON.parse(result.stdout) as unknown }).toMatchObject({
      code: 0,
      out: { removed: 1 },
    });
  });
});

describeWithService('postgres')('CLI: a writable open of a missing PostgreSQL schema', () => {
  const schemas: string[] = [];
  const specOf = (schema: string) => {
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it('exits 2 and creates no schema (purge-cache, migrate --upgrade-source)', async () => {
    const schema = uniqueTestSchema();
    schemas.push(schema);
    await expectRefused(specOf(schema), `${redactUrl(POSTGRES_TEST_URL)} (schema ${JSON.stringify(schema)})`);
    expect(await schemaExists(schema)).toBe(false);
  });

  it('still purges an existing schema, and upgrades one in an older format', async () => {
    const current = uniqueTestSchema();
    const older = uniqueTestSchema();
    schemas.push(current, older);
    const store = new PostgresStorage({ url: POSTGRES_TEST_URL, schema: current });
    await store.initialize();
    await store.shutdown();
    await withPgClient((client) =>
      createSchemaAtVersion((sql, params) => client.query(sql, params), older, 5),
    );
    for (const schema of [current, older]) {
      const result = await cli('purge-cache', specOf(schema), '--json');
      expect({ schema, code: result.code }).toEqual({ schema, code: 0 });
    }
    const version = await withPgClient((client) =>
      client.query<{ value: string }>(
        `SELECT value FROM "${older}".storage_meta WHERE key = 'schema_version'`,
      ),
    );
    expect(Number(version.rows[0]?.value)).toBeGreaterThan(5);
  });
});
