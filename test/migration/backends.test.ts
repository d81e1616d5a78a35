/**
 * Migrations between every pair of available backends (one harness per backend from the
 * conformance list, SQLite, and an in-memory user backend), and the Python reference
 * fixture file -> sqlite -> file.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { StorageInterface } from '../../src/core/index.js';
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';
import { backends as conformanceBackends } from '../conformance/backends.js';
import type { BackendHarness } from '../conformance/harness.js';
import { sqliteFileHarness } from '../conformance/harness-sqlite.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { EXPIRED_KEY, EXPIRY_WAIT_MS, populate, sleep, snapshot } from './support.js';

const inMemoryHarness: BackendHarness = {
  name: 'in-memory (user backend)',
  sharedStore: false,
  exactPurgeCount: true,
  available: async () => true,
  async createStore() {
    return {
      async open() {
        const storage = new InMemoryStorage();
        await storage.initialize();
        return storage;
      },
      exists: async () => false,
      cleanup: async () => undefined,
    };
  },
};

/** One harness per backend (the first word of its name), so the pair count stays small. */
const harnesses = [...conformanceBackends, sqliteFileHarness, inMemoryHarness].filter(
  (harness, index, all) =>
    all.findIndex((other) => other.name.split(' ')[0] === harness.name.split(' ')[0]) === index,
);
const pairs = harnesses.flatMap((from) =>
  harnesses.filter((to) => to !== from).map((to) => [from.name, to.name, from, to] as const),
);

const availability = new Map<BackendHarness, true | string>();
beforeAll(async () => {
  for (const harness of harnesses) availability.set(harness, await harness.available());
});

/** False (with a notice) when a harness's server is unreachable off CI; on CI that fails. */
function usable(harness: BackendHarness): boolean {
  const state = availability.get(harness);
  if (state === true) return true;
  if (process.env.CI === 'true') throw new Error(`${harness.name} is unavailable: ${state}`);
  console.warn(`!!! SKIPPING ${harness.name} migrations: ${state}`);
  return false;
}

describe.each(pairs)('migrate %s -> %s', (_fromName, _toName, from, to) => {
  it('copies a generated store of all seven kinds and verifies it', async () => {
    if (!usable(from) || !usable(to)) return;
    const [sourceStore, targetStore] = await Promise.all([from.createStore(), to.createStore()]);
    const opened: StorageInterface[] = [];
    try {
      const source = await sourceStore.open();
      opened.push(source);
      const target = await targetStore.open();
      opened.push(target);
      await populate(source);
      await sleep(EXPIRY_WAIT_MS);
      const summary = await migrateStorage(source, target, { sourceId: from.name, targetId: to.name });
      expect(summary.conflicts).toEqual([]);
      expect(summary.verification?.differences).toEqual([]);
      expect(summary.ok).toBe(true);
      expect(summary.counts.memories.copied).toBe(13);
      expect(await snapshot(target)).toEqual(await snapshot(source));
      expect(await target.loadCacheRecord(EXPIRED_KEY)).toBeNull();
      expect(await target.listSystemStateKeys()).toEqual(['runtime_config', 'state/with:odd?chars']);
    } finally {
      await Promise.all(opened.map((storage) => storage.shutdown()));
      await Promise.all([sourceStore.cleanup(), targetStore.cleanup()]);
    }
  });
});

describe('the Python reference fixture', () => {
  const sample = join(__dirname, '..', 'fixtures', 'python-reference', 'sample');
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connectome-migrate-fixture-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('migrates file -> sqlite -> file and comes back equal', async () => {
    await cp(join(sample, 'storage_data'), join(dir, 'original'), { recursive: true });
    const original = new FileStorage({ baseDir: join(dir, 'original') });
    const middle = new SQLiteStorage({ dbPath: join(dir, 'middle.db') });
    const back = new FileStorage({ baseDir: join(dir, 'back') });
    try {
      expect(await migrateStorage(original, middle)).toMatchObject({ ok: true });
      expect(await migrateStorage(middle, back)).toMatchObject({ ok: true });
      expect(await snapshot(back)).toEqual(await snapshot(original));
      expect(await verifyMigration(original, back)).toMatchObject({ ok: true, differenceCount: 0 });
      const summary = await migrateStorage(original, middle, { dryRun: true });
      expect(summary.counts).toMatchObject({ raw_messages: { copied: 40 }, reasoning_chains: { copied: 5 } });
    } finally {
      await Promise.all([original.shutdown(), middle.shutdown(), back.shutdown()]);
    }
  });

  it("migrates the reference's SQLite database to files", async () => {
    await cp(join(sample, 'connectome.db'), join(dir, 'ref.db'));
    const reference = new SQLiteStorage({ dbPath: join(dir, 'ref.db') });
    const files = new FileStorage({ baseDir: join(dir, 'files') });
    try {
      expect(await migrateStorage(reference, files)).toMatchObject({ ok: true });
      expect(await snapshot(files)).toEqual(await snapshot(reference));
    } finally {
      await Promise.all([reference.shutdown(), files.shutdown()]);
    }
  });
});
