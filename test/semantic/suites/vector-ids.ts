/** Conformance: `listIds()`, the keyset pages of record ids `reindex()` walks. */
import {
  InvalidIdError,
  NotInitializedError,
  type Page,
  ValidationError,
  type VectorIdPageOptions,
  type VectorStore,
} from '../../../src/index.js';
import { signatureOf } from '../vector-fixtures.js';
import type { OpenStore } from './vector-basics.js';

/** A page of `store`'s ids (every built-in store has `listIds`, optional in the interface). */
function listIds(store: VectorStore, options?: VectorIdPageOptions): Promise<Page<string>> {
  if (store.listIds === undefined) throw new Error(`${store.kind} vector store has no listIds()`);
  return store.listIds(options);
}

/** Every id, walking pages of `limit`. */
async function walk(store: VectorStore, limit: number, between?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const page: Page<string> = await listIds(store, { after, limit });
    ids.push(...page.items);
    after = page.next;
    await between?.();
  } while (after !== null);
  return ids;
}

const item = (id: string) => ({ id, vector: [1, 0.5, 0, 0], kind: 'memory' });

export function vectorIdTests(open: OpenStore): void {
  const sig = signatureOf(4);

  test('listIds pages every id in code point order; next is the last id, null on the last page', async () => {
    const store = open();
    await store.ensureIndex(sig);
    expect(await listIds(store)).toEqual({ items: [], next: null });
    // U+FFFD sorts before U+1F600 by code point, after it by UTF-16 code unit.
    const ids = ['b', 'a/2', 'a/10', 'a\u{1F600}', 'a\uFFFD', 'A', 'é'];
    await store.upsert(ids.map(item));
    const sorted = ['A', 'a/10', 'a/2', 'a\uFFFD', 'a\u{1F600}', 'b', 'é'];
    expect(await listIds(store)).toEqual({ items: sorted, next: null });
    expect(await listIds(store, { limit: 3 })).toEqual({ items: sorted.slice(0, 3), next: 'a/2' });
    expect(await listIds(store, { after: 'a/2', limit: 3 })).toEqual({
      items: sorted.slice(3, 6),
      next: 'b',
    });
    // A full last page says it is the last: no empty page after it.
    expect(await listIds(store, { after: 'a\uFFFD', limit: 3 })).toEqual({
      items: sorted.slice(4),
      next: null,
    });
    // `after` need not be a stored id: it is a position.
    expect(await listIds(store, { after: 'a/3', limit: 2 })).toEqual({
      items: sorted.slice(3, 5),
      next: 'a\u{1F600}',
    });
    expect(await listIds(store, { after: null, limit: 1 })).toEqual({ items: ['A'], next: 'A' });
    expect(await listIds(store, { after: 'é' })).toEqual({ items: [], next: null });
    await store.close();
  });

  test('listIds pages 1,000 ids by default, up to 10,000', async () => {
    const store = open();
    await store.ensureIndex(sig);
    const ids = Array.from({ length: 1001 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    await store.upsert(ids.map(item));
    const first = await listIds(store);
    expect(first).toEqual({ items: ids.slice(0, 1000), next: 'm0999' });
    expect(await listIds(store, { after: first.next })).toEqual({ items: ['m1000'], next: null });
    expect((await listIds(store, { limit: 10_000 })).items).toEqual(ids);
    await store.close();
  });

  test('a walk lists every id stored throughout exactly once, whatever is written meanwhile', async () => {
    const store = open();
    await store.ensureIndex(sig);
    const kept = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    const churn = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);
    await store.upsert([...kept, ...churn].map(item));
    let round = 0;
    const listed = await walk(store, 7, async () => {
      // Between pages: ids before and after the position come and go, and kept ones are replaced.
      round += 1;
      await store.delete([churn[round] as string, `n${round - 1}`]);
      await store.upsert([item(`n${round}`), item(`a${round}`), item(kept[round] as string)]);
    });
    for (const id of kept) expect(listed.filter((x) => x === id)).toEqual([id]);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toEqual([...listed].sort());
    await store.close();
  });

  test('listIds refuses bad options before any I/O, and before ensureIndex() or after close()', async () => {
    const store = open();
    await expect(listIds(store)).rejects.toBeInstanceOf(NotInitializedError);
    await store.ensureIndex(sig);
    await store.upsert([item('a')]);
    for (const limit of [0, 10_001, 1.5, '10', null]) {
      const refused = listIds(store, { limit } as unknown as VectorIdPageOptions);
      await expect(refused).rejects.toBeInstanceOf(ValidationError);
      await expect(refused).rejects.toMatchObject({ field: 'limit' });
    }
    for (const after of ['', 42, 'a\u0000b', '\uD800']) {
      const refused = listIds(store, { after } as unknown as VectorIdPageOptions);
      await expect(refused).rejects.toBeInstanceOf(InvalidIdError);
      await expect(refused).rejects.toMatchObject({ field: 'after' });
    }
    await expect(listIds(store, { cursor: 'a' } as unknown as VectorIdPageOptions)).rejects.toThrow(
      /unknown option "cursor"/,
    );
    await expect(listIds(store, 'a' as unknown as VectorIdPageOptions)).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await listIds(store)).toEqual({ items: ['a'], next: null });
    await store.close();
    await expect(listIds(store)).rejects.toBeInstanceOf(NotInitializedError);
  });

  test('a read-only open lists the ids there are', async () => {
    const store = open();
    await store.ensureIndex(sig, { readOnly: true });
    expect(await listIds(store)).toEqual({ items: [], next: null });
    await store.close();
  });
}
