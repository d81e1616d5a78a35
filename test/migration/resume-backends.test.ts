/**
 * Crash and resume against real backends: the target (a file tree, a SQLite file, a Redis or
 * Redis Cluster prefix, a PostgreSQL schema) fails its Nth write or delete, the crashed
 * instance is closed like a dead process, and a run on a freshly opened instance finishes
 * with no differences.
 */
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage, MIGRATION_MARKER_KEY } from '../../src/migration/index.js';
import type { BackendHarness } from '../conformance/harness.js';
import { fileHarness } from '../conformance/harness-file.js';
import { postgresHarness } from '../conformance/harness-postgres.js';
import { redisClusterHarness, redisHarness } from '../conformance/harness-redis.js';
import { sqliteFileHarness } from '../conformance/harness-sqlite.js';
import { describeWithService } from '../services.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { EXPIRY_WAIT_MS, failingAfter, populate, sleep, snapshot } from './support.js';

let source: InMemoryStorage;
/** The writes and deletes of a whole migration of `source`, in call order. */
let calls: string[];
/** Two conversations per `storeConversationBatch`: several batch writes to crash at. */
const BATCH_SIZE = 2;

beforeAll(async () => {
  source = new InMemoryStorage();
  await source.initialize();
  await populate(source);
  await sleep(EXPIRY_WAIT_MS);
  const target = new InMemoryStorage();
  calls = [];
  const recording = new Proxy(target, {
    get(real, property) {
      const value: unknown = Reflect.get(real, property, real);
      if (typeof value !== 'function') return value;
      if (typeof property === 'string' && /^(store|delete)/.test(property)) calls.push(property);
      return (value as (...args: unknown[]) => unknown).bind(real);
    },
  });
  const options = { conversationBatchSize: BATCH_SIZE };
  expect(await migrateStorage(source, recording, options)).toMatchObject({ ok: true });
});

/** Crash points: the first record, one in the middle (landed), the last record, the marker's removal. */
function crashPoints(): Array<[number, boolean]> {
  const last = calls.length - 1;
  return [
    [1, false],
    [Math.floor(last / 2), true],
    [last - 1, false],
    [last, false],
  ];
}

const targets: BackendHarness[] = [
  fileHarness,
  sqliteFileHarness,
  redisHarness,
  redisClusterHarness,
  postgresHarness,
];
for (const harness of targets) {
  describeWithService(harness.service)(`crash and resume into ${harness.name}`, () => {
    beforeAll(async () => {
      const availability = await harness.available();
      if (availability !== true) throw new Error(`${harness.name} is not available: ${availability}`);
    });

    it('resumes after a crash at the first, a middle and the last write and at the marker removal', async () => {
      expect(calls.at(-1)).toBe('deleteSystemState');
      // Two conversations, and the chains of an agent, are one batch write each.
      expect(calls.filter((call) => call === 'storeConversationBatch').length).toBeGreaterThan(2);
      expect(calls.length).toBeGreaterThan(6);
      for (const [failAfter, landed] of crashPoints()) {
        const store = await harness.createStore();
        const opened: StorageInterface[] = [];
        try {
          const crashedInstance = await store.open();
          opened.push(crashedInstance);
          const crashed = migrateStorage(source, failingAfter(crashedInstance, failAfter, landed), {
            sourceId: 'src',
            concurrency: 2,
            conversationBatchSize: BATCH_SIZE,
          });
          await expect(crashed).rejects.toThrow('simulated crash');
          await crashedInstance.shutdown();
          const target = await store.open();
          opened.push(target);
          expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
          const summary = await migrateStorage(source, target, { sourceId: 'src' });
          expect({ failAfter, ok: summary.ok, resumed: summary.resumed }).toEqual({
            failAfter,
            ok: true,
            resumed: true,
          });
          expect(summary.verification?.differences).toEqual([]);
          expect(summary.conflicts).toEqual([]);
          expect(await snapshot(target)).toEqual(await snapshot(source));
          expect(await target.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
        } finally {
          for (const instance of opened) await instance.shutdown();
          await store.cleanup();
        }
      }
    });

    it('removes what the source deleted between the attempts, so the resumed run finishes verified', async () => {
      const changing = new InMemoryStorage();
      await changing.initialize();
      await populate(changing);
      await sleep(EXPIRY_WAIT_MS);
      const store = await harness.createStore();
      const opened: StorageInterface[] = [];
      try {
        const crashedInstance = await store.open();
        opened.push(crashedInstance);
        // Crashes at the marker's removal: the target holds the whole first copy and the marker.
        const crashed = migrateStorage(changing, failingAfter(crashedInstance, calls.length - 1), {
          sourceId: 'src',
          conversationBatchSize: BATCH_SIZE,
        });
        await expect(crashed).rejects.toThrow('simulated crash');
        await changing.deleteMemory('plain', 'mem-a-3');
        await changing.deleteConversation('with space');
        await changing.deleteReasoningChains('agent beta');
        await changing.deleteCacheEntry('chunk:aa_bb');
        await changing.deleteSystemState('runtime_config');
        const target = await store.open();
        opened.push(target);
        const summary = await migrateStorage(changing, target, { sourceId: 'src' });
        expect(summary.verification?.differences).toEqual([]);
        expect(summary).toMatchObject({ ok: true, resumed: true, conflicts: [] });
        expect(await snapshot(target)).toEqual(await snapshot(changing));
      } finally {
        for (const instance of opened) await instance.shutdown();
        await store.cleanup();
      }
    });
  });
}
