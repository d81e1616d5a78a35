/**
 * Older schemas upgrade in place to the current version. Version 3 (from 2): the id columns
 * become `COLLATE "C"`, the stats trigger runs a static statement. Version 4 (from 3): the stats
 * triggers run only for statements that touch an indexed row. Version 5 (from 4): the stats are
 * one call of the schema's `storage_stats` function. Version 6 (from 5): a raw-message list is
 * stored by one call of its `store_raw_messages` function. Version 8 (from 7): a conversation's
 * delete and a memory delete batch are one call each of its `delete_conversation` and
 * `delete_memories` functions. The rows, the search index and its corpus figures are kept and
 * stay in step with later writes.
 */
import { POSTGRES_SCHEMA_VERSION } from '../../src/backends/postgres/schema.js';
import { describeWithService } from '../services.js';
import { createSchemaAtVersion, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres schema upgrade', () => {
  const ctx = usePostgresStore();

  /** Creates the test schema at `version` with the DDL each earlier release ran. */
  const createAtVersion = (version: number): Promise<string> =>
    createSchemaAtVersion((sql, params) => ctx.raw().query(sql, params), ctx.schema(), version);

  async function query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await ctx.raw().query<R>(sql, params)).rows;
  }

  it('upgrades a version 2 schema in place, keeping rows, index and corpus figures', async () => {
    expect(POSTGRES_SCHEMA_VERSION).toBe(8);
    const s = await createAtVersion(2);
    // Rows as version 2 wrote them: two indexed (through its triggers), one written with the index off.
    await ctx.raw().query(
      `INSERT INTO ${s}.conversations (conversation_id, data, search_tokens, search_length) VALUES
        ('b', '{"t":"walrus"}', '''walrus'':1', 1), ('\u00e9', '{"t":"otter otter"}', '''otter'':1,2', 2),
        ('B', '{"t":"seal"}', NULL, NULL)`,
    );
    await ctx
      .raw()
      .query(`INSERT INTO ${s}.cache_entries (cache_key, cache_data, stored_at) VALUES ('k', '{}', 'x')`);
    const v2Stats = await query<{ docs: string }>(`SELECT sum(docs) AS docs FROM ${s}.search_stats`);
    expect(Number(v2Stats[0]?.docs)).toBe(2);

    const store = await ctx.open();
    const [meta] = await query<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`,
    );
    expect(meta?.value).toBe(String(POSTGRES_SCHEMA_VERSION));
    const collations = await query<{ column: string; collation: string | null }>(
      `SELECT table_name || '.' || column_name AS column, collation_name AS collation
        FROM information_schema.columns WHERE table_schema = $1
        AND column_name IN ('conversation_id', 'agent_id', 'cache_key', 'state_key') ORDER BY 1`,
      [ctx.schema()],
    );
    expect(collations).toEqual(
      [
        'cache_entries.cache_key',
        'chunk_info.conversation_id',
        'conversations.conversation_id',
        'memories.conversation_id',
        'raw_messages.conversation_id',
        'reasoning_chains.agent_id',
        'system_state.state_key',
      ].map((column) => ({ column, collation: 'C' })),
    );
    const [track] = await query<{ body: string }>(
      `SELECT p.prosrc AS body FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = $1 AND p.proname = 'search_stats_track'`,
      [ctx.schema()],
    );
    expect(track?.body).not.toMatch(/EXECUTE/);
    expect(track?.body).toContain('search_stats');

    expect(await store.listConversations()).toEqual(['B', 'b', '\u00e9']);
    expect(await store.loadConversation('\u00e9')).toEqual({ t: 'otter otter' });
    expect(await store.listCacheKeys()).toEqual(['k']);
    // The unindexed row was indexed on open; the figures the old triggers kept are still counted.
    expect((await store.getStorageStats()).search_index_entries).toBe(3);
    expect((await store.search({ text: 'seal', kinds: ['conversations'] })).map((hit) => hit.kind)).toEqual([
      'conversations',
    ]);

    await store.storeConversation('c', { t: 'walrus walrus walrus' });
    await store.storeConversation('b', { t: 'narwhal' });
    await store.deleteConversation('\u00e9');
    const [figures] = await query<{ docs: string; total: string }>(
      `SELECT sum(docs) AS docs, sum(total) AS total FROM ${s}.search_stats WHERE table_name = 'conversations'`,
    );
    const [recount] = await query<{ docs: string; total: string }>(
      `SELECT count(search_length) AS docs, sum(search_length) AS total FROM ${s}.conversations`,
    );
    expect(figures).toEqual(recount);
    expect(Number(recount?.docs)).toBe(3);
    expect(
      (await store.search({ text: 'walrus', kinds: ['conversations'] })).map(
        (hit) => hit.kind === 'conversations' && hit.conversationId,
      ),
    ).toEqual(['c']);
  });

  /** The corpus figures the triggers keep for `table`, and a recount of its rows' index columns. */
  async function figuresAndRecount(s: string, table: string): Promise<[unknown, unknown]> {
    const [figures] = await query(
      `SELECT coalesce(sum(docs), 0)::int AS docs, coalesce(sum(total), 0)::int AS total
        FROM ${s}.search_stats WHERE table_name = $1`,
      [table],
    );
    const [recount] = await query(
      `SELECT count(search_length)::int AS docs, coalesce(sum(search_length), 0)::int AS total FROM ${s}.${table}`,
    );
    return [figures, recount];
  }

  it('upgrades a version 3 schema in place; corpus figures stay exact under writers with the index on and off', async () => {
    const s = await createAtVersion(3);
    // Rows as version 3 wrote them: two indexed (counted by its triggers), one with the index off.
    await ctx.raw().query(
      `INSERT INTO ${s}.memories (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
        VALUES ('c', 'm1', '"t"', '{"t":"walrus"}', '''walrus'':1', 1), ('c', 'm2', '"t"', '{"t":"otter otter"}',
        '''otter'':1,2', 2), ('c', 'm3', '"t"', '{"t":"seal"}', NULL, NULL)`,
    );
    await ctx.raw().query(
      `INSERT INTO ${s}.reasoning_chains (agent_id, chain_data, search_tokens, search_length)
        VALUES ('a', '{"t":"heron"}', '''heron'':1', 1)`,
    );
    expect((await figuresAndRecount(s, 'memories'))[0]).toEqual({ docs: 2, total: 3 });

    const on = await ctx.open();
    const [meta] = await query<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`,
    );
    expect(meta?.value).toBe(String(POSTGRES_SCHEMA_VERSION));
    const triggers = await query<{ name: string }>(
      `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = '${s}.memories'::regclass AND NOT tgisinternal
        ORDER BY tgname::text COLLATE "C"`,
    );
    expect(triggers.map((row) => row.name)).toEqual(
      ['delete', 'flag_delete', 'flag_insert', 'flag_update', 'insert', 'update'].map(
        (suffix) => `memories_search_${suffix}`,
      ),
    );
    // The open indexed m3.
    const [opened, openedRecount] = await figuresAndRecount(s, 'memories');
    expect(opened).toEqual(openedRecount);
    expect(opened).toMatchObject({ docs: 3 });

    const off = await ctx.open({ searchIndex: false });
    await off.storeMemory('c', 'm1', { t: 'narwhal' }); // an indexed row loses its columns
    await off.deleteMemory('c', 'm2'); // an indexed row goes
    await off.storeMemory('c', 'm4', { t: 'new' });
    await on.storeMemories('c', [
      { memoryId: 'm5', data: { t: 'walrus walrus' } },
      { memoryId: 'm4', data: { t: 'puffin' } },
    ]);
    await on.storeReasoningChain('a', { t: 'seal seal' });
    await off.storeReasoningChain('a', { t: 'tern' });
    for (const table of ['memories', 'reasoning_chains']) {
      const [figures, recount] = await figuresAndRecount(s, table);
      expect(figures).toEqual(recount);
    }
    expect(
      (await on.search({ text: 'narwhal', kinds: ['memories'] })).map(
        (hit) => hit.kind === 'memories' && hit.memoryId,
      ),
    ).toEqual(['m1']);
    for (const table of ['memories', 'reasoning_chains']) {
      const [figures, recount] = await figuresAndRecount(s, table);
      expect(figures).toEqual(recount);
    }
    await off.deleteReasoningChains('a');
    expect(await figuresAndRecount(s, 'reasoning_chains')).toEqual([
      { docs: 0, total: 0 },
      { docs: 0, total: 0 },
    ]);
  });

  it('upgrades a version 4 schema in place; the stats come from its storage_stats function, exact', async () => {
    const s = await createAtVersion(4);
    await ctx
      .raw()
      .query(
        `INSERT INTO ${s}.conversations (conversation_id, data) VALUES ('c1', '{"v":1}'), ('c2', '{"v":2}')`,
      );
    await ctx.raw().query(
      `INSERT INTO ${s}.cache_entries (cache_key, cache_data, stored_at, expires_at_text, expires_at)
        VALUES ('live', '{}', 't', '2999-01-01T00:00:00.000000+00:00', '2999-01-01Z'),
          ('gone', '{}', 't', '2000-01-01T00:00:00.000000+00:00', '2000-01-01Z'), ('kept', '{}', 't', NULL, NULL)`,
    );
    const store = await ctx.open({ searchIndex: false });
    const [meta] = await query<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`,
    );
    expect(meta?.value).toBe(String(POSTGRES_SCHEMA_VERSION));
    const stats = await store.getStorageStats();
    expect(stats).toMatchObject({ conversation_count: 2, cache_entry_count: 2, memory_count: 0 });
    const [sizes] = await query<{ total: number; tables: number }>(
      `SELECT sum(pg_total_relation_size(c.oid))::float8 AS total, count(*)::int AS tables
        FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r'`,
      [s],
    );
    expect(stats.total_bytes).toBe(sizes?.total);
    expect(Object.keys(stats.table_bytes as object)).toHaveLength(sizes!.tables);
    const [fn] = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = 'storage_stats'`,
      [s],
    );
    expect(fn?.n).toBe(1);
  });

  it('upgrades a version 5 schema in place; a stored list is replaced by its store_raw_messages function', async () => {
    const s = await createAtVersion(5);
    // A list as version 5 wrote it (index columns included), then stored again by this version.
    await ctx.raw().query(
      `INSERT INTO ${s}.raw_messages (conversation_id, message_index, message_data, search_tokens, search_length)
        VALUES ('c', 0, '{"t":"walrus"}', '''walrus'':1', 1), ('c', 1, '{"t":"otter"}', '''otter'':1', 1),
          ('c', 2, '{"t":"seal"}', '''seal'':1', 1)`,
    );
    const store = await ctx.open();
    // After the open, which may rebuild the index columns of rows it did not write itself.
    const [before] = await query<{ xmin: string }>(
      `SELECT xmin::text AS xmin FROM ${s}.raw_messages WHERE conversation_id = 'c' AND message_index = 0`,
    );
    const [meta] = await query<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`,
    );
    expect(meta?.value).toBe(String(POSTGRES_SCHEMA_VERSION));
    await store.storeRawMessages('c', [{ t: 'walrus' }, { t: 'narwhal' }]);
    expect(await store.loadRawMessages('c')).toEqual([{ t: 'walrus' }, { t: 'narwhal' }]);
    const rows = await query<{ xmin: string; message_index: number; search_tokens: string }>(
      `SELECT xmin::text AS xmin, message_index, search_tokens::text FROM ${s}.raw_messages
        WHERE conversation_id = 'c' ORDER BY message_index`,
    );
    // The unchanged message keeps its row version; the changed one is indexed anew.
    expect(rows.map((row) => row.message_index)).toEqual([0, 1]);
    expect(rows[0]?.xmin).toBe(before?.xmin);
    expect(rows[1]?.search_tokens).toBe("'narwhal':1");
    expect((await store.search({ text: 'narwhal' })).map((hit) => hit.kind)).toEqual(['raw_messages']);
    expect(await store.search({ text: 'seal' })).toEqual([]);
  });

  it('upgrades a version 7 schema in place; deletes run through its delete functions', async () => {
    const s = await createAtVersion(7);
    // Rows as version 7 wrote them: two conversations' memories, one with a raw list.
    await ctx.raw().query(
      `INSERT INTO ${s}.memories
          (conversation_id, memory_id, created_at, memory_data, search_tokens, search_length)
        SELECT c, m, '"2025-01-01T00:00:00+00:00"', json_build_object('t', t)::text, to_tsvector('simple', t), 1
        FROM (VALUES ('c', 'm1', 'walrus'), ('c', 'm2', 'otter'), ('c', 'm3', 'seal'), ('d', 'm1', 'narwhal'))
          AS v(c, m, t) ORDER BY c, m`,
    );
    await ctx
      .raw()
      .query(
        `INSERT INTO ${s}.raw_messages (conversation_id, message_index, message_data) VALUES ('d', 0, '{}')`,
      );
    const store = await ctx.open();
    const [meta] = await query<{ value: string }>(
      `SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`,
    );
    expect(meta?.value).toBe(String(POSTGRES_SCHEMA_VERSION));
    const functions = await query<{ name: string }>(
      `SELECT proname AS name FROM pg_proc WHERE pronamespace = $1::regnamespace
        AND proname LIKE 'delete_%' ORDER BY 1`,
      [s],
    );
    expect(functions.map((f) => f.name)).toEqual(['delete_conversation', 'delete_memories']);
    await store.deleteMemories('c', ['m1', 'm3', 'absent']);
    expect((await store.loadMemories('c')).map((m) => m.memory_id)).toEqual(['m2']);
    expect(await store.deleteConversation('d')).toBe(true);
    expect(await store.listAllConversationIds()).toEqual(['c']);
    const hits = await store.search({ text: 'walrus narwhal otter' });
    expect(hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind))).toEqual(['m2']);
    expect((await store.getStorageStats()).memory_count).toBe(1);
  });
});
