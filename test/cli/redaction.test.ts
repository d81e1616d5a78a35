/**
 * The CLI redacts the password field of URLs only: with a password that is also a common word
 * (`postgres`), a single letter (`s`) or percent-encoded characters, its output shows no
 * password, and words, JSON keys and the rest of each URL are untouched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { RECORD_KINDS } from '../../src/core/index.js';
import { dropSchema, POSTGRES_TEST_URL, uniqueTestSchema } from '../conformance/harness-postgres.js';
import { REDIS_TEST_URL, uniqueTestPrefix } from '../conformance/harness-redis.js';
import { deleteKeysWithPrefix, quickClient } from '../redis/redis-server.js';
import { describeWithService } from '../services.js';
import { cli } from './run-cli.js';

/** `base` with its password replaced by `password` (raw, as a user would type it). */
function withPassword(base: string, password: string, query: string): string {
  const url = new URL(base);
  return `${url.protocol}//${decodeURIComponent(url.username)}:${password}@${url.host}${url.pathname}?${query}`;
}

/** No password in `output`, and every `***` is a URL's password field (no word was touched). */
function expectOnlyPasswordsMasked(output: string, forbidden: readonly string[]): void {
  for (const secret of forbidden) expect(output).not.toContain(secret);
  expect(output.split('***').length).toBe(output.split(':***@').length);
}

const ENCODED = 'p%40ss%2Fw0rd%3A';
const DECODED = 'p@ss/w0rd:';

describeWithService('postgres')('CLI redaction with PostgreSQL', () => {
  const schema = uniqueTestSchema();
  let statsKeys: string[];
  let healthKeys: string[];
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connectome-redaction-'));
    // The store exists before the CLI looks at it (the CLI never has to create it).
    const store = new PostgresStorage({ url: POSTGRES_TEST_URL, schema });
    await store.initialize();
    statsKeys = Object.keys(await store.getStorageStats());
    healthKeys = Object.keys(await store.healthCheck());
    await store.shutdown();
  });
  afterAll(async () => {
    await dropSchema(schema);
    await rm(dir, { recursive: true, force: true });
  });
  const password = decodeURIComponent(new URL(POSTGRES_TEST_URL).password);
  const spec = withPassword(POSTGRES_TEST_URL, encodeURIComponent(password), `schema=${schema}`);

  it('stats and health keep words and keys whole (the test password is "postgres")', async () => {
    const text = await cli('stats', spec);
    expect(text.code).toBe(0);
    expectOnlyPasswordsMasked(text.all, [`:${password}@`]);
    expect(text.stdout).toMatch(/^storage_type: +postgres$/m);
    expect(text.stdout).toMatch(/^store: +postgres:\/\/[^:]+:\*\*\*@/m);
    const json = await cli('stats', spec, '--json');
    expectOnlyPasswordsMasked(json.all, [`:${password}@`]);
    const stats = JSON.parse(json.stdout) as Record<string, unknown>;
    // The CLI opens the store read-only, which stats report as `read_only`.
    expect(Object.keys(stats).sort()).toEqual(['store', 'read_only', ...statsKeys].sort());
    expect(stats.storage_type).toBe('postgres');
    const health = await cli('health', spec, '--json');
    expect(health.code).toBe(0);
    expectOnlyPasswordsMasked(health.all, [`:${password}@`]);
    expect(Object.keys(JSON.parse(health.stdout) as object).sort()).toEqual(
      ['store', 'read_only', ...healthKeys].sort(),
    );
  });

  it('migrate --json keeps the summary keys and masks only the password', async () => {
    const result = await cli('migrate', '--from', spec, '--to', `file:${join(dir, 'copy')}`, '--json');
    expect(result.code).toBe(0);
    expectOnlyPasswordsMasked(result.all, [`:${password}@`]);
    const summary = JSON.parse(result.stdout) as { source: string; counts: object };
    expect(summary.source).toMatch(/^postgres:\/\/[^:]+:\*\*\*@/);
    expect(Object.keys(summary.counts).sort()).toEqual([...RECORD_KINDS].sort());
  });

  it("keeps a server message that contains the password's word intact", async () => {
    const url = new URL(POSTGRES_TEST_URL);
    url.pathname = `/no_such_${password}_db`;
    const result = await cli('stats', `${url.toString()}?schema=${schema}`, '--json');
    expect(result.code).toBe(2);
    expectOnlyPasswordsMasked(result.all, [`:${password}@`]);
    expect((JSON.parse(result.stdout) as { error: string }).error).toContain(
      `database "no_such_${password}_db" does not exist`,
    );
  });

  it.each([
    ['a one-letter password', 's', [':s@']],
    ['a percent-encoded password', ENCODED, [ENCODED, DECODED]],
  ])('an error with %s names the URL with only its password masked', async (_name, wrong, forbidden) => {
    const bad = withPassword(POSTGRES_TEST_URL, wrong, `schema=${schema}&connectionTimeoutMillis=5000`);
    for (const args of [
      ['stats', bad],
      ['stats', bad, '--json'],
      ['health', bad, '--json'],
    ]) {
      const result = await cli(...args);
      expectOnlyPasswordsMasked(result.all, forbidden);
      if (result.code === 0) continue; // a server that does not check passwords
      expect(result.all).toContain('password authentication failed for user');
      if (args.includes('--json')) {
        const keys = Object.keys(JSON.parse(result.stdout) as object).sort();
        expect(keys).toEqual(
          args[0] === 'health' ? ['error', 'status', 'storage_type', 'store'] : ['error', 'exitCode', 'ok'],
        );
      } else {
        expect(result.stderr).toMatch(
          /^connectome-storage: Cannot open the store postgres:\/\/[^:]+:\*\*\*@/,
        );
      }
    }
  });
});

describeWithService('redis')('CLI redaction with Redis', () => {
  const prefix = uniqueTestPrefix();
  let statsKeys: string[];
  beforeAll(async () => {
    const store = new RedisStorage({ url: REDIS_TEST_URL, keyPrefix: prefix });
    await store.initialize();
    await store.storeCacheEntry('k', { v: 1 });
    statsKeys = Object.keys(await store.getStorageStats());
    await store.shutdown();
  });
  afterAll(async () => {
    const client = quickClient(REDIS_TEST_URL);
    await deleteKeysWithPrefix(client, prefix).finally(() => client.disconnect());
  });

  // The test server has no password, so any password is accepted (the driver only warns).
  it.each([
    ['a one-letter password', 's', [':s@']],
    ['a percent-encoded password', ENCODED, [ENCODED, DECODED]],
  ])('stats with %s keeps words and JSON keys whole', async (_name, password, forbidden) => {
    if (new URL(REDIS_TEST_URL).password !== '') return; // a server with its own password
    const spec = withPassword(REDIS_TEST_URL, password, `prefix=${encodeURIComponent(prefix)}`);
    const text = await cli('stats', spec);
    expect(text.code).toBe(0);
    expectOnlyPasswordsMasked(text.all, forbidden);
    expect(text.stdout).toMatch(/^storage_type: +redis$/m);
    expect(text.stdout).toMatch(/^system_state_count: +0$/m);
    expect(text.stdout).toMatch(/^cache_entry_count: +1$/m);
    const json = await cli('stats', spec, '--json');
    expectOnlyPasswordsMasked(json.all, forbidden);
    const stats = JSON.parse(json.stdout) as Record<string, unknown>;
    // The CLI opens the store read-only, which stats report as `read_only`.
    expect(Object.keys(stats).sort()).toEqual(['store', 'read_only', ...statsKeys].sort());
    expect(stats).toMatchObject({
      storage_type: 'redis',
      store: expect.stringMatching(/^redis:\/\/:\*\*\*@/),
    });
  });
});
