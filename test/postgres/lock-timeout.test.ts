/**
 * A `lock_timeout` on the store's sessions (the URL's `?lock_timeout=`, or one set on the role):
 * a lock wait it ends is a BackendUnavailableError naming the call, as a statement timeout's
 * is, and the library's own waits at open (creating or upgrading the schema, waking its search
 * machinery) queue whatever it says, bounded by `statementTimeoutMillis` alone.
 */
import { PostgresStorage, type PostgresStorageConfig } from '../../src/backends/postgres/index.js';
import { rawMessagesLock } from '../../src/backends/postgres/sql.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { ident, POSTGRES_TEST_URL, usePostgresStore, useTestRoles } from './helpers.js';

/** The advisory-lock namespace of a schema's creation, upgrade and wake (`schema-v7.ts`). */
const SCHEMA_LOCK = 'connectome-storage schema';

/** The advisory-lock namespace of chain appends (`postgres/chains.ts`). */
const CHAINS_LOCK = 'connectome-storage chains';

/** The lock timeout of the sessions, short enough to pass during any of the waits below. */
const LOCK_TIMEOUT_MILLIS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithService('postgres')('postgres lock_timeout', () => {
  const ctx = usePostgresStore();
  const roles = useTestRoles(ctx);

  /** A URL of the test server whose sessions run with the lock timeout, set as `by` says. */
  async function lockTimeoutUrl(by: 'the URL' | 'the role'): Promise<string> {
    const url = new URL(POSTGRES_TEST_URL);
    if (by === 'the URL') {
      url.searchParams.set('lock_timeout', String(LOCK_TIMEOUT_MILLIS));
      return url.toString();
    }
    // A role of the test's own (never `postgres`): a role's setting applies to every session.
    const { role, url: roleUrl } = await roles.create('lt');
    await ctx.raw().query(`ALTER ROLE ${role} SET lock_timeout = '${LOCK_TIMEOUT_MILLIS}ms'`);
    const { rows } = await ctx.raw().query<{ db: string }>('SELECT current_database() AS db');
    await ctx.raw().query(`GRANT CREATE ON DATABASE ${ident(rows[0]?.db ?? '')} TO ${role}`);
    return roleUrl;
  }

  /** A storage on the test schema (not initialized; shut down after the test). */
  function storage(url: string, config: PostgresStorageConfig = {}): PostgresStorage {
    return roles.track(new PostgresStorage({ url, schema: ctx.schema(), max: 2, ...config }));
  }

  /** Holds the advisory lock (`namespace`, `key`) in a transaction of the raw pool until released. */
  async function holdLock(namespace: string, key: string): Promise<() => Promise<void>> {
    const client = await ctx.raw().connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [namespace, key]);
    return async () => {
      await client.query('ROLLBACK');
      client.release();
    };
  }

  it.each(['the URL', 'the role'] as const)(
    'with a lock_timeout from %s, four instances opening a new schema at once all open',
    async (by) => {
      // Until 2026-12-06 one opened and the others failed "create schema ...: canceling
      // statement due to lock timeout", having waited for the first's creation.
      const url = await lockTimeoutUrl(by);
      const instances = Array.from({ length: 4 }, () => storage(url));
      await Promise.all(instances.map((s) => s.initialize()));
      await Promise.all(instances.map((s, i) => s.storeMemory('c', `m${i}`, { i })));
      expect(await instances[0]!.loadMemories('c')).toHaveLength(4);
    },
  );

  it.each(['create the schema', 'wake the search machinery'])(
    'an open that must %s waits past the lock_timeout for another holding the schema lock',
    async (step) => {
      const url = await lockTimeoutUrl('the URL');
      // A schema created with the index off has its search machinery asleep: an index-on open wakes it.
      if (step !== 'create the schema') await (await ctx.open({ searchIndex: false })).shutdown();
      const release = await holdLock(SCHEMA_LOCK, ctx.schema());
      const s = storage(url, { searchIndex: true });
      let settled = false;
      const opening = s.initialize().finally(() => {
        settled = true;
      });
      try {
        await sleep(LOCK_TIMEOUT_MILLIS * 4);
        expect(settled).toBe(false);
      } finally {
        await release();
      }
      await opening;
      await s.storeMemory('c', 'm', { text: 'waited for the lock' });
      const hits = await s.search({ text: 'waited', kinds: ['memories'] });
      expect(hits.map((hit) => hit.kind)).toEqual(['memories']);
    },
  );

  it.each(['the URL', 'the role'] as const)(
    'a write whose lock wait the lock_timeout from %s ends is a BackendUnavailableError naming it',
    async (by) => {
      // As a statement timeout on the same wait (57014); until 2026-12-06 a plain StorageError.
      const s = storage(await lockTimeoutUrl(by));
      await s.initialize();
      await s.storeRawMessages('c1', [1]);
      const release = await holdLock(rawMessagesLock(ctx.schema()), 'c1');
      let error: unknown;
      const started = Date.now();
      try {
        error = await s.storeRawMessages('c1', [1, 2]).catch((e: unknown) => e);
      } finally {
        await release();
      }
      expect(Date.now() - started).toBeLessThan(10_000); // the statement timeout is 60 s
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toContain('store raw messages of "c1"');
      expect((error as Error).message).toContain('lock timeout');
      expect(await s.loadRawMessages('c1')).toEqual([1]);
    },
  );

  it('a chain batch that fails names the batch, not one chain', async () => {
    // Until 2026-12-06 a batch of any size was named "store reasoning chain of ...".
    const s = storage(await lockTimeoutUrl('the URL'));
    await s.initialize();
    const release = await holdLock(CHAINS_LOCK, 'a1');
    let error: unknown;
    try {
      error = await s.appendReasoningChains('a1', [{ n: 1 }, { n: 2 }, { n: 3 }]).catch((e: unknown) => e);
    } finally {
      await release();
    }
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain('append 3 reasoning chains of "a1"');
    expect(await s.loadReasoningChains('a1')).toEqual([]);
  });
});
