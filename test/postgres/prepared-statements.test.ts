/**
 * Named prepared statements: the hot calls are prepared on the connection (seen in the
 * server's `pg_prepared_statements` of that session), never with `preparedStatements: false`,
 * and a statement prepared for one schema never runs against another on a shared pool.
 */
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { buildChainSql } from '../../src/backends/postgres/chains.js';
import { buildSql } from '../../src/backends/postgres/sql.js';
import { ConfigError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

type Prepared = { name: string; statement: string };

/** The statements prepared on the pool's one connection (the query itself is unnamed). */
async function preparedOn(pool: pg.Pool): Promise<Prepared[]> {
  const result = await pool.query<Prepared>('SELECT name, statement FROM pg_prepared_statements');
  return result.rows;
}

/** One call of each hot method. */
async function hotCalls(s: PostgresStorage): Promise<void> {
  await s.storeConversation('conv', { title: 't' });
  await s.loadConversation('conv');
  await s.storeMemory('conv', 'm1', { text: 'x' });
  await s.loadMemories('conv');
  await s.storeReasoningChain('agent', { step: 1 });
  await s.loadReasoningChains('agent', 5);
  await s.storeCacheEntry('k', { v: 1 }, 60);
  await s.loadCacheEntry('k');
  await s.listConversations();
}

describeWithService('postgres')('postgres prepared statements', () => {
  const ctx = usePostgresStore();
  const pools: pg.Pool[] = [];

  /** A pool of exactly one connection, so `pg_prepared_statements` shows what the store prepared. */
  function onePool(): pg.Pool {
    const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  }

  afterEach(async () => {
    // The stores are shut down by the helper first; a given pool is never ended by them.
    for (const pool of pools.splice(0)) await pool.end();
  });

  it('prepares each hot statement once on the connection, under its stable name', async () => {
    const pool = onePool();
    const s = await ctx.open({ pool });
    expect(s.config.preparedStatements).toBe(true);
    await hotCalls(s);
    await hotCalls(s);
    const sql = buildSql(ctx.schema());
    const chainSql = buildChainSql(ctx.schema());
    const expected = [
      sql.upsertConversation,
      sql.selectConversation,
      sql.upsertMemory,
      sql.selectMemories,
      chainSql.lockedInsertOne,
      sql.selectLastChains,
      sql.upsertCache,
      sql.selectCache,
      sql.listConversations,
    ];
    const prepared = await preparedOn(pool);
    for (const statement of expected) {
      expect(prepared.filter((row) => row.name === statement.name)).toEqual([
        { name: statement.name, statement: statement.text },
      ]);
    }
  });

  it('prepares nothing with preparedStatements: false, and works the same', async () => {
    const pool = onePool();
    const s = await ctx.open({ pool, preparedStatements: false });
    expect(s.config.preparedStatements).toBe(false);
    await hotCalls(s);
    expect(await s.loadConversation('conv')).toEqual({ title: 't' });
    expect(await s.loadCacheEntry('k')).toEqual({ v: 1 });
    expect(await preparedOn(pool)).toEqual([]);
  });

  it('never runs a statement prepared for one schema against another on a shared pool', async () => {
    const pool = onePool();
    const a = await ctx.open({ pool });
    const b = ctx.track(new PostgresStorage({ pool, schema: ctx.extraSchema() }));
    await b.initialize();
    for (let round = 0; round < 2; round += 1) {
      await a.storeConversation('same', { store: 'a', round });
      await b.storeConversation('same', { store: 'b', round });
      await a.storeCacheEntry('same', { store: 'a', round });
      await b.storeCacheEntry('same', { store: 'b', round });
    }
    expect(await a.loadConversation('same')).toEqual({ store: 'a', round: 1 });
    expect(await b.loadConversation('same')).toEqual({ store: 'b', round: 1 });
    expect(await a.loadCacheEntry('same')).toEqual({ store: 'a', round: 1 });
    expect(await b.loadCacheEntry('same')).toEqual({ store: 'b', round: 1 });
    const names = new Set((await preparedOn(pool)).map((row) => row.name));
    expect(names.has(buildSql(a.schema).upsertConversation.name)).toBe(true);
    expect(names.has(buildSql(b.schema).upsertConversation.name)).toBe(true);
    expect(buildSql(a.schema).upsertConversation.name).not.toBe(buildSql(b.schema).upsertConversation.name);
  });

  it('refuses a preparedStatements value that is not a boolean, naming the key', () => {
    const error = (() => {
      try {
        new PostgresStorage({ preparedStatements: 'no' as unknown as boolean });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('preparedStatements');
  });
});

describe('postgres statement names', () => {
  it('are stable, one per distinct text (so per schema), and fit a PostgreSQL identifier', () => {
    const a = Object.values(buildSql('connectome'));
    const again = Object.values(buildSql('connectome'));
    const b = Object.values(buildSql('Connectome'));
    expect(again.map((s) => s.name)).toEqual(a.map((s) => s.name));
    const all = [...a, ...b];
    const texts = new Set(all.map((s) => s.text));
    expect(new Set(all.map((s) => s.name)).size).toBe(texts.size);
    // A statement on the tables names its schema, so the two schemas never share its name.
    const upserts = [buildSql('connectome').upsertCache.name, buildSql('Connectome').upsertCache.name];
    expect(new Set(upserts).size).toBe(2);
    for (const { name } of all) expect(name).toMatch(/^cs_[0-9a-f]{24}$/);
  });
});
