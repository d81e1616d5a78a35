/**
 * Schema version 7: a schema created with `searchIndex: false` has no search machinery (GIN
 * and partial indexes, stats triggers) until the first writable open with the index on creates
 * it, counts the corpus figures and indexes the rows stored meanwhile; from then on it stays.
 */
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres search machinery of stores created with the index off', () => {
  const ctx = usePostgresStore();

  /** The schema's search machinery: index and trigger names on the searchable tables, sorted. */
  async function machinery(): Promise<string[]> {
    const { rows } = await ctx.raw().query<{ name: string }>(
      `SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'i' AND (c.relname LIKE '%\\_search' OR c.relname LIKE '%\\_unindexed')
       UNION ALL
       SELECT t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT t.tgisinternal
       ORDER BY 1`,
      [ctx.schema()],
    );
    return rows.map((row) => row.name);
  }

  /** The `search_machinery` mark in `storage_meta` (`undefined`: none). */
  async function mark(): Promise<string | undefined> {
    const { rows } = await ctx
      .raw()
      .query<{ value: string }>(
        `SELECT value FROM ${ident(ctx.schema())}.storage_meta WHERE key = 'search_machinery'`,
      );
    return rows[0]?.value;
  }

  /** Per table, the stats triggers' figures and the rows' own (they must agree). */
  async function corpus(): Promise<{ stats: Record<string, string>; rows: Record<string, string> }> {
    const s = ident(ctx.schema());
    const tables = ['conversations', 'raw_messages', 'memories', 'reasoning_chains', 'chunk_info'];
    const stats: Record<string, string> = {};
    const rows: Record<string, string> = {};
    for (const table of tables) {
      const kept = await ctx.raw().query<{ docs: string; total: string }>(
        `SELECT coalesce(sum(docs), 0)::text AS docs, coalesce(sum(total), 0)::text AS total
          FROM ${s}.search_stats WHERE table_name = $1`,
        [table],
      );
      const counted = await ctx
        .raw()
        .query<{ docs: string; total: string }>(
          `SELECT count(search_length)::text AS docs, coalesce(sum(search_length), 0)::text AS total FROM ${s}.${table}`,
        );
      stats[table] = `${kept.rows[0]?.docs} ${kept.rows[0]?.total}`;
      rows[table] = `${counted.rows[0]?.docs} ${counted.rows[0]?.total}`;
    }
    return { stats, rows };
  }

  it('a schema created with the index off has none; an open with the index on makes the full set, for good', async () => {
    const indexedFromStart = await ctx.open();
    const full = await machinery();
    expect(full).toHaveLength(5 * 8); // per table: 2 indexes, 3 flag and 3 statement triggers
    expect(full).toContain('memories_search');
    expect(full).toContain('memories_unindexed');
    expect(full).toContain('memories_search_flag_insert');
    expect(await mark()).toBeUndefined();
    await indexedFromStart.shutdown();
    await ctx.raw().query(`DROP SCHEMA ${ident(ctx.schema())} CASCADE`);

    const off = await ctx.open({ searchIndex: false });
    expect(await machinery()).toEqual([]);
    expect(await mark()).toBe('dormant');
    await off.storeConversation('c', { t: 'walrus shore' });
    await off.storeRawMessages('c', ['walrus one', 'otter two']);
    await off.storeMemory('c', 'm', { t: 'walrus memory' });
    await off.storeMemories('c', [{ memoryId: 'n', data: { t: 'puffin' } }]);
    await off.appendReasoningChains('a', [{ t: 'walrus chain' }, { t: 'seal' }]);
    await off.storeChunkInfo('c', { t: 'walrus chunk' });
    await off.deleteMemory('c', 'n');
    expect((await off.getStorageStats()).conversation_count).toBe(1);

    const on = await ctx.open();
    expect(await machinery()).toEqual(full);
    expect(await mark()).toBeUndefined();
    const kinds = ['chunk_info', 'conversations', 'memories', 'raw_messages', 'reasoning_chains'] as const;
    const hits = await on.search({ text: 'walrus', kinds: [...kinds], limit: 20 });
    expect(hits.map((hit) => hit.kind).sort()).toEqual(kinds);
    let figures = await corpus();
    expect(figures.stats).toEqual(figures.rows);
    expect(figures.rows.raw_messages).toMatch(/^2 /);

    // Later writes of both kinds of writer keep the figures exact, and nothing goes to sleep again.
    await off.storeMemory('c', 'o', { t: 'narwhal' });
    await on.storeMemory('c', 'p', { t: 'narwhal tusk' });
    await on.deleteMemory('c', 'm');
    await off.shutdown();
    const offAgain = await ctx.open({ searchIndex: false });
    await offAgain.storeConversation('d', { t: 'gull' });
    expect(await machinery()).toEqual(full);
    expect(await mark()).toBeUndefined();
    await (await ctx.open()).search({ text: 'narwhal' });
    figures = await corpus();
    expect(figures.stats).toEqual(figures.rows);
    expect(figures.rows.memories).toMatch(/^2 /);
  });

  it('processes opening a sleeping schema with the index on at once: one wakes it, all open', async () => {
    const off = await ctx.open({ searchIndex: false });
    await off.storeMemory('c', 'm', { t: 'walrus' });
    const opened = await Promise.all([ctx.open(), ctx.open(), ctx.open()]);
    expect(await mark()).toBeUndefined();
    expect(await machinery()).toHaveLength(5 * 8);
    for (const store of opened) expect(await store.search({ text: 'walrus' })).toHaveLength(1);
    const figures = await corpus();
    expect(figures.stats).toEqual(figures.rows);
  });
});
