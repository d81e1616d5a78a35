/**
 * Storing the fixture's inputs with FileStorage writes the reference's layout: the same file
 * paths, and byte-identical files once the timestamps the two runs took are masked (field
 * order, 2-space indent, no trailing newline, envelopes).
 */
import path from 'node:path';
import fse from 'fs-extra';
import type { FileStorage } from '../../src/backends/file/index.js';
import { RANGE_LOCK_FILE } from '../../src/backends/file/lock-kinds.js';
import { FIXTURE_STORE, isBackup, listTree, openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { type ReferenceExpectations, referenceExpectations } from '../support/reference-fixture.js';

/** Timestamps the stores generate (`2026-11-24T02:58:57.646164+00:00`); inputs use other forms. */
const GENERATED_TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/g;

async function maskedText(file: string): Promise<string> {
  return (await fse.readFile(file, 'utf8')).replace(GENERATED_TIMESTAMP, '<timestamp>');
}

/** Stores every input the way the reference's fixture script did, kind by kind. */
async function storeInputs(storage: FileStorage, inputs: ReferenceExpectations['inputs']): Promise<void> {
  for (const [id, data] of Object.entries(inputs.conversations)) await storage.storeConversation(id, data);
  for (const [id, messages] of Object.entries(inputs.raw_messages))
    await storage.storeRawMessages(id, messages);
  for (const [id, memories] of Object.entries(inputs.memories)) {
    for (const { memory_id, memory_data } of memories) await storage.storeMemory(id, memory_id, memory_data);
  }
  for (const [id, data] of Object.entries(inputs.chunk_info)) await storage.storeChunkInfo(id, data);
  for (const [id, chains] of Object.entries(inputs.reasoning_chains)) {
    for (const chain of chains) await storage.storeReasoningChain(id, chain);
  }
  for (const { key, data, ttl } of inputs.cache) {
    // The reference's 1 s entry was gone when it read it back; expire ours at once and purge it.
    await storage.storeCacheEntry(key, data, key === 'expired_entry' ? 0.001 : ttl);
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await storage.purgeExpiredCache()).toBe(1);
  for (const [key, data] of Object.entries(inputs.system_state)) await storage.storeSystemState(key, data);
}

describe('file backend writes the Python reference layout', () => {
  let baseDir: string;

  beforeAll(async () => {
    const storage = await openStore();
    baseDir = storage.baseDir;
    await storeInputs(storage, referenceExpectations().inputs);
  });

  afterAll(async () => {
    await shutdownAll();
    await removeTempDirs();
  });

  const dataFiles = (rel: string) => !isBackup(rel) && !rel.startsWith('.connectome-storage/');

  it('writes the same data files as the reference, and nothing else but backups and its own lock file', async () => {
    expect(await listTree(baseDir, dataFiles)).toEqual(await listTree(FIXTURE_STORE, dataFiles));
    // Besides the search index's segments, the range lock file and the open writer's mark
    // (removed at shutdown), in a folder the reference never looks into.
    const internal = await listTree(path.join(baseDir, '.connectome-storage'));
    expect(
      internal.filter((rel) => !rel.startsWith('search/') && rel !== `locks/${RANGE_LOCK_FILE}`),
    ).toEqual([expect.stringMatching(/^writers\/[0-9a-f]{8}-\d+-[0-9a-f]{12}\.writer$/)]);
  });

  it('writes every data file byte for byte like the reference, timestamps aside', async () => {
    for (const rel of await listTree(FIXTURE_STORE, dataFiles)) {
      expect([rel, await maskedText(path.join(baseDir, rel))]).toEqual([
        rel,
        await maskedText(path.join(FIXTURE_STORE, rel)),
      ]);
    }
  });

  it('keeps a backup wherever the reference did, holding the state before the last write', async () => {
    for (const rel of await listTree(FIXTURE_STORE, isBackup)) {
      const dir = path.dirname(rel);
      const stem = path.basename(rel).split('.')[0] as string;
      const ours = (await listTree(path.join(baseDir, dir), isBackup)).filter((name) =>
        name.startsWith(`${stem}.`),
      );
      expect(ours.length).toBeGreaterThan(0);
      for (const name of ours)
        expect(name).toMatch(new RegExp(`^${stem}\\.\\d{8}_\\d{6}_\\d{6}\\.backup\\.json$`));
      const newest = ours.sort().at(-1) as string;
      expect(await maskedText(path.join(baseDir, dir, newest))).toBe(
        await maskedText(path.join(FIXTURE_STORE, rel)),
      );
    }
  });
});
