/** Conformance: scoped queries, validation before I/O, signatures, persistence. */
import { ConfigError, InvalidIdError, StorageError, ValidationError } from '../../../src/index.js';
import { MAX_QUERY_K } from '../../../src/semantic/vector-stores/types.js';
import type { VectorHarness } from '../vector-harnesses.js';
import { bruteForce, randomVector, scopedItems, seededRandom, signatureOf } from '../vector-fixtures.js';
import type { OpenStore } from './vector-basics.js';

export function vectorScopeTests(open: OpenStore): void {
  test('a scope holding 5 % of the data still returns its k nearest (agent, conversation, kinds, combined)', async () => {
    const store = open();
    const dims = 8;
    await store.ensureIndex(signatureOf(dims));
    const items = scopedItems(2000, dims);
    for (let i = 0; i < items.length; i += 500) await store.upsert(items.slice(i, i + 500));
    const random = seededRandom(7);
    const filters = [
      { agentId: 'agent_small' },
      { conversationId: 'conv_small' },
      { agentId: 'agent_small', kinds: ['memory', 'raw_message'] },
      { kinds: ['reasoning_chain'] },
    ];
    for (const filter of filters) {
      const vector = randomVector(random, dims);
      const expected = bruteForce(items, vector, 40, 'cosine', filter);
      expect(expected.length).toBe(40);
      const matches = await store.query({ vector, k: 40, filter });
      expect(matches.map((m) => m.id)).toEqual(expected);
    }
    // k above the scope's size: all of the scope, nothing outside it.
    const all = await store.query({
      vector: randomVector(random, dims),
      k: 500,
      filter: { agentId: 'agent_small' },
    });
    expect(all).toHaveLength(100);
    expect(
      await store.query({ vector: randomVector(random, dims), k: 5, filter: { agentId: 'nobody' } }),
    ).toEqual([]);
    await store.close();
  });

  test(`k is a whole number from 1 to ${MAX_QUERY_K}`, async () => {
    const store = open();
    await store.ensureIndex(signatureOf(2));
    await store.upsert([{ id: 'a', vector: [1, 0], kind: 'memory' }]);
    for (const k of [0, -1, 1.5, MAX_QUERY_K + 1, Number.NaN, '3', undefined]) {
      await expect(store.query({ vector: [1, 0], k: k as number })).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await store.query({ vector: [1, 0], k: MAX_QUERY_K })).toHaveLength(1);
    await store.close();
  });

  test('bad records are refused before anything is written, even when only the last one is bad', async () => {
    const store = open();
    await store.ensureIndex(signatureOf(3));
    const good = { id: 'good', vector: [1, 0, 0], kind: 'memory' };
    const bad: [unknown, typeof ValidationError | typeof InvalidIdError][] = [
      [{ id: 'x', vector: [1, 0], kind: 'memory' }, ValidationError],
      [{ id: 'x', vector: [1, Number.NaN, 0], kind: 'memory' }, ValidationError],
      [{ id: 'x', vector: [1, Infinity, 0], kind: 'memory' }, ValidationError],
      [{ id: 'x', vector: [1e39, 0, 0], kind: 'memory' }, ValidationError],
      [{ id: 'x', vector: [0, 0, 0], kind: 'memory' }, ValidationError],
      [{ id: 'x', vector: 'text', kind: 'memory' }, ValidationError],
      [{ id: '', vector: [1, 0, 0], kind: 'memory' }, InvalidIdError],
      [{ id: 'a\u0000b', vector: [1, 0, 0], kind: 'memory' }, InvalidIdError],
      [{ id: '\ud800', vector: [1, 0, 0], kind: 'memory' }, InvalidIdError],
      [{ id: 'x'.repeat(513), vector: [1, 0, 0], kind: 'memory' }, InvalidIdError],
      [{ id: 'x', vector: [1, 0, 0], kind: '' }, InvalidIdError],
      [{ id: 'x', vector: [1, 0, 0], kind: 'memory', agentId: '../etc' }, InvalidIdError],
      [{ id: 'x', vector: [1, 0, 0], kind: 'memory', conversationId: 42 }, InvalidIdError],
      [{ id: 'good', vector: [0, 1, 0], kind: 'memory' }, ValidationError], // the same id twice in one call
    ];
    for (const [item, type] of bad) {
      await expect(store.upsert([good, item] as never)).rejects.toBeInstanceOf(type);
    }
    await expect(store.upsert('nope' as never)).rejects.toBeInstanceOf(ValidationError);
    expect(await store.count()).toBe(0);
    await expect(store.delete(['ok', ''])).rejects.toBeInstanceOf(InvalidIdError);
    await expect(store.query({ vector: [1, 0, 0], k: 1, filter: { kinds: [] } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(store.query({ vector: [1, 0, 0], k: 1, filter: { agentId: '' } })).rejects.toBeInstanceOf(
      InvalidIdError,
    );
    await expect(store.query({ vector: [1, 0], k: 1 })).rejects.toThrow(/2 dimensions, the index has 3/);
    await store.close();
  });

  test('an index filled by one model refuses another: ConfigError saying how to re-embed; reset() switches', async () => {
    const store = open();
    await store.ensureIndex(signatureOf(3, 'cosine', 'model-a'));
    await store.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    for (const other of [
      signatureOf(3, 'cosine', 'model-b'),
      signatureOf(4, 'cosine', 'model-a'),
      signatureOf(3, 'l2', 'model-a'),
    ]) {
      const error = await store.ensureIndex(other).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(
        /model-a \(3 dimensions, cosine\).*reset\(signature\).*re-embed/,
      );
    }
    await store.ensureIndex(signatureOf(3, 'cosine', 'model-a')); // the same one is fine
    await expect(
      store.ensureIndex({ embedderId: 'x', dimensions: 0, metric: 'cosine' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.ensureIndex({ embedderId: 'x', dimensions: 3, metric: 'dot' as never }),
    ).rejects.toBeInstanceOf(ValidationError);
    await store.reset(signatureOf(2, 'l2', 'model-b'));
    expect(await store.signature()).toEqual(signatureOf(2, 'l2', 'model-b'));
    expect(await store.count()).toBe(0);
    await store.upsert([{ id: 'b', vector: [1, 1], kind: 'memory' }]);
    expect((await store.query({ vector: [1, 1], k: 1 })).map((m) => m.id)).toEqual(['b']);
    await store.close();
  });
}

/** Tests of stores that keep their data: a new instance on the same place sees it. */
export function vectorPersistenceTests(harness: VectorHarness, dir: () => string): void {
  test('a reopened store has the same records, signature and answers', async () => {
    const items = scopedItems(300, 6, 3);
    const first = harness.open(dir());
    await first.ensureIndex(signatureOf(6));
    await first.upsert(items);
    await first.delete(['item_00000', 'item_00001']);
    await first.upsert([
      { id: 'item_00002', vector: [1, 0, 0, 0, 0, 0], kind: 'memory', agentId: 'agent_new' },
    ]);
    await first.close();

    const second = harness.open(dir());
    expect(await second.signature()).toEqual(signatureOf(6));
    await expect(second.ensureIndex(signatureOf(6, 'cosine', 'other'))).rejects.toBeInstanceOf(ConfigError);
    await second.ensureIndex(signatureOf(6));
    expect(await second.count()).toBe(298);
    const remaining = items.filter((item) => !['item_00000', 'item_00001', 'item_00002'].includes(item.id));
    const vector = randomVector(seededRandom(11), 6);
    expect(
      (await second.query({ vector, k: 20, filter: { agentId: 'agent_small' } })).map((m) => m.id),
    ).toEqual(bruteForce(remaining, vector, 20, 'cosine', { agentId: 'agent_small' }));
    expect(
      (await second.query({ vector: [1, 0, 0, 0, 0, 0], k: 1, filter: { agentId: 'agent_new' } })).map(
        (m) => m.id,
      ),
    ).toEqual(['item_00002']);
    await second.close();
  });

  test('a read-only instance reads beside the writer, and a read-only open creates nothing', async () => {
    const empty = harness.open(dir());
    await empty.ensureIndex(signatureOf(2), { readOnly: true });
    await empty.close();
    const writer = harness.open(dir());
    expect(await writer.signature()).toBeNull();
    await writer.ensureIndex(signatureOf(2));
    await writer.upsert([{ id: 'a', vector: [1, 0], kind: 'memory' }]);
    const reader = harness.open(dir());
    await reader.ensureIndex(signatureOf(2), { readOnly: true });
    await writer.upsert([{ id: 'b', vector: [0, 1], kind: 'memory' }]);
    expect((await reader.query({ vector: [0, 1], k: 1 })).map((m) => m.id)).toEqual(['b']);
    await writer.delete(['a']);
    expect(await reader.count()).toBe(1);
    // The reader lists what the writer left, as it reads it (the file store follows the writer).
    expect(await reader.listIds?.()).toEqual({ items: ['b'], next: null });
    await writer.close();
    expect(await reader.count()).toBe(1);
    await reader.close();
  });

  test('a failed open holds nothing: the same instance opens again, in the other mode too', async () => {
    const first = harness.open(dir());
    await first.ensureIndex(signatureOf(2));
    await first.close();
    const store = harness.open(dir());
    await expect(store.ensureIndex(signatureOf(3), { readOnly: true })).rejects.toBeInstanceOf(ConfigError);
    // Writable now: nothing of the read-only attempt (a read-only connection) is reused.
    await store.reset(signatureOf(3));
    await store.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    expect(await store.count()).toBe(1);
    await store.close();
  });

  test('a fresh store reports no signature until ensureIndex() creates one', async () => {
    const store = harness.open(dir());
    expect(await store.signature()).toBeNull();
    await store.ensureIndex(signatureOf(2));
    await store.close();
    const again = harness.open(dir());
    expect(await again.signature()).toEqual(signatureOf(2));
    await again.close();
    expect(StorageError).toBeDefined();
  });
}

/** Scoped queries stay exact while records are replaced (with new scopes) and deleted in bulk. */
export function vectorScopeChurnTests(open: OpenStore): void {
  test('scoped queries equal brute force after replacing scopes and deleting many records', async () => {
    const store = open();
    const dims = 6;
    await store.ensureIndex(signatureOf(dims));
    let items = scopedItems(900, dims, 5);
    await store.upsert(items);
    const random = seededRandom(21);
    // Every 3rd record moves to another agent and conversation (and kind); every 4th is deleted.
    const replaced = items
      .filter((_, i) => i % 3 === 0)
      .map((item, i) => ({
        ...item,
        vector: randomVector(random, dims),
        kind: i % 2 === 0 ? 'memory' : 'raw_message',
        agentId: i % 2 === 0 ? 'agent_small' : 'agent_moved',
        ...(i % 5 === 0 ? { conversationId: 'conv_small' } : { conversationId: undefined }),
      }));
    await store.upsert(replaced);
    const deleted = items.filter((_, i) => i % 4 === 1).map((item) => item.id);
    expect(await store.delete(deleted)).toBe(deleted.length);
    const byId = new Map(items.map((item) => [item.id, item]));
    for (const item of replaced) byId.set(item.id, item);
    for (const id of deleted) byId.delete(id);
    items = [...byId.values()];
    expect(await store.count()).toBe(items.length);
    const filters = [
      { agentId: 'agent_small' },
      { agentId: 'agent_moved' },
      { conversationId: 'conv_small' },
      { agentId: 'agent_small', conversationId: 'conv_small' },
      { kinds: ['raw_message', 'reasoning_chain'] },
      { agentId: 'agent_3', kinds: ['reasoning_chain'] },
    ];
    for (const filter of filters) {
      const vector = randomVector(random, dims);
      const expected = bruteForce(items, vector, 30, 'cosine', filter);
      expect(expected.length).toBeGreaterThan(0);
      expect((await store.query({ vector, k: 30, filter })).map((m) => m.id)).toEqual(expected);
    }
    await store.close();
  });
}
