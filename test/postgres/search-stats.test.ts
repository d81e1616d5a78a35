/**
 * The search-stats triggers (schema version 4) run their count only for statements that touch
 * a row with index columns: writes with `searchIndex: false` of rows that were never indexed
 * pay nothing for them, and the figures stay exact whatever mix of writers ran.
 */
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres search stats triggers', () => {
  const ctx = usePostgresStore();

  /** Makes the stats function of the test schema log each call instead of counting (the triggers keep calling it). */
  async function logStatsCalls(): Promise<() => Promise<number>> {
    const s = ident(ctx.schema());
    await ctx.raw().query(`CREATE TABLE ${s}.stats_calls (n serial PRIMARY KEY, tbl text NOT NULL)`);
    await ctx.raw().query(
      `CREATE OR REPLACE FUNCTION ${s}.search_stats_track() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${s}.stats_calls (tbl) VALUES (TG_TABLE_NAME); RETURN NULL; END$$`,
    );
    return async () => {
      const { rows } = await ctx
        .raw()
        .query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.stats_calls`);
      return rows[0]?.n ?? 0;
    };
  }

  it('writes with the index off of never-indexed rows run no stats count; touching an indexed row does', async () => {
    const on = await ctx.open();
    await on.storeConversation('indexed', { t: 'walrus' });
    const off = await ctx.open({ searchIndex: false });
    const calls = await logStatsCalls();

    await off.storeConversation('c', { t: 'a' });
    await off.storeConversation('c', { t: 'b' });
    await off.storeRawMessages('c', ['x', 'y']);
    await off.storeRawMessages('c', ['z']);
    await off.storeMemory('c', 'm', { t: 'a' });
    await off.storeMemory('c', 'm', { t: 'b' });
    await off.storeMemories('c', [{ memoryId: 'n', data: { t: 'c' } }]);
    await off.storeReasoningChain('a', { t: 'a' });
    await off.appendReasoningChains('a', [{ t: 'b' }, { t: 'c' }]);
    await off.storeChunkInfo('c', { t: 'a' });
    await off.deleteMemory('c', 'm');
    await off.deleteConversation('c');
    expect(await calls()).toBe(0);

    await off.storeConversation('indexed', { t: 'narwhal' }); // an indexed row loses its columns
    expect(await calls()).toBeGreaterThan(0);
    const before = await calls();
    await on.storeMemory('c', 'm', { t: 'puffin' });
    expect(await calls()).toBeGreaterThan(before);
  });
});
