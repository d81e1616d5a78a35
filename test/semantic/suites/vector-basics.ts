/** Conformance: upsert, replace, delete, ordering, metrics, lifecycle. */
import { NotInitializedError, ReadOnlyError, type VectorStore } from '../../../src/index.js';
import { bruteForce, randomVector, scopedItems, seededRandom, signatureOf } from '../vector-fixtures.js';

/** Gives each test a fresh store of the harness under test. */
export type OpenStore = () => VectorStore;

export function vectorBasicsTests(open: OpenStore): void {
  const sig = signatureOf(4);

  test('an empty index answers []', async () => {
    const store = open();
    await store.ensureIndex(sig);
    expect(await store.query({ vector: [1, 0, 0, 0], k: 5 })).toEqual([]);
    expect(await store.count()).toBe(0);
    await store.close();
  });

  test('a read-only open of an empty store reads nothing, refuses writes and stays read-only', async () => {
    const store = open();
    await store.ensureIndex(sig, { readOnly: true });
    expect(await store.count()).toBe(0);
    expect(await store.query({ vector: [1, 0, 0, 0], k: 3 })).toEqual([]);
    for (const refused of [
      store.upsert([{ id: 'a', vector: [1, 0, 0, 0], kind: 'memory' }]),
      store.delete(['a']),
      store.reset(sig),
      store.ensureIndex(sig),
    ]) {
      await expect(refused).rejects.toBeInstanceOf(ReadOnlyError);
    }
    expect(await store.count()).toBe(0);
    await store.close();
  });

  test('query returns the k nearest, nearest first, with distance and score', async () => {
    const store = open();
    await store.ensureIndex(sig);
    await store.upsert([
      { id: 'same', vector: [1, 0, 0, 0], kind: 'memory' },
      { id: 'close', vector: [1, 0.2, 0, 0], kind: 'memory' },
      { id: 'orthogonal', vector: [0, 1, 0, 0], kind: 'memory' },
      { id: 'opposite', vector: new Float32Array([-1, 0, 0, 0]), kind: 'memory' },
    ]);
    const matches = await store.query({ vector: [2, 0, 0, 0], k: 3 });
    expect(matches.map((m) => m.id)).toEqual(['same', 'close', 'orthogonal']);
    expect(matches[0]?.distance).toBeCloseTo(0, 5);
    expect(matches[0]?.score).toBeCloseTo(1, 5);
    expect(matches[2]?.distance).toBeCloseTo(1, 5);
    expect(matches[2]?.score).toBeCloseTo(0, 5);
    expect((await store.query({ vector: [1, 0, 0, 0], k: 10 })).map((m) => m.id)).toEqual([
      'same',
      'close',
      'orthogonal',
      'opposite',
    ]);
    await store.close();
  });

  test('cosine scores do not depend on the scale of valid vectors (1e20, 1e-30)', async () => {
    const store = open();
    await store.ensureIndex(sig);
    for (const scale of [1, 1e20, 1e-30]) {
      const at = (values: number[]): Float32Array => new Float32Array(values.map((v) => v * scale));
      await store.upsert([
        { id: 'near', vector: at([1, 0, 0, 0]), kind: 'memory' },
        { id: 'half', vector: at([1, 1, 0, 0]), kind: 'memory' },
        { id: 'far', vector: at([0, 0, 1, 0]), kind: 'memory' },
      ]);
      // sqlite-vec summed the squares in float32: every score came out 1 (or 0) at these scales.
      const matches = await store.query({ vector: at([1, 0.1, 0, 0]), k: 3 });
      expect(matches.map((m) => m.id)).toEqual(['near', 'half', 'far']);
      expect(matches.map((m) => m.score)).toEqual([
        expect.closeTo(1 / Math.sqrt(1.01), 5),
        expect.closeTo(1.1 / Math.sqrt(2 * 1.01), 5),
        expect.closeTo(0, 5),
      ]);
    }
    await store.close();
  });

  test('the l2 metric measures Euclidean distance', async () => {
    const store = open();
    await store.ensureIndex(signatureOf(2, 'l2'));
    await store.upsert([
      { id: 'origin', vector: [0, 0], kind: 'memory' },
      { id: 'far', vector: [3, 4], kind: 'memory' },
      { id: 'near', vector: [1, 1], kind: 'memory' },
    ]);
    const matches = await store.query({ vector: [0, 0], k: 3 });
    expect(matches.map((m) => m.id)).toEqual(['origin', 'near', 'far']);
    expect(matches[2]?.distance).toBeCloseTo(5, 5);
    expect(matches[2]?.score).toBeCloseTo(1 / 6, 5);
    await store.close();
  });

  test.each(['cosine', 'l2'] as const)(
    'results equal a brute-force search (%s, 600 records, 16 dims)',
    async (metric) => {
      const store = open();
      await store.ensureIndex(signatureOf(16, metric));
      const items = scopedItems(600, 16, 5);
      await store.upsert(items);
      const random = seededRandom(99);
      for (let q = 0; q < 5; q += 1) {
        const vector = randomVector(random, 16);
        expect((await store.query({ vector, k: 25 })).map((m) => m.id)).toEqual(
          bruteForce(items, vector, 25, metric),
        );
      }
      await store.close();
    },
  );

  test('ties at the k cut-off go by id: the smallest ids among those at the k-th distance', async () => {
    const store = open();
    await store.ensureIndex(sig);
    // 40 records at one distance, written in a scrambled order (a scan meets them in that
    // order, and keeps either the first or the last it meets), and one nearer record; also a
    // scope holding half of the tied records.
    const tied = Array.from({ length: 40 }, (_, i) => `t${String((i * 17 + 13) % 40).padStart(2, '0')}`);
    for (const id of tied)
      await store.upsert([
        {
          id,
          vector: [0, 1, 0, 0],
          kind: 'memory',
          conversationId: Number(id.slice(1)) % 2 ? 'odd' : 'even',
        },
      ]);
    await store.upsert([{ id: 'z-nearest', vector: [1, 0.1, 0, 0], kind: 'memory' }]);
    expect((await store.query({ vector: [1, 1, 0, 0], k: 4 })).map((m) => m.id)).toEqual([
      'z-nearest',
      't00',
      't01',
      't02',
    ]);
    expect(
      (await store.query({ vector: [0, 1, 0, 0], k: 2, filter: { conversationId: 'odd' } })).map((m) => m.id),
    ).toEqual(['t01', 't03']);
    await store.close();
  });

  test('upsert replaces a record by id: its vector and its scope', async () => {
    const store = open();
    await store.ensureIndex(sig);
    await store.upsert([
      { id: 'a', vector: [1, 0, 0, 0], kind: 'memory', conversationId: 'conv_1' },
      { id: 'b', vector: [0, 1, 0, 0], kind: 'memory', conversationId: 'conv_1' },
    ]);
    await store.upsert([{ id: 'a', vector: [0, 0, 1, 0], kind: 'reasoning_chain', agentId: 'agent_1' }]);
    expect(await store.count()).toBe(2);
    const nearest = await store.query({ vector: [0, 0, 1, 0], k: 1 });
    expect(nearest.map((m) => m.id)).toEqual(['a']);
    expect(nearest[0]?.distance).toBeCloseTo(0, 5);
    expect(
      (await store.query({ vector: [1, 0, 0, 0], k: 5, filter: { conversationId: 'conv_1' } })).map(
        (m) => m.id,
      ),
    ).toEqual(['b']);
    expect(
      (
        await store.query({
          vector: [1, 0, 0, 0],
          k: 5,
          filter: { agentId: 'agent_1', kinds: ['reasoning_chain'] },
        })
      ).map((m) => m.id),
    ).toEqual(['a']);
    await store.close();
  });

  test('delete removes records and counts only those that existed', async () => {
    const store = open();
    await store.ensureIndex(sig);
    await store.upsert([
      { id: 'a', vector: [1, 0, 0, 0], kind: 'memory' },
      { id: 'b', vector: [0, 1, 0, 0], kind: 'memory' },
      { id: 'c', vector: [0, 0, 1, 0], kind: 'memory' },
    ]);
    expect(await store.delete(['a', 'missing', 'a'])).toBe(1);
    expect(await store.delete(['missing'])).toBe(0);
    expect(await store.delete([])).toBe(0);
    expect(await store.count()).toBe(2);
    expect((await store.query({ vector: [1, 0, 0, 0], k: 5 })).map((m) => m.id).sort()).toEqual(['b', 'c']);
    await store.upsert([{ id: 'a', vector: [1, 0, 0, 0], kind: 'memory' }]);
    expect((await store.query({ vector: [1, 0, 0, 0], k: 1 })).map((m) => m.id)).toEqual(['a']);
    await store.close();
  });

  test('concurrent upserts, deletes and queries on one store all take effect', async () => {
    const store = open();
    await store.ensureIndex(sig);
    const random = seededRandom(3);
    const writes = Array.from({ length: 12 }, (_, i) =>
      store.upsert([{ id: `c${i}`, vector: randomVector(random, 4), kind: 'memory' }]),
    );
    const reads = Array.from({ length: 4 }, () => store.query({ vector: [1, 0, 0, 0], k: 3 }));
    await Promise.all([...writes, ...reads]);
    expect(await store.count()).toBe(12);
    const deleted = await Promise.all([store.delete(['c0', 'c1']), store.delete(['c1', 'c2'])]);
    expect(deleted[0] + deleted[1]).toBe(3);
    expect(await store.count()).toBe(9);
    await store.close();
  });

  test('Unicode ids and scopes round-trip', async () => {
    const store = open();
    await store.ensureIndex(sig);
    await store.upsert([
      { id: 'memory:會話-ü:mem 0', vector: [1, 0, 0, 0], kind: 'memory', conversationId: '會話-ü' },
    ]);
    const matches = await store.query({ vector: [1, 0, 0, 0], k: 1, filter: { conversationId: '會話-ü' } });
    expect(matches.map((m) => m.id)).toEqual(['memory:會話-ü:mem 0']);
    await store.close();
  });

  test('every call before ensureIndex() or after close() is a NotInitializedError', async () => {
    const store = open();
    await expect(store.query({ vector: [1, 0, 0, 0], k: 1 })).rejects.toBeInstanceOf(NotInitializedError);
    await expect(store.upsert([{ id: 'a', vector: [1, 0, 0, 0], kind: 'memory' }])).rejects.toThrow(
      /before ensureIndex\(\)/,
    );
    await store.ensureIndex(sig);
    await store.close();
    await store.close();
    await expect(store.count()).rejects.toThrow(/after close\(\)/);
    await expect(store.ensureIndex(sig)).rejects.toBeInstanceOf(NotInitializedError);
    await expect(store.delete(['a'])).rejects.toBeInstanceOf(NotInitializedError);
  });

  test.each(['ensureIndex', 'reset'] as const)(
    'close() while %s() runs leaves the store closed: every later call is a NotInitializedError',
    async (method) => {
      const store = open();
      const opening = method === 'ensureIndex' ? store.ensureIndex(sig) : store.reset(sig);
      const closing = store.close();
      // The open either finished first or is refused; either way the store ends closed.
      await Promise.allSettled([opening]);
      await closing;
      await expect(store.upsert([{ id: 'a', vector: [1, 0, 0, 0], kind: 'memory' }])).rejects.toBeInstanceOf(
        NotInitializedError,
      );
      await expect(store.count()).rejects.toBeInstanceOf(NotInitializedError);
      await expect(store.ensureIndex(sig)).rejects.toBeInstanceOf(NotInitializedError);
      // What it held (a connection, the folder's writer lock) was given back.
      const again = open();
      await again.ensureIndex(sig);
      await again.close();
    },
  );
}
