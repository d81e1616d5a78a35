/** Resuming: a crash at every write, an abort during verification, memory order in a partial target. */
import type { JsonObject } from '../../src/core/index.js';
import {
  MarkerNotClearedError,
  migrateStorage,
  MIGRATION_MARKER_KEY,
  MigrationAbortedError,
} from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { EXPIRY_WAIT_MS, failingAfter, openStore, populate, sleep, snapshot } from './support.js';

let source: InMemoryStorage;
/** Per `conversationBatchSize`: conversations copied with their single calls (0) or two per batch write (2). */
const BATCH_SIZES = [0, 2] as const;
const writes = new Map<number, number>();
beforeAll(async () => {
  source = await openStore();
  await populate(source);
  await sleep(EXPIRY_WAIT_MS);
  // How many store* and delete* calls a whole migration makes (the marker and its removal
  // included): the first crash point at which nothing fails.
  for (const conversationBatchSize of BATCH_SIZES) {
    let count = 0;
    for (;;) {
      const result = await migrateStorage(source, failingAfter(await openStore(), count), {
        verify: false,
        conversationBatchSize,
      }).catch(() => null);
      if (result !== null) break;
      count += 1;
    }
    writes.set(conversationBatchSize, count);
  }
});

/** Markers written by a run of `sourceId` that has not finished. */
function markerFor(sourceId: string): JsonObject {
  return { source_id: sourceId, started_at: '2025-01-01T00:00:00.000000+00:00', merge: false };
}

describe('a migration crashed at any write and run again', () => {
  const cases = BATCH_SIZES.flatMap((size) =>
    [false, true].map((landed): [boolean, number] => [landed, size]),
  );
  it.each(cases)(
    'finishes verified, without duplicates (write landed: %s, conversationBatchSize %i)',
    async (afterWrite, conversationBatchSize) => {
      const writeCount = writes.get(conversationBatchSize) ?? 0;
      // Memories of a conversation and chains of an agent are one batch write each; with batches,
      // two conversations are one write.
      expect(writeCount).toBeGreaterThan(conversationBatchSize === 0 ? 20 : 8);
      for (let failAfter = 0; failAfter < writeCount; failAfter += 1) {
        const target = await openStore();
        const run = migrateStorage(source, failingAfter(target, failAfter, afterWrite), {
          sourceId: 'src',
          concurrency: 2,
          conversationBatchSize,
        });
        if (failAfter === writeCount - 1 && afterWrite) {
          // The marker's removal landed and its reply was lost: the run reads the marker gone and
          // finishes (until 2026-12-06 it failed, and a plain run again was refused).
          const finished = await run;
          expect(finished.ok).toBe(true);
          expect(await snapshot(target)).toEqual(await snapshot(source));
          expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
          continue;
        }
        await expect(run).rejects.toThrow('simulated crash');
        // The last write is the marker's removal: the copy is whole, the marker still there.
        if (failAfter === writeCount - 1) await expect(run).rejects.toBeInstanceOf(MarkerNotClearedError);
        const summary = await migrateStorage(source, target, { sourceId: 'src', concurrency: 3 });
        expect({ failAfter, ok: summary.ok, conflicts: summary.conflicts }).toEqual({
          failAfter,
          ok: true,
          conflicts: [],
        });
        expect(await snapshot(target)).toEqual(await snapshot(source));
        expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
      }
    },
  );

  it('fails naming the marker when its removal fails and the target cannot say whether it landed', async () => {
    const target = await openStore();
    const cause = new Error('connection lost before the reply');
    const failing = new Proxy(target, {
      get(wrapped, property) {
        const value: unknown = Reflect.get(wrapped, property, wrapped);
        if (typeof value !== 'function') return value;
        const method = (value as (...args: unknown[]) => unknown).bind(wrapped);
        if (property !== 'deleteSystemState' && property !== 'loadSystemState') return method;
        return async (key: string) => {
          // The removal fails, and so does the read after it (the run's earlier reads work).
          if (key === MIGRATION_MARKER_KEY && property === 'deleteSystemState') removing = true;
          if (key === MIGRATION_MARKER_KEY && removing) throw cause;
          return method(key);
        };
      },
    });
    let removing = false;
    const run = migrateStorage(source, failing, { sourceId: 'src' });
    await expect(run).rejects.toBeInstanceOf(MarkerNotClearedError);
    await expect(run).rejects.toMatchObject({
      cause,
      code: 'MIGRATION_MARKER_NOT_CLEARED',
      message: expect.stringContaining(
        `removing the target's migration marker (${MIGRATION_MARKER_KEY}) failed`,
      ),
    });
    // The copy is whole; the same command finishes it.
    expect(await target.listSystemStateKeys()).toContain(MIGRATION_MARKER_KEY);
    const summary = await migrateStorage(source, target, { sourceId: 'src' });
    expect(summary).toMatchObject({ ok: true, resumed: true });
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
  });

  it('resumes after an abort during verification and removes the marker', async () => {
    const target = await openStore();
    const controller = new AbortController();
    const run = migrateStorage(source, target, {
      sourceId: 'src',
      signal: controller.signal,
      onProgress: (event) => {
        if (event.stage === 'verify' && event.type === 'item') controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(MigrationAbortedError);
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
    const summary = await migrateStorage(source, target, { sourceId: 'src' });
    expect(summary).toMatchObject({ ok: true, resumed: true });
    expect(Object.values(summary.counts).every((count) => count.copied === 0)).toBe(true);
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
  });
});

describe("a partial memory list in the target that is not the start of the source's", () => {
  async function sourceWithMemories(): Promise<{ store: InMemoryStorage; memories: JsonObject[] }> {
    const store = await openStore();
    await store.storeConversation('c', { title: 'c' });
    for (const id of ['m1', 'm2', 'm3']) await store.storeMemory('c', id, { text: id });
    return { store, memories: await store.loadMemories('c') };
  }

  it("is rewritten in the source's order when a run resumes", async () => {
    const { store, memories } = await sourceWithMemories();
    const target = await openStore();
    await target.storeSystemState(MIGRATION_MARKER_KEY, markerFor('src'));
    await target.storeMemory('c', 'm2', memories[1] as JsonObject);
    await target.storeMemory('c', 'm3', { text: 'older value' });
    const summary = await migrateStorage(store, target, { sourceId: 'src' });
    expect(summary.verification?.differences).toEqual([]);
    expect(summary).toMatchObject({ ok: true, resumed: true });
    expect(await target.loadMemories('c')).toEqual(memories);
  });

  it.each([false, true])(
    'is rewritten in order when a resumed run crashes at any write or delete, the rewrite too (landed: %s)',
    async (afterWrite) => {
      const { store, memories } = await sourceWithMemories();
      let deletesFailed = 0;
      for (let failAfter = 0; ; failAfter += 1) {
        const target = await openStore();
        await target.storeSystemState(MIGRATION_MARKER_KEY, markerFor('src'));
        await target.storeMemory('c', 'm2', memories[1] as JsonObject);
        await target.storeMemory('c', 'm3', { text: 'older value' });
        // Names of the run's writes and deletes in call order; the failing one is calls[failAfter].
        const calls: string[] = [];
        const failing = failingAfter(target, failAfter, afterWrite);
        const recording = new Proxy(failing, {
          get(wrapped, property) {
            const value: unknown = Reflect.get(wrapped, property);
            if (typeof value !== 'function' || typeof property !== 'string') return value;
            if (/^(store|delete)/.test(property)) calls.push(property);
            return value;
          },
        });
        const run = migrateStorage(store, recording, { sourceId: 'src' });
        const crashed = await run.then(
          () => false,
          (error: Error) => error.message.includes('simulated crash'),
        );
        if (!crashed) {
          // Every write and delete of the run has been a crash point.
          expect(failAfter).toBeGreaterThan(3);
          break;
        }
        if (calls[failAfter]?.startsWith('delete')) deletesFailed += 1;

        const summary = await migrateStorage(store, target, { sourceId: 'src' });
        expect({ failAfter, ok: summary.ok, differences: summary.verification?.differences }).toEqual({
          failAfter,
          ok: true,
          differences: [],
        });
        expect(await target.loadMemories('c')).toEqual(memories);
        expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
      }
      // The rewrite's deleteConversation and the marker's deleteSystemState both failed once; a
      // removal of the marker that landed finishes the run (no crash).
      expect(deletesFailed).toBe(afterWrite ? 1 : 2);
    },
  );

  it('is rewritten in a merge when the target holds nothing else for that id', async () => {
    const { store, memories } = await sourceWithMemories();
    const target = await openStore();
    await target.storeMemory('c', 'm3', memories[2] as JsonObject);
    await target.storeMemory('c', 'm1', memories[0] as JsonObject);
    await target.storeChunkInfo('other', { kept: true });
    const summary = await migrateStorage(store, target, { merge: true });
    expect(summary).toMatchObject({ ok: true, conflicts: [] });
    expect(await target.loadMemories('c')).toEqual(memories);
    expect(await target.loadChunkInfo('other')).toEqual({ kept: true });
  });

  it("is a conflict in a merge when a rewrite would delete the target's own records", async () => {
    const { store, memories } = await sourceWithMemories();
    const target = await openStore();
    await target.storeMemory('c', 'm2', memories[1] as JsonObject);
    await target.storeMemory('c', 'mine', { text: 'only in the target' });
    await target.storeChunkInfo('c', { mine: true });
    const before = await target.loadMemories('c');
    const summary = await migrateStorage(store, target, { merge: true });
    expect(summary.ok).toBe(false);
    expect(summary.conflicts).toEqual([
      expect.objectContaining({ kind: 'memories', id: 'c', message: expect.stringContaining('order') }),
    ]);
    expect(await target.loadMemories('c')).toEqual(before);
    expect(await target.loadChunkInfo('c')).toEqual({ mine: true });
    expect(await target.loadConversation('c')).toEqual({ title: 'c' });
  });
});

describe('a resumed run after the source lost records between the attempts', () => {
  /** A source of every kind, a target holding a crashed first attempt's full copy, then the source's deletions. */
  async function changedSource(
    marker: JsonObject,
  ): Promise<{ store: InMemoryStorage; target: InMemoryStorage }> {
    const store = await openStore();
    for (const id of ['c0', 'c1', 'c2']) {
      await store.storeConversation(id, { id });
      for (const memoryId of ['m1', 'm2', 'm3']) await store.storeMemory(id, memoryId, { memoryId });
      await store.storeChunkInfo(id, { id });
    }
    await store.storeRawMessages('raw-only', [{ n: 1 }]);
    for (const agent of ['a0', 'a1']) await store.appendReasoningChains(agent, [{ step: 1 }, { step: 2 }]);
    await store.storeCacheEntry('k0', { v: 0 });
    await store.storeCacheEntry('k1', { v: 1 });
    await store.storeSystemState('s0', { v: 0 });
    await store.storeSystemState('s1', { v: 1 });
    const target = await openStore();
    expect(await migrateStorage(store, target, { sourceId: 'src' })).toMatchObject({ ok: true });
    await target.storeSystemState(MIGRATION_MARKER_KEY, marker);
    await store.deleteMemory('c0', 'm2');
    await store.deleteConversation('c1');
    // c2 keeps its conversation and memories but loses its chunk info (there is no single delete for it).
    const memories = await store.loadMemories('c2');
    await store.deleteConversation('c2');
    await store.storeConversation('c2', { id: 'c2' });
    await store.storeMemories(
      'c2',
      memories.map((data) => ({ memoryId: String(data.memory_id), data })),
    );
    await store.deleteConversation('raw-only');
    await store.deleteReasoningChains('a0');
    await store.deleteReasoningChains('a1');
    await store.appendReasoningChains('a1', [{ step: 'other' }]); // not a continuation of the copy
    await store.deleteCacheEntry('k1');
    await store.deleteSystemState('s1');
    return { store, target };
  }

  it('removes from the target what the source no longer holds, and finishes verified', async () => {
    const { store, target } = await changedSource(markerFor('src'));
    const summary = await migrateStorage(store, target, { sourceId: 'src' });
    expect(summary.verification?.differences).toEqual([]);
    expect(summary).toMatchObject({ ok: true, resumed: true, conflicts: [] });
    expect(summary.warnings).toEqual(
      expect.arrayContaining([expect.stringContaining('removed 2 conversation id(s)')]),
    );
    expect(await snapshot(target)).toEqual(await snapshot(store));
    expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
  });

  it('deletes nothing when the interrupted run was a merge', async () => {
    const { store, target } = await changedSource({ ...markerFor('src'), merge: true });
    const summary = await migrateStorage(store, target, { sourceId: 'src' });
    expect(summary).toMatchObject({ resumed: true, merge: true });
    expect(await target.listAllConversationIds()).toEqual(expect.arrayContaining(['c1', 'raw-only']));
    expect(await target.loadMemories('c0')).toHaveLength(3);
    expect(await target.loadChunkInfo('c2')).toEqual({ id: 'c2' });
    expect(await target.listAgents()).toContain('a0');
    expect(await target.loadCacheEntry('k1')).toEqual({ v: 1 });
    expect(await target.loadSystemState('s1')).toEqual({ v: 1 });
  });
});
