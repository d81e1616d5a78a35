/**
 * Schema version 3 upgrades a version 2 schema (as the previous release created it) in place:
 * the id columns become `COLLATE "C"`, the stats trigger runs a static statement, and the rows,
 * the search index and its corpus figures are kept and stay in step with later writes.
 */
import { migrationDdl, POSTGRES_SCHEMA_VERSION } from '../../src/backends/postgres/schema.js';
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres schema upgrade', () => {
  const ctx = usePostgresStore();

  /** Creates the test schema at `version` with the DDL each earlier release ran. */
  async function createAtVersion(version: number): Promise<string> {
    const s = ident(ctx.schema());
    await ctx.raw().query(`CREATE SCHEMA ${s}`);
    await ctx.raw().query(`CREATE TABLE ${s}.storage_meta (key text PRIMARY KEY, value text NOT NULL)`);
    for (let v = 0; v < version; v += 1) for (const sql of migrationDdl(v, s)) await ctx.raw().query(sql);
    await ctx
      .raw()
      .query(`INSERT INTO ${s}.storage_meta (key, value) VALUES ('schema_version', $1)`, [String(version)]);
    return s;
  }

  async function query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await ctx.raw().query<R>(sql, params)).rows;
  }

  it('upgrades a version 2 schema in place, keeping rows, index and corpus figures', async () => {
    expect(POSTGRES_SCHEMA_VERSION).toBe(3);
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
    expect(meta?.value).toBe('3');
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
});
