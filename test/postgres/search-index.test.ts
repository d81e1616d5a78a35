/**
 * The PostgreSQL search index: every write path (single and batch) stores the record's tokens
 * beside it and a delete or trim drops them with the row, the corpus figures follow writes, a
 * schema from before the index (version 1) and rows written with `searchIndex: false` get
 * indexed, the search reads the GIN index, and reindex() rebuilds the columns.
 */
import { describeWithService } from '../services.js';
import { termFrequency } from '../../src/backends/postgres/search-query.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres search index', () => {
  const ctx = usePostgresStore();

  type Indexed = { tokens: string | null; len: number | null };

  /** The index columns of every row of a table. */
  async function indexed(table: string): Promise<Indexed[]> {
    const { rows } = await ctx
      .raw()
      .query<Indexed>(
        `SELECT search_tokens::text AS tokens, search_length AS len FROM ${ident(ctx.schema())}.${table}`,
      );
    return rows;
  }

  /** Documents and total length per table, as the triggers keep them. */
  async function stats(): Promise<Record<string, [number, number]>> {
    const { rows } = await ctx.raw().query<{ table_name: string; docs: string; total: string }>(
      `SELECT table_name, sum(docs) AS docs, sum(total) AS total FROM ${ident(ctx.schema())}.search_stats
        GROUP BY table_name HAVING sum(docs) <> 0 OR sum(total) <> 0`,
    );
    return Object.fromEntries(rows.map((r) => [r.table_name, [Number(r.docs), Number(r.total)]]));
  }

  it('every write stores the record tokens with term frequencies and length; deletes drop them', async () => {
    const s = await ctx.open();
    await s.storeConversation('c1', { title: 'Café Café' });
    await s.storeRawMessages('c1', [{ content: 'user_42 report.pdf' }, 'dog']);
    await s.storeMemory('c1', 'm1', { text: 'fox fox fox' });
    await s.storeReasoningChain('a1', { step: 'think' });
    await s.storeChunkInfo('c1', { text: 'chunk' });
    expect(await indexed('conversations')).toEqual([{ tokens: "'cafe':1,2", len: 2 }]);
    expect((await indexed('raw_messages')).map((r) => r.tokens).sort()).toEqual([
      "'42':1 'pdf':1 'report':1 'user':1",
      "'dog':1",
    ]);
    const [memory] = await indexed('memories');
    expect(memory?.tokens).toContain("'fox':1,2,3");
    // A chain's stored_at is a string of the record too.
    expect((await indexed('reasoning_chains'))[0]?.tokens).toContain("'think':1");
    expect(await indexed('chunk_info')).toEqual([{ tokens: "'chunk':1", len: 1 }]);
    expect(await stats()).toMatchObject({ conversations: [1, 2], raw_messages: [2, 5], chunk_info: [1, 1] });

    await s.storeRawMessages('c1', ['walrus']);
    expect(await indexed('raw_messages')).toEqual([{ tokens: "'walrus':1", len: 1 }]);
    expect((await stats()).raw_messages).toEqual([1, 1]);
    await s.deleteConversation('c1');
    expect(await indexed('raw_messages')).toEqual([]);
    expect(await stats()).not.toHaveProperty('raw_messages');
    expect(await stats()).not.toHaveProperty('memories');
    expect(await s.search({ text: 'walrus fox cafe chunk', kinds: ['raw_messages', 'memories'] })).toEqual(
      [],
    );
    expect((await s.getStorageStats()).search_index_entries).toBe(1); // the chain
  });

  it('batch writes, replaces and chain trims keep the index', async () => {
    const s = await ctx.open({ maxReasoningChainsPerAgent: 2 });
    await s.storeMemories('c1', [
      { memoryId: 'm1', data: { text: 'old walrus' } },
      { memoryId: 'm2', data: { text: 'penguin' } },
    ]);
    await s.storeMemories('c1', [{ memoryId: 'm1', data: { text: 'new narwhal' } }]);
    await s.appendReasoningChains('a1', [{ t: 'first gull' }, { t: 'second gull' }, { t: 'third gull' }]);
    await s.storeReasoningChain('a1', { t: 'fourth gull' });
    expect(await s.search({ text: 'walrus' })).toEqual([]);
    expect(
      (await s.search({ text: 'narwhal penguin' })).map((h) => h.kind === 'memories' && h.memoryId).sort(),
    ).toEqual(['m1', 'm2']);
    const gulls = await s.search({ text: 'gull', kinds: ['reasoning_chains'] });
    expect(gulls.map((h) => h.kind === 'reasoning_chains' && [h.chainIndex, h.record.t]).sort()).toEqual([
      [0, 'third gull'],
      [1, 'fourth gull'],
    ]);
    expect((await stats()).reasoning_chains?.[0]).toBe(2);
    expect((await stats()).memories?.[0]).toBe(2);
  });

  it('a raw-message replace rewrites only the messages that changed', async () => {
    const s = await ctx.open();
    // xmin: the transaction that last wrote the row version; unchanged rows keep theirs.
    const versions = async (): Promise<string[]> =>
      (
        await ctx
          .raw()
          .query<{ v: string }>(
            `SELECT xmin::text AS v FROM ${ident(ctx.schema())}.raw_messages ORDER BY message_index`,
          )
      ).rows.map((row) => row.v);
    await s.storeRawMessages('c1', ['otter one', 'heron two', 'ibis three']);
    const first = await versions();
    await s.storeRawMessages('c1', ['otter one', 'heron two', 'ibis three', 'crane four']);
    const grown = await versions();
    expect(grown.slice(0, 3)).toEqual(first);
    await s.storeRawMessages('c1', ['otter one', 'stork two', 'ibis three']);
    const changed = await versions();
    expect(changed).toHaveLength(3);
    expect([changed[0], changed[2]]).toEqual([first[0], first[2]]);
    expect(changed[1]).not.toBe(first[1]);
    expect((await indexed('raw_messages')).map((r) => r.tokens).sort()).toEqual([
      "'ibis':1 'three':1",
      "'one':1 'otter':1",
      "'stork':1 'two':1",
    ]);
    expect((await stats()).raw_messages).toEqual([3, 6]);
    // Rows stored with the index off get their columns when an indexed store writes the same text.
    const off = await ctx.open({ searchIndex: false });
    await off.storeRawMessages('c2', ['walrus']);
    await s.storeRawMessages('c2', ['walrus']);
    expect((await indexed('raw_messages')).filter((r) => r.tokens === "'walrus':1")).toHaveLength(1);
  });

  it('indexes, on open, the rows of a schema written before the index existed (version 1)', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'old penguin' });
    await s.storeRawMessages('c1', ['old walrus', 'other']);
    await s.storeReasoningChain('a1', { step: 'old thought' });
    await s.shutdown();
    // Turn the schema back into a version 1 schema: no index columns, stats or triggers, version row 1.
    const schema = ident(ctx.schema());
    await ctx.raw().query(`DROP TABLE ${schema}.search_stats`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.search_stats_track() CASCADE`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.search_stats_flag() CASCADE`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.storage_stats`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.store_raw_messages`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.append_reasoning_chains`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.delete_conversation`);
    await ctx.raw().query(`DROP FUNCTION ${schema}.delete_memories`);
    for (const table of ['conversations', 'raw_messages', 'memories', 'reasoning_chains', 'chunk_info'])
      await ctx
        .raw()
        .query(`ALTER TABLE ${schema}.${table} DROP COLUMN search_tokens, DROP COLUMN search_length`);
    await ctx.raw().query(`UPDATE ${schema}.storage_meta SET value = '1' WHERE key = 'schema_version'`);

    const reopened = await ctx.open();
    expect(await indexed('raw_messages')).toContainEqual({ tokens: "'other':1", len: 1 });
    expect((await stats()).raw_messages).toEqual([2, 3]);
    const hits = await reopened.search({ text: 'old', limit: 100 });
    expect(hits.map((h) => h.kind).sort()).toEqual(['memories', 'raw_messages', 'reasoning_chains']);
  });

  it('writes with searchIndex: false store no index columns; an open with it on indexes them', async () => {
    const off = await ctx.open({ searchIndex: false });
    await off.storeMemory('c1', 'm1', { text: 'hidden otter' });
    await off.storeRawMessages('c1', ['otter message']);
    expect(await indexed('memories')).toEqual([{ tokens: null, len: null }]);
    expect((await off.getStorageStats()).search_index_entries).toBeNull();
    expect(await off.search({ text: 'otter' })).toHaveLength(2); // the default scan
    expect(await off.reindex()).toBe(0);
    await off.shutdown();

    const on = await ctx.open();
    expect((await indexed('memories'))[0]?.tokens).toContain("'otter':1");
    expect((await indexed('raw_messages'))[0]).toEqual({ tokens: "'message':1 'otter':1", len: 2 });
    expect((await on.getStorageStats()).search_index_entries).toBe(2);
    expect(await on.search({ text: 'otter' })).toHaveLength(2);
  });

  it('a search catches up rows another process wrote with the index off', async () => {
    const on = await ctx.open();
    const off = await ctx.open({ searchIndex: false });
    await on.storeMemory('c1', 'm1', { text: 'beaver' });
    await off.storeMemory('c1', 'm1', { text: 'replaced by a heron' });
    await off.storeMemory('c1', 'm2', { text: 'another heron' });
    expect(await on.search({ text: 'beaver' })).toEqual([]);
    expect((await on.search({ text: 'heron' })).length).toBe(2);
    expect((await indexed('memories')).every((r) => r.len !== null)).toBe(true);
  });

  it('the search reads the GIN index', async () => {
    const s = await ctx.open();
    await s.storeRawMessages('big', ['seed']);
    // 50,000 indexed rows written straight in SQL (the library's writes would take too long here).
    const table = `${ident(ctx.schema())}.raw_messages`;
    await ctx.raw().query(
      `INSERT INTO ${table} (conversation_id, message_index, message_data, search_tokens, search_length)
        SELECT 'big', g, to_json('word' || g)::text, ('word' || g || ' filler')::tsvector, 2
        FROM generate_series(1, 50000) AS g`,
    );
    await ctx.raw().query(`VACUUM ANALYZE ${table}`); // also moves GIN's pending entries into the index
    const plan = await ctx
      .raw()
      .query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT 1 FROM ${table} WHERE search_tokens @@ $1::tsquery`, [
        "'word7'",
      ]);
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('raw_messages_search');
    const hits = await s.search({ text: 'word7', kinds: ['raw_messages'] });
    expect(hits).toMatchObject([
      { kind: 'raw_messages', conversationId: 'big', messageIndex: 7, record: 'word7' },
    ]);
    expect((await stats()).raw_messages).toEqual([50_001, 100_001]);
  });

  it('indexes the words at the end of a large record (no character cap)', async () => {
    const s = await ctx.open();
    await s.storeChunkInfo('c1', { text: `${'ab '.repeat(300_000)}tail` });
    // 300,001 tokens; positions stop at 256.
    const positions = Array.from({ length: 256 }, (_, i) => i + 1).join(',');
    expect(await indexed('chunk_info')).toEqual([{ tokens: `'ab':${positions} 'tail':1`, len: 300_001 }]);
    expect(await s.search({ text: 'tail', kinds: ['chunk_info'] })).toMatchObject([
      { kind: 'chunk_info', conversationId: 'c1' },
    ]);
  });

  it('reads every stored term frequency (1 to 256) back exactly from the tsvector', async () => {
    const { rows } = await ctx.raw().query<{ n: number; tf: number }>(
      `SELECT n, ${termFrequency('v', "'x'::tsquery")} AS tf FROM (
        SELECT n, ('x:' || string_agg(i::text, ',') || ' y:1')::tsvector AS v
        FROM generate_series(1, 256) AS n, generate_series(1, n) AS i GROUP BY n) AS s ORDER BY n`,
    );
    expect(rows.map((r) => r.tf)).toEqual(rows.map((r) => r.n));
    expect(rows).toHaveLength(256);
  });

  it('reindex() rebuilds columns a writer outside the library left wrong', async () => {
    const s = await ctx.open();
    await s.storeMemory('c1', 'm1', { text: 'narwhal' });
    await ctx
      .raw()
      .query(`UPDATE ${ident(ctx.schema())}.memories SET search_tokens = 'other', search_length = 1`);
    expect(await s.search({ text: 'narwhal' })).toEqual([]);
    expect(await s.reindex()).toBe(1);
    expect(await s.search({ text: 'narwhal' })).toMatchObject([{ kind: 'memories', memoryId: 'm1' }]);
  });
});
