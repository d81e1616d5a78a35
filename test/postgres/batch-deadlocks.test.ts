/**
 * Deadlocks between batches of two instances, counted by the server itself
 * (`pg_stat_database.deadlocks` of a private server, which no other test shares): cache
 * batches write their rows in key order, so two of them over the same keys in opposite orders
 * never deadlock; memory batches can, and the victim runs again, applied once. The retry hides
 * a deadlock from the caller, so only the server's count shows whether the cache batches met one.
 */
import type { PostgresStorage } from '../../src/backends/postgres/index.js';
import { freshSchema, useFaultSuite } from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';

const ROUNDS = 20;
const KEYS = 300;

describeWithPrivatePostgres()('postgres: batches of two instances in opposite orders', () => {
  const { stores, server } = useFaultSuite();

  /** The deadlocks the server has counted. Stores are shut down first: a backend reports its count as it ends. */
  async function serverDeadlocks(): Promise<number> {
    await stores.closeAll();
    const [row] = await server().query<{ deadlocks: string }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(row?.deadlocks);
  }

  /** Two instances on one fresh schema. */
  async function pair(): Promise<[PostgresStorage, PostgresStorage]> {
    const schema = freshSchema();
    return [await stores.store(server(), { schema }), await stores.store(server(), { schema })];
  }

  const keysOf = (round: number) =>
    Array.from({ length: KEYS }, (_, i) => `r${round}-${String(i).padStart(3, '0')}`);

  it('memory batches can deadlock: the victim runs again, and each batch lands whole, once', async () => {
    const before = await serverDeadlocks();
    const [a, b] = await pair();
    for (let round = 0; round < ROUNDS; round += 1) {
      const keys = keysOf(round);
      const reversed = [...keys].reverse();
      await Promise.all([
        a.storeMemories(
          `c${round}`,
          keys.map((memoryId) => ({ memoryId, data: { from: 'a' } })),
        ),
        b.storeMemories(
          `c${round}`,
          reversed.map((memoryId) => ({ memoryId, data: { from: 'b' } })),
        ),
      ]);
      const loaded = await a.loadMemories(`c${round}`);
      expect([keys, reversed]).toContainEqual(loaded.map((m) => m.memory_id));
      expect(new Set(loaded.map((m) => m.from)).size).toBe(1);
    }
    // The server saw deadlocks, so the count below can tell.
    expect(await serverDeadlocks()).toBeGreaterThan(before);
  });

  it('cache batches over the same keys in opposite orders never deadlock', async () => {
    const before = await serverDeadlocks();
    const [a, b] = await pair();
    for (let round = 0; round < ROUNDS; round += 1) {
      // Keys whose UTF-16 and UTF-8 orders differ (U+FF5E after U+1F600 in one, before in the other).
      const keys = keysOf(round).map(
        (key, i) => `${String.fromCodePoint([0x41, 0xe9, 0x1f600, 0xff5e][i % 4] ?? 0)}${key}`,
      );
      const reversed = [...keys].reverse();
      await Promise.all([
        a.storeCacheEntries(keys.map((key) => ({ key, data: { from: 'a' } }))),
        b.storeCacheRecords(
          reversed.map((key) => ({
            key,
            data: { from: 'b' },
            storedAt: new Date().toISOString(),
            expiresAt: null,
          })),
        ),
      ]);
      const loaded = await a.loadCacheEntries(keys);
      expect(new Set(loaded.map((entry) => JSON.stringify(entry))).size).toBe(1);
    }
    expect(await serverDeadlocks()).toBe(before);
  });
});
