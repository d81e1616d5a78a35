/**
 * What the table sizes of `getStorageStats()` mean: by default measured by every call (equal to
 * `pg_total_relation_size` of each table at that moment); with `statsSizeMaxAgeMillis`, the
 * measurement this storage instance took less than that long ago, stamped with its time, while
 * the counts are still counted at the call.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/index.js';
import { formatEpochMs } from '../../src/core/time.js';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

/** A value TOAST cannot compress much, so storing it grows the conversations table. */
const bulky = (): { blob: string } => ({ blob: randomBytes(120_000).toString('base64') });

describeWithService('postgres')('postgres stats table sizes', () => {
  const ctx = usePostgresStore();

  /** `pg_total_relation_size` of each table of the test schema, now. */
  async function serverSizes(): Promise<Record<string, number>> {
    const { rows } = await ctx.raw().query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [ctx.schema()],
    );
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
  }

  it('by default measures the sizes at every call', async () => {
    const s = await ctx.open();
    await s.storeConversation('a', { v: 1 });
    const first = await s.getStorageStats();
    expect(first.table_bytes).toEqual(await serverSizes());
    expect(first).not.toHaveProperty('table_bytes_measured_at');
    await s.storeConversation('b', bulky());
    const second = await s.getStorageStats();
    expect(second.table_bytes).toEqual(await serverSizes());
    const bytes = (stats: typeof first) => (stats.table_bytes as Record<string, number>).conversations ?? 0;
    expect(bytes(second)).toBeGreaterThan(bytes(first));
  });

  it('by default keeps every call exact across deletes, VACUUM, VACUUM FULL, a new index and an unlogged table', async () => {
    const s = await ctx.open();
    const q = (text: string) => ctx.raw().query(text.replaceAll('$s', `"${ctx.schema()}"`));
    const exact = async (): Promise<void> => {
      // Twice: the second call is the one that may reuse the first's measurement.
      expect((await s.getStorageStats()).table_bytes).toEqual(await serverSizes());
      const again = await s.getStorageStats();
      expect(again.table_bytes).toEqual(await serverSizes());
      const sum = Object.values(await serverSizes()).reduce((a, b) => a + b, 0);
      expect(again.total_bytes).toBe(sum);
    };
    for (let i = 0; i < 40; i += 1) await s.storeMemory('c', `m${i}`, { content: 'x'.repeat(2_000) });
    await exact();
    for (let i = 0; i < 40; i += 1) await s.deleteMemory('c', `m${i}`);
    await exact();
    // VACUUM truncates the emptied table and writes its free space and visibility maps.
    await q('VACUUM $s.memories');
    await exact();
    await s.storeConversation('big', bulky());
    await exact();
    await q('VACUUM FULL $s.conversations');
    await exact();
    await q('CREATE INDEX extra_idx ON $s.memories (memory_id, conversation_id)');
    await exact();
    // An unlogged table writes no WAL: its measurement is never reused.
    await q('ALTER TABLE $s.cache_entries SET UNLOGGED');
    await exact();
    for (let i = 0; i < 20; i += 1) await s.storeCacheEntry(`k${i}`, { v: 'y'.repeat(3_000) }, 3600);
    await exact();
  });

  it('measures every call when the server refuses the WAL position to the role', async () => {
    const owner = await ctx.open();
    await owner.storeConversation('a', { v: 1 });
    const role = `cs_stats_${randomBytes(4).toString('hex')}`;
    const schema = `"${ctx.schema()}"`;
    const lsn = 'FUNCTION pg_catalog.pg_current_wal_insert_lsn()';
    await ctx.raw().query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      await ctx.raw().query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
      await ctx.raw().query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
      // Server-wide for a moment: superusers (every other test) keep the function.
      await ctx.raw().query(`REVOKE EXECUTE ON ${lsn} FROM PUBLIC`);
      const url = new URL(POSTGRES_TEST_URL);
      url.username = role;
      url.password = 'pw';
      const reader = await ctx.open({ url: url.toString(), readOnly: true });
      expect((await reader.getStorageStats()).table_bytes).toEqual(await serverSizes());
      await owner.storeConversation('b', bulky());
      const stats = await reader.getStorageStats();
      expect(stats.table_bytes).toEqual(await serverSizes());
      expect(stats.conversation_count).toBe(2);
      await reader.close();
    } finally {
      await ctx.raw().query(`GRANT EXECUTE ON ${lsn} TO PUBLIC`);
      await ctx.raw().query(`DROP OWNED BY ${role}`);
      await ctx.raw().query(`DROP ROLE ${role}`);
    }
  });

  it('with statsSizeMaxAgeMillis reuses a recent measurement, stamped, and still counts at the call', async () => {
    const s = await ctx.open({ statsSizeMaxAgeMillis: 600_000 });
    const exact = ctx.track(new PostgresStorage({ url: POSTGRES_TEST_URL, schema: ctx.schema() }));
    await exact.initialize();
    await s.storeConversation('a', { v: 1 });
    const before = Date.now();
    const first = await s.getStorageStats();
    const measuredAt = Date.parse(String(first.table_bytes_measured_at));
    expect(formatEpochMs(measuredAt)).toBe(first.table_bytes_measured_at);
    expect(measuredAt).toBeGreaterThanOrEqual(before);
    expect(measuredAt).toBeLessThanOrEqual(Date.now());
    const measured = await serverSizes();
    expect(first.table_bytes).toEqual(measured);

    await s.storeConversation('b', bulky());
    await s.storeCacheEntry('k', { v: 1 }, 3600);
    // One record of every kind, so each count of the counts-only statement is compared non-zero.
    await s.storeRawMessages('b', [{ role: 'user', content: 'hello' }]);
    await s.storeMemory('b', 'm1', { content: 'a fact' });
    await s.storeReasoningChain('agent-1', { steps: ['think'] });
    await s.storeChunkInfo('b', { chunks: 1 });
    await s.storeSystemState('mode', { on: true });
    const second = await s.getStorageStats();
    // The counts are today's, the same a measuring store reports (every count it reports)...
    const fresh = await exact.getStorageStats();
    expect(second.conversation_count).toBe(2);
    const counts = Object.keys(fresh).filter(
      (key) => key.endsWith('_count') || key === 'search_index_entries',
    );
    expect(counts).toHaveLength(9);
    for (const key of counts) {
      expect(fresh[key]).toBeGreaterThan(0);
      expect(second[key]).toBe(fresh[key]);
    }
    // ...the sizes are the first measurement's, with its time, and total_bytes is their sum.
    expect(second.table_bytes).toEqual(measured);
    expect(second.table_bytes_measured_at).toBe(first.table_bytes_measured_at);
    expect(second.total_bytes).toBe(first.total_bytes);
    expect((await serverSizes()).conversations).toBeGreaterThan(measured.conversations ?? 0);
    // Changing a returned object does not change the kept measurement.
    (second.table_bytes as Record<string, number>).conversations = -1;
    expect((await s.getStorageStats()).table_bytes).toEqual(measured);
  });

  it('measures again once the measurement is older than statsSizeMaxAgeMillis', async () => {
    const s = await ctx.open({ statsSizeMaxAgeMillis: 50 });
    const first = await s.getStorageStats();
    await s.storeConversation('b', bulky());
    await new Promise((resolve) => setTimeout(resolve, 80));
    const second = await s.getStorageStats();
    expect(second.table_bytes).toEqual(await serverSizes());
    expect(Date.parse(String(second.table_bytes_measured_at))).toBeGreaterThan(
      Date.parse(String(first.table_bytes_measured_at)),
    );
  });

  it('reuses sizes with preparedStatements: false too', async () => {
    const s = await ctx.open({ statsSizeMaxAgeMillis: 600_000, preparedStatements: false });
    const first = await s.getStorageStats();
    await s.storeMemory('c', 'm', { content: 'x' });
    const second = await s.getStorageStats();
    expect(second.memory_count).toBe(1);
    expect(second.table_bytes).toEqual(first.table_bytes);
  });

  it.each([-1, 1.5, '10'])('refuses statsSizeMaxAgeMillis %p before any I/O', (value) => {
    const config = { url: 'postgres://127.0.0.1:1/none', statsSizeMaxAgeMillis: value } as never;
    expect(() => new PostgresStorage(config)).toThrow(ConfigError);
    expect(() => new PostgresStorage(config)).toThrow(/statsSizeMaxAgeMillis/);
  });
});
