/** Source data the engine must cope with: reference duplicates, cache entries expiring mid-run, many conflicts. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import {
  type CacheRecordBatchItem,
  formatEpochMs,
  parseTimestamp,
  type StorageInterface,
} from '../../src/core/index.js';
import { migrateStorage, MIGRATION_MARKER_KEY, verifyMigration } from '../../src/migration/index.js';
import { shiftClock } from '../support/clock.js';
import { openStore, sleep } from './support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-migrate-edge-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('migrates memories the reference stored twice under one id, with a warning', async () => {
  // The reference file backend appends a duplicate where this library replaces (D7).
  const conversation = join(dir, 'reference', 'conversations', 'c1');
  await mkdir(conversation, { recursive: true });
  const memory = (id: string, second: number, text: string) => ({
    memory_id: id,
    created_at: `2025-03-06T10:00:0${second}.000000+00:00`,
    text,
  });
  await writeFile(
    join(conversation, 'memories.json'),
    JSON.stringify({
      memories: [memory('a', 1, 'first'), memory('b', 2, 'other'), memory('a', 3, 'updated')],
      _metadata: { last_updated: '2025-03-06T10:00:03.000000+00:00', memory_count: 3, conversation_id: 'c1' },
    }),
  );
  const source = new FileStorage({ baseDir: join(dir, 'reference') });
  const target = await openStore();
  try {
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true, conflicts: [] });
    expect(summary.warnings).toEqual([
      expect.stringMatching(/^conversation "c1": memory id "a" appears 2 times/),
    ]);
    const expected = [memory('a', 3, 'updated'), memory('b', 2, 'other')];
    expect(await target.loadMemories('c1')).toEqual(expected);
    expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    // A resumed run over a finished copy must not write the first duplicate over the last.
    const resumed = await openStore();
    const marker = { source_id: 'reference', started_at: '2025-03-06T10:00:00.000000+00:00', merge: false };
    await resumed.storeSystemState(MIGRATION_MARKER_KEY, marker);
    for (const record of expected) await resumed.storeMemory('c1', record.memory_id, record);
    expect(await migrateStorage(source, resumed, { sourceId: 'reference' })).toMatchObject({ ok: true });
    expect(await resumed.loadMemories('c1')).toEqual(expected);
  } finally {
    await source.shutdown();
  }
});

it("does not count a copy that outlives its source's expiry by a moment as a difference", async () => {
  // Time is moved explicitly (no short TTL to race against on a loaded machine).
  const clock = shiftClock();
  try {
    const source = await openStore();
    await source.storeCacheEntry('short', { v: 1 }, 60);
    const target = await openStore();
    // Copies keep the exact expiry, but one made with a remaining TTL (by an older version, or
    // from a record with unusable timestamps) expires a little after the source's.
    const slowTarget = new Proxy(target, {
      get(store, property, receiver) {
        const value: unknown = Reflect.get(store, property, receiver);
        if (property !== 'storeCacheRecords' || typeof value !== 'function') return value;
        return async (records: CacheRecordBatchItem[]) => {
          const later = (record: CacheRecordBatchItem) =>
            formatEpochMs((parseTimestamp(record.expiresAt ?? '') ?? 0) + 1000);
          return (value as StorageInterface['storeCacheRecords']).apply(receiver, [
            records.map((record) => ({ ...record, expiresAt: later(record) })),
          ]);
        };
      },
    }) as StorageInterface;
    expect(await migrateStorage(source, slowTarget, { verify: false })).toMatchObject({ ok: true });
    const sourceExpiry = Date.parse((await source.loadCacheRecord('short'))?.expiresAt ?? '');
    const copyExpiry = Date.parse((await target.loadCacheRecord('short'))?.expiresAt ?? '');
    expect(copyExpiry - sourceExpiry).toBe(1000);
    clock.advance(sourceExpiry + 50 - Date.now());
    expect(await source.loadCacheRecord('short')).toBeNull();
    expect(await target.loadCacheRecord('short')).not.toBeNull();
    expect(await verifyMigration(source, target)).toMatchObject({ ok: true, differences: [] });
  } finally {
    clock.restore();
  }
});

it('keeps a bounded list of conflicts and counts them all', async () => {
  const source = await openStore();
  const target = await openStore();
  for (let i = 0; i < 30; i += 1) {
    const agent = `agent-${String(i).padStart(2, '0')}`;
    await source.storeReasoningChain(agent, { step: 'source' });
    await target.storeReasoningChain(agent, { step: 'target' });
  }
  const summary = await migrateStorage(source, target, { merge: true, maxDifferences: 5 });
  expect(summary).toMatchObject({ ok: false, conflictCount: 30 });
  expect(summary.conflicts).toHaveLength(5);
  expect(summary.verification).toMatchObject({ differenceCount: 30 });
});

it('keeps at most `concurrency` conversations and agents in flight', async () => {
  const source = await openStore();
  for (let i = 0; i < 12; i += 1) {
    await source.storeConversation(`c${i}`, { i });
    await source.storeReasoningChain(`a${i}`, { i });
  }
  let inFlight = 0;
  let most = 0;
  const slowSource = new Proxy(source, {
    get(store, property, receiver) {
      const value: unknown = Reflect.get(store, property, receiver);
      if (property !== 'loadConversation' && property !== 'loadReasoningChains') return value;
      return async (...args: unknown[]) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(5);
        inFlight -= 1;
        return (value as (...a: unknown[]) => Promise<unknown>).apply(receiver, args);
      };
    },
  }) as StorageInterface;
  expect(await migrateStorage(slowSource, await openStore(), { concurrency: 3 })).toMatchObject({ ok: true });
  // Verification reads the same source once per id and agent, with the same bound.
  expect(most).toBe(3);
});
