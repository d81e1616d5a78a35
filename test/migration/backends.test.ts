/**
 * Migrations between backend setups (the conformance harnesses and an in-memory user
 * backend; pairs whose server is unreachable are skipped loudly, and fail on CI), and the
 * Python reference fixture file -> sqlite -> file.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';
import type { BackendHarness } from '../conformance/harness.js';
import { fileHarness } from '../conformance/harness-file.js';
import { postgresHarness } from '../conformance/harness-postgres.js';
import { redisClusterHarness, redisHarness } from '../conformance/harness-redis.js';
import { sqliteFileHarness, sqliteMemoryHarness } from '../conformance/harness-sqlite.js';
import { describeWithService } from '../services.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { pairService, withStorePair } from './pairs.js';
import { EXPIRED_KEY, EXPIRY_WAIT_MS, populate, sleep, snapshot } from './support.js';

const inMemoryHarness: BackendHarness = {
  name: 'in-memory (user backend)',
  sharedStore: false,
  available: async () => true,
  async createStore() {
    return {
      async open() {
        const storage = new InMemoryStorage();
        await storage.initialize();
        return storage;
      },
      exists: async () => false,
      shownAs: ['in-memory'],
      cleanup: async () => undefined,
    };
  },
};

/**
 * Every backend setup (both SQLite modes, single Redis and Redis Cluster included), ordered so
 * that neighbours differ in kind. The full cross product (42 pairs) is slow; three rings over
 * this list (each setup to the next, to the previous and to the one after next) make 21 pairs
 * in which every setup is a source and a target three times, each with other partners.
 */
const harnesses: BackendHarness[] = [
  fileHarness,
  redisHarness,
  sqliteMemoryHarness,
  postgresHarness,
  redisClusterHarness,
  sqliteFileHarness,
  inMemoryHarness,
];
const pairs = [1, -1, 2].flatMap((step) =>
  harnesses.map((from, i) => [from, harnesses[(i + step + harnesses.length) % harnesses.length]] as const),
);

for (const [from, to] of pairs) {
  if (to === undefined) continue;
  describeWithService(pairService(from, to))(`migrate ${from.name} -> ${to.name}`, () => {
    beforeAll(async () => {
      for (const harness of [from, to]) {
        const availability = await harness.available();
        if (availability !== true) throw new Error(`${harness.name} is not available: ${availability}`);
      }
    });

    it('copies a generated store of all seven kinds and verifies it', async () => {
      await withStorePair(from, to, async (source, target) => {
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
      });
    });
  });
}

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
