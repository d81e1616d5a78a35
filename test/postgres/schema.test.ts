/**
 * The schema: created in the configured schema with a version row, opened again unchanged,
 * created once when many instances open a new schema at the same time; a newer version, a
 * schema holding someone else's tables and an unreadable row are refused with typed errors.
 */
import {
  POSTGRES_SCHEMA_VERSION,
  POSTGRES_TABLES,
  PostgresStorage,
} from '../../src/backends/postgres/index.js';
import { ConfigError, CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { createSchemaAtVersion, ident, POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres schema', () => {
  const ctx = usePostgresStore();

  async function tables(schema: string): Promise<string[]> {
    const { rows } = await ctx
      .raw()
      .query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [
        schema,
      ]);
    return rows.map((r) => r.name);
  }

  async function version(schema: string): Promise<string | undefined> {
    const { rows } = await ctx
      .raw()
      .query<{ value: string }>(
        `SELECT value FROM ${ident(schema)}.storage_meta WHERE key = 'schema_version'`,
      );
    return rows[0]?.value;
  }

  it('creates the schema, its tables and the version row; a second open changes nothing', async () => {
    const schema = ctx.schema();
    const s = await ctx.open();
    expect(await tables(schema)).toEqual([...POSTGRES_TABLES, 'search_stats', 'storage_meta'].sort());
    expect(await version(schema)).toBe(String(POSTGRES_SCHEMA_VERSION));
    await s.storeConversation('c1', { v: 1 });
    await s.shutdown();

    const again = await ctx.open();
    expect(await again.loadConversation('c1')).toEqual({ v: 1 });
    expect((await again.healthCheck()).schema_version).toBe(POSTGRES_SCHEMA_VERSION);
  });

  it('keeps JSON in text columns, never jsonb', async () => {
    await ctx.open();
    const { rows } = await ctx.raw().query<{ type: string }>(
      `SELECT DISTINCT data_type AS type FROM information_schema.columns
        WHERE table_schema = $1 AND column_name IN
          ('data', 'message_data', 'memory_data', 'chain_data', 'chunk_data', 'cache_data', 'state_data')`,
      [ctx.schema()],
    );
    expect(rows.map((r) => r.type)).toEqual(['text']);
  });

  it('uses a schema name with capitals, quotes and spaces exactly as written', async () => {
    const schema = `${ctx.schema()} "Odd" Name`;
    const s = ctx.track(new PostgresStorage({ url: POSTGRES_TEST_URL, schema }));
    try {
      await s.initialize();
      await s.storeSystemState('k', { v: 1 });
      expect(await s.loadSystemState('k')).toEqual({ v: 1 });
      expect(await tables(schema)).toContain('system_state');
    } finally {
      await s.shutdown();
      await ctx.raw().query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    }
  });

  it.each([
    ['created', 0],
    ['upgraded from version 2', 2],
  ])('uses a schema name holding dollar-quote tags ($body$, $cs$), %s', async (_, from) => {
    // Every function of the schema names it in its body: a tag in the name ended the body early.
    const schema = `${ctx.schema()}$body$x$cs$`;
    if (from > 0) await createSchemaAtVersion((sql, params) => ctx.raw().query(sql, params), schema, from);
    const s = ctx.track(new PostgresStorage({ url: POSTGRES_TEST_URL, schema }));
    try {
      await s.initialize();
      expect(await version(schema)).toBe(String(POSTGRES_SCHEMA_VERSION));
      await s.storeRawMessages('c', [{ text: 'walrus tea' }]);
      await s.storeMemories('c', [
        { memoryId: 'm1', data: { text: 'otter' } },
        { memoryId: 'm2', data: { text: 'seal' } },
      ]);
      await s.deleteMemories('c', ['m1']);
      await s.appendReasoningChains('agent', [{ step: 'walrus' }]);
      expect((await s.search({ text: 'walrus' })).map((hit) => hit.kind).sort()).toEqual([
        'raw_messages',
        'reasoning_chains',
      ]);
      expect(await s.getStorageStats()).toMatchObject({
        memory_count: 1,
        raw_message_count: 1,
        reasoning_chain_count: 1,
      });
      await s.deleteConversation('c');
      expect(await s.loadMemories('c')).toEqual([]);
    } finally {
      await s.shutdown();
      await ctx.raw().query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
    }
  });

  it('creates a new schema once when eight instances open it at the same time', async () => {
    const instances = Array.from({ length: 8 }, () =>
      ctx.track(new PostgresStorage({ url: POSTGRES_TEST_URL, schema: ctx.schema(), max: 2 })),
    );
    await Promise.all(instances.map((s) => s.initialize()));
    await Promise.all(instances.map((s, i) => s.storeMemory('c', `m${i}`, { i })));
    expect(await instances[0]!.loadMemories('c')).toHaveLength(8);
  });

  it('refuses a schema written by a newer version, naming the schema key', async () => {
    const s = await ctx.open();
    await s.shutdown();
    await ctx
      .raw()
      .query(`UPDATE ${ident(ctx.schema())}.storage_meta SET value = '99' WHERE key = 'schema_version'`);
    const error = await new PostgresStorage({ url: POSTGRES_TEST_URL, schema: ctx.schema() })
      .initialize()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('schema');
    expect((error as Error).message).toMatch(/schema version 99, newer/);
    expect((error as Error).message).not.toContain('postgres:postgres@');
  });

  it("refuses to adopt a schema that already holds someone else's tables, and leaves them alone", async () => {
    const schema = ctx.schema();
    await ctx.raw().query(`CREATE SCHEMA ${ident(schema)}`);
    await ctx.raw().query(`CREATE TABLE ${ident(schema)}.memories (id int)`);
    const error = await new PostgresStorage({ url: POSTGRES_TEST_URL, schema })
      .initialize()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('memories');
    expect(await tables(schema)).toEqual(['memories']);
  });

  it('reports a row that is not JSON as CorruptDataError naming the row, and other rows stay readable', async () => {
    const s = await ctx.open();
    await s.storeConversation('good', { v: 1 });
    await s.storeConversation('bad', { v: 2 });
    await ctx
      .raw()
      .query(`UPDATE ${ident(ctx.schema())}.conversations SET data = '{oops' WHERE conversation_id = 'bad'`);
    const error = await s.loadConversation('bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('conversations');
    expect((error as Error).message).toContain('"bad"');
    expect(await s.loadConversation('good')).toEqual({ v: 1 });
  });

  // Loads build the row's location only when a value is bad: it must still name the row.
  it('names the bad row of a chain, memory, raw message, cache or chunk info load (not JSON, or not an object)', async () => {
    const s = await ctx.open();
    const t = ident(ctx.schema());
    await s.storeReasoningChain('agent', { n: 1 });
    await s.storeReasoningChain('agent', { n: 2 });
    await s.storeMemory('conv', 'mem', { v: 1 });
    await s.storeRawMessages('conv', [{ a: 1 }, { b: 2 }]);
    const message = async (load: () => Promise<unknown>): Promise<string> => {
      const error = await load().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      return (error as Error).message;
    };
    const [last] = (await ctx.raw().query<{ id: string }>(`SELECT max(id) AS id FROM ${t}.reasoning_chains`))
      .rows;
    await ctx.raw().query(`UPDATE ${t}.reasoning_chains SET chain_data = '[1]' WHERE id = $1`, [last?.id]);
    const chain = await message(() => s.loadReasoningChains('agent', 10));
    expect(chain).toContain(`reasoning_chains id ${last?.id} (agent "agent")`);
    expect(chain).toContain('not a JSON object');
    await ctx.raw().query(`UPDATE ${t}.memories SET memory_data = '{oops'`);
    expect(await message(() => s.loadMemories('conv'))).toContain(
      'memories conversation "conv", memory "mem"',
    );
    await ctx.raw().query(`UPDATE ${t}.raw_messages SET message_data = '{oops' WHERE message_index = 1`);
    expect(await message(() => s.loadRawMessages('conv'))).toContain('raw messages of "conv", index 1');
    await s.storeCacheEntry('key', { v: 1 }, 3600);
    await ctx.raw().query(`UPDATE ${t}.cache_entries SET cache_data = '{oops'`);
    expect(await message(() => s.loadCacheEntry('key'))).toContain('cache_entries cache entry "key"');
    // A batch names the bad row's own key, not the last key of the batch (one location per batch).
    await s.storeCacheEntries(['a', 'key', 'z'].map((key) => ({ key, data: { v: 1 }, ttlSeconds: 3600 })));
    await ctx.raw().query(`UPDATE ${t}.cache_entries SET cache_data = '{oops' WHERE cache_key = 'key'`);
    const batch = await message(() => s.loadCacheEntries(['a', 'key', 'z']));
    expect(batch).toContain('cache_entries cache entry "key"');
    expect(batch).not.toContain('"z"');
    await s.storeChunkInfo('conv', { c: 1 });
    await ctx.raw().query(`UPDATE ${t}.chunk_info SET chunk_data = '[1]'`);
    const chunk = await message(() => s.loadChunkInfo('conv'));
    expect(chunk).toContain('chunk_info chunk info of "conv"');
    expect(chunk).toContain('not a JSON object');
  });
});
