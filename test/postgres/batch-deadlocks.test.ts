/**
 * Deadlocks between batches of two instances, counted by the server itself
 * (`pg_stat_database.deadlocks` of a private server, which no other test shares): cache
 * batches write (and delete) their rows in key order, so two of them over the same keys in
 * opposite orders never deadlock; memory batches can, and the victim runs again, applied once. The retry hides
 * a deadlock from the caller, so only the server's count shows whether the cache batches met one.
 * A call that is the victim every time (6 runs) rejects, naming the SQLSTATE, having written nothing.
 */
import pg from 'pg';
import type { PostgresStorage } from '../../src/backends/postgres/index.js';
import { StorageError } from '../../src/core/index.js';
import { freshSchema, ident, settle, useFaultSuite, waitForLockWaiters } from './fault-helpers.js';
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
  /** Keys whose UTF-16, UTF-8 and collation orders differ (U+FF5E after U+1F600 in one, before in the other). */
  const mixedOrderKeysOf = (round: number) =>
    keysOf(round).map((key, i) => `${String.fromCodePoint([0x41, 0xe9, 0x1f600, 0xff5e][i % 4] ?? 0)}${key}`);

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
      const keys = mixedOrderKeysOf(round);
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
  it('a cache delete batch and a cache write batch over the same keys in opposite orders never deadlock', async () => {
    const before = await serverDeadlocks();
    const [a, b] = await pair();
    for (let round = 0; round < ROUNDS; round += 1) {
      const keys = mixedOrderKeysOf(round);
      const reversed = [...keys].reverse();
      // Stored one by one in reverse: the rows lie in the table against the keys' order, so a
      // delete that locked rows as a scan finds them would lock them against the write batch
      // (a plain `DELETE ... WHERE cache_key = ANY($1)` met 7 deadlocks in these 20 rounds).
      await Promise.all(reversed.map((key) => a.storeCacheEntry(key, { from: 'first' })));
      await Promise.all([
        a.storeCacheEntries(keys.map((key) => ({ key, data: { from: 'a' } }))),
        b.deleteCacheEntries(reversed),
      ]);
      // Either order of the two leaves every key the same: all written, or all deleted.
      const loaded = await a.loadCacheEntries(keys);
      expect(new Set(loaded.map((entry) => JSON.stringify(entry))).size).toBe(1);
    }
    expect(await serverDeadlocks()).toBe(before);
  });

  it('a memory delete batch and a memory write batch over the same ids never deadlock: one comes wholly first', async () => {
    const before = await serverDeadlocks();
    const [a, b] = await pair();
    for (let round = 0; round < ROUNDS; round += 1) {
      const ids = keysOf(round);
      const reversed = [...ids].reverse();
      // Every other id stored first, in reverse, so the rows lie against the write batch's
      // order and the write both replaces rows and inserts new ones: a delete reading with a
      // snapshot from before it waited would remove the replaced rows and miss the new ones.
      await a.storeMemories(
        `c${round}`,
        reversed.filter((_, i) => i % 2 === 0).map((memoryId) => ({ memoryId, data: { from: 'first' } })),
      );
      await Promise.all([
        a.storeMemories(
          `c${round}`,
          ids.map((memoryId) => ({ memoryId, data: { from: 'a' } })),
        ),
        b.deleteMemories(`c${round}`, reversed),
      ]);
      // The delete after the write leaves nothing; before it, the write stores every id anew, in its order.
      const loaded = (await a.loadMemories(`c${round}`)).map((m) => [m.memory_id, m.from]);
      expect([[], ids.map((id) => [id, 'a'])]).toContainEqual(loaded);
    }
    expect(await serverDeadlocks()).toBe(before);
  });

  it('a memory batch that is the deadlock victim at every run rejects naming SQLSTATE 40P01, writing nothing', async () => {
    const s = await stores.store(server());
    await s.storeMemories('c', [
      { memoryId: 'm1', data: { v: 0 } },
      { memoryId: 'm2', data: { v: 0 } },
    ]);
    // A session that holds m2 and, each time the batch (holding m1) waits for it, asks for m1
    // in a savepoint: a cycle. Its deadlock_timeout is long, so the batch's backend finds the
    // cycle and is the victim; rolling back to the savepoint frees m1 but keeps m2 for the next run.
    const other = new pg.Client({ connectionString: server().url });
    other.on('error', () => undefined);
    await other.connect();
    const row = (id: string) =>
      `SELECT 1 FROM ${ident(s.schema)}.memories WHERE conversation_id = 'c' AND memory_id = '${id}' FOR UPDATE`;
    let cycles = 0;
    try {
      await other.query("SET deadlock_timeout = '60s'");
      await other.query('BEGIN');
      await other.query(row('m2'));
      const batch = settle(
        s.storeMemories('c', [
          { memoryId: 'm1', data: { v: 1 } },
          { memoryId: 'm2', data: { v: 1 } },
        ]),
      );
      let settled = false;
      void batch.then(() => (settled = true));
      while (!settled) {
        const waiting = await settle(waitForLockWaiters(server(), 1));
        if (!waiting.ok) break;
        await other.query('SAVEPOINT cycle');
        await other.query(row('m1'));
        await other.query('ROLLBACK TO SAVEPOINT cycle');
        cycles += 1;
      }
      const result = await batch;
      expect(cycles).toBe(6);
      expect(result.ok).toBe(false);
      const error = (result as { error: unknown }).error;
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toMatch(/memories of conversation "c".*40P01/s);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end().catch(() => undefined);
    }
    expect((await s.loadMemories('c')).map((m) => m.v)).toEqual([0, 0]);
    await s.storeMemories('c', [{ memoryId: 'm1', data: { v: 2 } }]);
    expect((await s.loadMemories('c')).map((m) => m.v)).toEqual([2, 0]);
  }, 30_000);
});
