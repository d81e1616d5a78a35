/**
 * A file-store source with cache or state files that do not parse: their keys are inside them,
 * so the listings skip them. The migration refuses before writing anything, naming the files,
 * where it copied the rest and verified "no differences" (the records were lost silently).
 * Data of the source that does not parse otherwise fails the run with a `CorruptSourceError`,
 * told from the target's, since running again cannot get past it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { CorruptDataError } from '../../src/core/index.js';
import {
  CorruptSourceError,
  migrateStorage,
  MigrationRefusedError,
  verifyMigration,
} from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-migrate-corrupt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A file store with a conversation, a cache entry and a state key; `corrupt` spoils the named files. */
async function sourceWith(name: string, corrupt: string[]): Promise<FileStorage> {
  const baseDir = join(dir, name);
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  await writer.storeConversation('c1', { title: 'kept' });
  await writer.storeCacheEntry('forever', { v: 1 });
  await writer.storeSystemState('settings', { mode: 'a' });
  await writer.shutdown();
  for (const file of corrupt) await writeFile(join(baseDir, file), '{"truncated": ');
  return new FileStorage({ baseDir, readOnly: true });
}

it('refuses a source whose cache or state files do not parse, naming them, before writing', async () => {
  const source = await sourceWith('both', ['cache/forever.json', 'system/settings.json']);
  const target = new InMemoryStorage();
  try {
    const run = migrateStorage(source, target);
    await expect(run).rejects.toBeInstanceOf(MigrationRefusedError);
    await expect(run).rejects.toMatchObject({
      reason: 'corrupt-source',
      message: expect.stringContaining('cache/forever.json, system/settings.json'),
    });
    // The store names them itself, as its listings leave their records out.
    expect(await source.listUnlistedFiles()).toEqual(['cache/forever.json', 'system/settings.json']);
    expect(await source.listCacheKeys()).toEqual([]);
    // Nothing was written: no conversation, no resume marker.
    expect(await target.listAllConversationIds()).toEqual([]);
    expect(await target.listSystemStateKeys()).toEqual([]);
    // A dry run says so too.
    await expect(migrateStorage(source, new InMemoryStorage(), { dryRun: true })).rejects.toMatchObject({
      reason: 'corrupt-source',
    });
  } finally {
    await source.shutdown();
    await target.shutdown();
  }
});

it('copies the cache and state of a source without such files', async () => {
  const source = await sourceWith('moved', []);
  const target = new InMemoryStorage();
  try {
    const summary = await migrateStorage(source, target);
    expect(summary.ok).toBe(true);
    expect(await target.loadCacheEntry('forever')).toEqual({ v: 1 });
    expect(await target.loadSystemState('settings')).toEqual({ mode: 'a' });
  } finally {
    await source.shutdown();
    await target.shutdown();
  }
});

it("names a source record that does not parse as the source's, and a target's as it was", async () => {
  // A conversation file is listed by its folder, so its load fails (stats do not count it).
  const source = await sourceWith('conversation', ['conversations/c1/current.json']);
  try {
    const run = migrateStorage(source, new InMemoryStorage());
    await expect(run).rejects.toBeInstanceOf(CorruptSourceError);
    await expect(run).rejects.toBeInstanceOf(CorruptDataError);
    await expect(run).rejects.toMatchObject({
      location: join(dir, 'conversation', 'conversations', 'c1', 'current.json'),
      message: expect.stringMatching(/^Corrupt data in the source at .*current\.json: /),
    });
  } finally {
    await source.shutdown();
  }
  const clean = await sourceWith('clean', []);
  const target = new (class extends InMemoryStorage {
    override loadConversationBatch(): Promise<never> {
      return Promise.reject(new CorruptDataError('target row c1', 'bad'));
    }
  })();
  try {
    const run = migrateStorage(clean, target, { merge: true });
    await expect(run).rejects.toBeInstanceOf(CorruptDataError);
    await expect(run).rejects.not.toBeInstanceOf(CorruptSourceError);
  } finally {
    await clean.shutdown();
    await target.shutdown();
  }
});

describe('verifyMigration on its own, of a copy whose source is now corrupt', () => {
  /** A copy of a clean source, then the source's `corrupt` files spoilt (the source reopened). */
  async function copiedThenSpoilt(name: string, corrupt: string[]): Promise<[FileStorage, InMemoryStorage]> {
    const clean = await sourceWith(name, []);
    const target = new InMemoryStorage();
    expect((await migrateStorage(clean, target)).ok).toBe(true);
    await clean.shutdown();
    for (const file of corrupt) await writeFile(join(dir, name, file), '{"truncated": ');
    const source = new FileStorage({ baseDir: join(dir, name), readOnly: true });
    await source.initialize();
    return [source, target];
  }

  it("rejects a source record that does not parse as the source's, naming its path", async () => {
    const [source, target] = await copiedThenSpoilt('verify-record', ['conversations/c1/current.json']);
    try {
      const run = verifyMigration(source, target);
      await expect(run).rejects.toBeInstanceOf(CorruptSourceError);
      await expect(run).rejects.toMatchObject({
        location: join(dir, 'verify-record', 'conversations', 'c1', 'current.json'),
        message: expect.stringMatching(/^Corrupt data in the source at .*current\.json: /),
      });
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });

  it('rejects unlisted cache or state files of the source, naming them, where it found no difference', async () => {
    const [source, target] = await copiedThenSpoilt('verify-unlisted', [
      'cache/forever.json',
      'system/settings.json',
    ]);
    try {
      const run = verifyMigration(source, target, { allowExtra: true });
      await expect(run).rejects.toBeInstanceOf(CorruptSourceError);
      await expect(run).rejects.toMatchObject({
        location: 'cache/forever.json',
        message: expect.stringContaining(
          "relative to the source's folder: cache/forever.json, system/settings.json",
        ),
      });
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });

  it("leaves the target's data that does not parse a CorruptDataError of the target", async () => {
    const source = await sourceWith('verify-source', []);
    const targetDir = join(dir, 'verify-target');
    const writer = new FileStorage({ baseDir: targetDir });
    await writer.initialize();
    expect((await migrateStorage(source, writer)).ok).toBe(true);
    await writer.shutdown();
    await writeFile(join(targetDir, 'conversations', 'c1', 'current.json'), '{"title": ');
    const target = new FileStorage({ baseDir: targetDir, readOnly: true });
    await target.initialize();
    try {
      const run = verifyMigration(source, target);
      await expect(run).rejects.toBeInstanceOf(CorruptDataError);
      await expect(run).rejects.not.toBeInstanceOf(CorruptSourceError);
      await expect(run).rejects.toMatchObject({
        location: join(targetDir, 'conversations', 'c1', 'current.json'),
      });
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });
});
