/** The migration engine on in-memory stores: copy, verify, dry run, refusals, merge, resume. */
import {
  inspectTarget,
  migrateStorage,
  MIGRATION_MARKER_KEY,
  MigrationAbortedError,
  type MigrateOptions,
  type MigrationProgressEvent,
  MigrationRefusedError,
  verifyMigration,
} from '../../src/migration/index.js';
import type { StorageInterface } from '../../src/core/index.js';
import { shiftClock } from '../support/clock.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import {
  AGENT_IDS,
  EXPIRED_KEY,
  failingAfter,
  openStore,
  populate,
  populatedSource,
  snapshot,
} from './support.js';

describe('migrateStorage', () => {
  it('copies all seven kinds with order, timestamps and remaining TTL, and verifies', async () => {
    const source = await populatedSource();
    const target = await openStore();
    const events: MigrationProgressEvent[] = [];
    // Ten minutes pass between storing and migrating: a copy must keep the remaining TTL,
    // not restart the original one.
    const clock = shiftClock();
    clock.advance(10 * 60_000);
    const summary = await migrateStorage(source, target, { onProgress: (e) => events.push(e) }).finally(() =>
      clock.restore(),
    );

    expect(summary.ok).toBe(true);
    expect(summary.verification).toMatchObject({ ok: true, differenceCount: 0 });
    expect(summary.counts).toEqual({
      conversations: { copied: 4, skipped: 0 },
      raw_messages: { copied: 9, skipped: 0 },
      memories: { copied: 13, skipped: 0 },
      reasoning_chains: { copied: 6, skipped: 0 },
      chunk_info: { copied: 2, skipped: 0 },
      cache_entries: { copied: 3, skipped: 0 },
      system_state: { copied: 2, skipped: 0 },
    });
    expect(await snapshot(target)).toEqual(await snapshot(source));
    expect(await target.loadMemories('會話-ü')).toEqual(await source.loadMemories('會話-ü'));
    expect((await target.loadReasoningChains(AGENT_IDS[0] as string)).map((c) => c.stored_at)).toEqual(
      (await source.loadReasoningChains(AGENT_IDS[0] as string)).map((c) => c.stored_at),
    );
    expect(await target.loadCacheRecord(EXPIRED_KEY)).toBeNull();
    const long = await target.loadCacheRecord('chunk:aa_bb');
    const sourceLong = await source.loadCacheRecord('chunk:aa_bb');
    expect(
      Math.abs(Date.parse(long?.expiresAt ?? '') - Date.parse(sourceLong?.expiresAt ?? '')),
    ).toBeLessThan(1000);
    expect(await target.loadCacheRecord('chunk:aa/bb')).toMatchObject({ data: { v: 1 }, expiresAt: null });
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toBeNull();
    const phases = events.filter((e) => e.type === 'phase-end').map((e) => `${e.stage}:${e.phase}:${e.done}`);
    expect(phases).toEqual([
      'copy:conversations:6',
      'copy:agents:2',
      'copy:cache:3',
      'copy:system_state:2',
      'verify:conversations:6',
      'verify:agents:2',
      'verify:cache:3',
      'verify:system_state:2',
    ]);
  });

  it('counts without writing in a dry run and never opens the target', async () => {
    const source = await populatedSource();
    const target = new InMemoryStorage();
    const summary = await migrateStorage(source, target, { dryRun: true });
    expect(summary).toMatchObject({ ok: true, dryRun: true, verification: null, conversationIds: 6 });
    expect(summary.counts.memories.copied).toBe(13);
    expect(target.isInitialized).toBe(false);
  });

  it('refuses the same store, a non-empty target and a foreign unfinished run, writing nothing', async () => {
    const source = await populatedSource();
    await expect(migrateStorage(source, source)).rejects.toMatchObject({ reason: 'same-store' });
    const other = await openStore();
    await expect(
      migrateStorage(source, other, { sourceId: 'file:/x', targetId: 'file:/x' }),
    ).rejects.toBeInstanceOf(MigrationRefusedError);
    await expect(migrateStorage(source, other, { concurrency: 0 })).rejects.toMatchObject({
      reason: 'invalid-option',
    });

    const busy = await openStore();
    await busy.storeSystemState('mine', { keep: true });
    const before = await snapshot(busy);
    await expect(migrateStorage(source, busy)).rejects.toMatchObject({ reason: 'target-not-empty' });
    expect(await snapshot(busy)).toEqual(before);

    const foreign = await openStore();
    await foreign.storeSystemState(MIGRATION_MARKER_KEY, {
      source_id: 'elsewhere',
      started_at: 'x',
      merge: false,
    });
    await expect(migrateStorage(source, foreign, { sourceId: 'here' })).rejects.toMatchObject({
      reason: 'foreign-marker',
    });
    expect(await inspectTarget(foreign)).toMatchObject({ empty: true, marker: { sourceId: 'elsewhere' } });
  });

  it('inspectTarget: any one record of any kind makes a target non-empty, the marker alone does not', async () => {
    const holding = [
      (s: StorageInterface) => s.storeRawMessages('c', ['hi']),
      (s: StorageInterface) => s.storeMemory('c', 'm', { text: 'x' }),
      (s: StorageInterface) => s.storeReasoningChain('a', { step: 1 }),
      (s: StorageInterface) => s.storeCacheEntry('k', { v: 1 }),
      (s: StorageInterface) => s.storeSystemState('k', { v: 1 }),
    ];
    for (const store of holding) {
      const target = await openStore();
      await store(target);
      expect(await inspectTarget(target)).toEqual({ empty: false, marker: null });
      await target.storeSystemState(MIGRATION_MARKER_KEY, { source_id: 's', started_at: 't' });
      expect(await inspectTarget(target)).toMatchObject({ empty: false, marker: { sourceId: 's' } });
    }
    expect(await inspectTarget(await openStore())).toEqual({ empty: true, marker: null });
  });

  it('merges into a non-empty target with --merge, keeping its other records', async () => {
    const source = await populatedSource();
    const target = await openStore();
    await target.storeConversation('target-only', { mine: true });
    await target.storeReasoningChain('target-agent', { x: 1 });
    await target.storeMemory('plain', 'target-memory', { mine: true });
    const summary = await migrateStorage(source, target, { merge: true });
    expect(summary).toMatchObject({ ok: true, merge: true });
    expect(await target.loadConversation('target-only')).toEqual({ mine: true });
    expect((await target.loadMemories('plain')).map((m) => m.memory_id)).toEqual([
      'target-memory',
      'mem-b-3',
      'mem-a-3',
      'mem c 3',
    ]);
    // Merging again writes nothing: every record is already there.
    const again = await migrateStorage(source, target, { merge: true });
    expect(Object.values(again.counts).map((count) => count.copied)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    // Without allowExtra, the target-only records are differences.
    const strict = await verifyMigration(source, target);
    expect(strict.ok).toBe(false);
    expect(strict.differences.map((d) => d.id)).toEqual(
      expect.arrayContaining(['target-only', 'target-agent', 'plain']),
    );
  });

  it('reports chains that are not a prefix of the source as a conflict and keeps the marker', async () => {
    const source = await populatedSource();
    const target = await openStore();
    const agent = AGENT_IDS[1] as string;
    await target.storeReasoningChain(agent, { step: 'something else' });
    const summary = await migrateStorage(source, target, { merge: true });
    expect(summary.ok).toBe(false);
    expect(summary.conflicts).toEqual([expect.objectContaining({ kind: 'reasoning_chains', id: agent })]);
    expect(await target.loadReasoningChains(agent)).toHaveLength(1);
    expect(summary.verification?.differences).toEqual([
      expect.objectContaining({
        kind: 'reasoning_chains',
        id: agent,
        message: expect.stringContaining('at $[0]'),
      }),
    ]);
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
  });

  // One conversation per batch write, so that the crash points fall between conversations.
  it.each([1, 4, 7, 10])(
    'resumes after a crash after %i writes: no duplicates, verified',
    async (failAfter) => {
      const source = await populatedSource();
      const target = await openStore();
      await expect(
        migrateStorage(source, failingAfter(target, failAfter), {
          sourceId: 'src',
          concurrency: 2,
          conversationBatchSize: 1,
        }),
      ).rejects.toThrow('simulated crash');
      expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
      // Someone else's migration may not write into this unfinished copy.
      await expect(migrateStorage(source, target, { sourceId: 'other' })).rejects.toMatchObject({
        reason: 'foreign-marker',
      });
      const summary = await migrateStorage(source, target, { sourceId: 'src' });
      expect(summary).toMatchObject({ ok: true, resumed: true });
      // What the first attempt wrote (after the marker) is found and not written again.
      const skipped = Object.values(summary.counts).reduce((sum, count) => sum + count.skipped, 0);
      expect(skipped > 0).toBe(failAfter > 1);
      expect(await snapshot(target)).toEqual(await snapshot(source));
      expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    },
  );

  it('stops on abort and resumes', async () => {
    const source = await populatedSource();
    const target = await openStore();
    const controller = new AbortController();
    const run = migrateStorage(source, target, {
      sourceId: 'src',
      signal: controller.signal,
      concurrency: 1,
      conversationBatchSize: 1,
      onProgress: (event) => {
        if (event.type === 'item' && event.done === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(MigrationAbortedError);
    expect((await target.listAllConversationIds()).length).toBe(3);
    // Resuming needs the same sourceId: without one, the run cannot prove it reads the same store.
    await expect(migrateStorage(source, target)).rejects.toMatchObject({ reason: 'foreign-marker' });
    expect(await migrateStorage(source, target, { sourceId: 'src' })).toMatchObject({
      ok: true,
      resumed: true,
    });
    expect(await snapshot(target)).toEqual(await snapshot(source));
  });
});

describe('migrateStorage with an AbortSignal', () => {
  it('does no I/O when the signal has already fired: neither store is opened', async () => {
    const source = new InMemoryStorage();
    const target = new InMemoryStorage();
    const reason = new Error('shutting down');
    const run = migrateStorage(source, target, { signal: AbortSignal.abort(reason) });
    await expect(run).rejects.toBeInstanceOf(MigrationAbortedError);
    await expect(run).rejects.toMatchObject({ code: 'MIGRATION_ABORTED', cause: reason });
    expect(source.isInitialized).toBe(false);
    expect(target.isInitialized).toBe(false);
  });

  it('refuses a signal that is not an AbortSignal before opening anything', async () => {
    const source = new InMemoryStorage();
    const run = migrateStorage(source, new InMemoryStorage(), { signal: 'stop' as unknown as AbortSignal });
    await expect(run).rejects.toMatchObject({ name: 'MigrationRefusedError', reason: 'invalid-option' });
    expect(source.isInitialized).toBe(false);
  });

  it.each([
    ['maxDifferences', -1, 'maxDifferences must be a non-negative integer (got -1)'],
    ['maxDifferences', 1.5, 'maxDifferences must be a non-negative integer'],
    ['onProgress', 'x', 'onProgress must be a function (got "x")'],
    ['verify', 'yes', 'verify must be a boolean'],
    ['merge', 1, 'merge must be a boolean'],
    ['dryRun', 'no', 'dryRun must be a boolean'],
    ['checkSource', null, 'checkSource must be a boolean'],
    ['sourceId', 42, 'sourceId must be a string'],
  ])(
    'refuses %s: %p before opening anything, so a run with good options then goes through',
    async (name, value, message) => {
      // Until 2026-12-06 a bad maxDifferences failed the verification after the whole copy, and a
      // bad onProgress the first event: the resume marker stayed, and the next run without
      // sourceId was refused as foreign.
      const source = await populatedSource();
      const target = await openStore();
      const run = migrateStorage(source, target, { [name]: value } as MigrateOptions);
      await expect(run).rejects.toMatchObject({ name: 'MigrationRefusedError', reason: 'invalid-option' });
      await expect(run).rejects.toThrow(message);
      expect(await inspectTarget(target)).toMatchObject({ empty: true });
      expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toBeNull();
      expect((await migrateStorage(source, target)).ok).toBe(true);
    },
  );
});

describe('verifyMigration', () => {
  it('verifies, and compares a merge or resumed run, with batch loads: a group of ids per call', async () => {
    const source = await openStore();
    await populate(source, 50); // 200 conversations and more
    const target = await openStore();
    await migrateStorage(source, target, { verify: false });
    const ids = await source.listAllConversationIds();
    const calls = new Map<string, number>();
    const counted = (store: StorageInterface): StorageInterface =>
      new Proxy(store, {
        get(object, property, receiver) {
          const value: unknown = Reflect.get(object, property, receiver);
          if (typeof property !== 'string' || typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (/^load/.test(property)) calls.set(property, (calls.get(property) ?? 0) + 1);
            return (value as (...a: unknown[]) => unknown).apply(object, args);
          };
        },
      });
    const result = await verifyMigration(counted(source), counted(target), { concurrency: 2 });
    expect(result).toMatchObject({ ok: true, differenceCount: 0 });
    expect(result.checked.conversations).toBe(ids.length - 2); // raw-only, memory-only
    // Two sides, 64 ids per call: no single conversation or cache load.
    expect(calls.get('loadConversationBatch')).toBe(2 * Math.ceil(ids.length / 64));
    expect(calls.get('loadCacheRecords')).toBe(2);
    for (const single of [
      'loadConversation',
      'loadRawMessages',
      'loadMemories',
      'loadChunkInfo',
      'loadCacheRecord',
    ])
      expect(calls.get(single)).toBeUndefined();
    // A difference is still found through the batch reads.
    const [first] = await target.loadMemories(ids[150]!);
    await target.storeMemory(ids[150]!, String(first!.memory_id), { summary: 'edited' });
    const changed = await verifyMigration(source, target);
    expect(changed.differences.map((d) => `${d.kind} ${d.id}`)).toEqual([`memories ${ids[150]}`]);

    // A merge (or resumed) run compares with the target: both sides are read in batches too,
    // and only what differs is written.
    calls.clear();
    const merged = await migrateStorage(counted(source), counted(target), { merge: true, verify: false });
    expect(calls.get('loadConversationBatch')).toBe(2 * Math.ceil(ids.length / 64));
    for (const single of ['loadConversation', 'loadRawMessages', 'loadMemories', 'loadChunkInfo'])
      expect(calls.get(single)).toBeUndefined();
    expect(merged.counts.memories.copied).toBe(1); // the edited memory, back to the source's
    expect(merged.counts.conversations).toEqual({ copied: 0, skipped: ids.length - 2 });
    expect((await verifyMigration(source, target)).ok).toBe(true);
  });

  it('lists what differs, bounded, with the path of the first difference', async () => {
    const source = await populatedSource();
    const target = await openStore();
    await migrateStorage(source, target);
    await target.storeConversation('plain', { title: 'changed' });
    await target.storeMemory('with space', 'mem-a-1', { summary: 'edited' });
    await target.storeCacheEntry('chunk:aa/bb', { v: 1 }, 60); // a new expiry and a new storedAt
    await target.deleteSystemState('runtime_config');
    await target.storeSystemState('extra', { x: 1 });
    const result = await verifyMigration(source, target, { maxDifferences: 3 });
    expect(result.ok).toBe(false);
    expect(result.differenceCount).toBe(6);
    expect(result.differences).toHaveLength(3);
    const all = await verifyMigration(source, target);
    const messages = all.differences.map((d) => `${d.kind} ${d.id}: ${d.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'conversations plain: conversation differs at $.messages: source [{"content":"héllo plain \\u0000 🙂","role":"user"}], target (absent)',
        expect.stringMatching(
          /^memories with space: memory list differs at \$\[1\]\.summary: source "first by time", target "edited"$/,
        ),
        expect.stringMatching(/^cache_entries chunk:aa\/bb: cache expiry differs: source never, target 20/),
        expect.stringMatching(/^cache_entries chunk:aa\/bb: cache stored_at differs: source 20.*, target 20/),
        'system_state runtime_config: system state missing in the target',
        'system_state extra: system state only in the target',
      ]),
    );
  });
});
