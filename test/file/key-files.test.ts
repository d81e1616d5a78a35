/** D3: cache and system-state keys map to files so that two keys never share one, readable by the reference. */
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { READ_FLAGS } from '../../src/backends/file/fd-io.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { filesIn, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const LOOKALIKES = ['chunk:aa/bb', 'chunk:aa_bb', 'chunk_aa_bb'];

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

async function expectAll(storage: FileStorage, keys: string[], round: number): Promise<void> {
  for (const key of keys) expect(await storage.loadCacheEntry(key)).toEqual({ key, round });
  expect(await storage.listCacheKeys()).toEqual([...keys].sort());
  expect((await storage.getStorageStats()).cache_entry_count).toBe(keys.length);
}

describe('cache and state key files (D3)', () => {
  it.each(permutations(LOOKALIKES).map((order) => [order.join(' then '), order]))(
    'keeps look-alike keys apart when written %s',
    async (_title, order) => {
      const storage = await openStore();
      for (const round of [1, 2]) {
        for (const key of order as string[]) await storage.storeCacheEntry(key, { key, round });
        await expectAll(storage, LOOKALIKES, round);
      }
      // The plain key always owns its reference name; the others share nothing with it.
      const cache = path.join(storage.baseDir, 'cache');
      const plain = JSON.parse(await fse.readFile(path.join(cache, 'chunk_aa_bb.json'), 'utf8')) as object;
      expect(plain).toMatchObject({ cache_key: 'chunk_aa_bb' });
      expect(await filesIn(cache)).toHaveLength(3);
      for (const key of order as string[]) {
        await storage.deleteCacheEntry(key);
        const left = LOOKALIKES.filter(
          (other) => (order as string[]).indexOf(other) > (order as string[]).indexOf(key),
        );
        await expectAll(storage, left, 2);
      }
      expect(await filesIn(cache)).toEqual([]);
    },
  );

  it('writes a non-plain key under the reference name when free, and keeps one file per key', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await storage.storeCacheEntry('quote/req?x=1', { v: 1 });
    expect(await filesIn(cache)).toEqual(['quote_req_x_1.json']);
    await storage.storeCacheEntry('quote_req_x_1', { plain: true }); // moves the other key aside
    expect(await storage.loadCacheEntry('quote/req?x=1')).toEqual({ v: 1 });
    await storage.deleteCacheEntry('quote_req_x_1');
    await storage.storeCacheEntry('quote/req?x=1', { v: 2 }); // back under the reference name
    expect(await filesIn(cache)).toEqual(['quote_req_x_1.json']);
    expect(await storage.loadCacheEntry('quote/req?x=1')).toEqual({ v: 2 });
  });

  it('sanitizes per code point and keeps unicode keys apart', async () => {
    const storage = await openStore();
    const keys = ['🧠', '😀', 'ключ:1', 'ключ:2', 'Key', 'key'];
    for (const key of keys) await storage.storeSystemState(key, { key });
    for (const key of keys) expect(await storage.loadSystemState(key)).toEqual({ key });
    expect(await storage.listSystemStateKeys()).toEqual([...keys].sort());
    const names = await filesIn(path.join(storage.baseDir, 'system'));
    expect(names).toContain('_.json'); // one "_" for the emoji (two UTF-16 units), as Python does
    expect(names).toContain('_____1.json'); // 4 letters and ':'
  });

  it('hashes keys whose file name would pass 200 bytes, keeping them distinct', async () => {
    const storage = await openStore();
    const longPlain = 'a'.repeat(300);
    const keys = [
      longPlain,
      `${longPlain}b`,
      `${'é'.repeat(250)}:1`,
      `${'é'.repeat(250)}:2`,
      'b'.repeat(200),
    ];
    for (const key of keys) await storage.storeCacheEntry(key, { len: key.length });
    for (const key of keys) expect(await storage.loadCacheEntry(key)).toEqual({ len: key.length });
    expect(await storage.listCacheKeys()).toEqual([...keys].sort());
    const names = await filesIn(path.join(storage.baseDir, 'cache'));
    expect(names).toContain(`${'b'.repeat(200)}.json`);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(names.filter((name) => /^a{180}~[0-9a-f]{16}\.json$/.test(name))).toHaveLength(2);
  });

  it('never takes a file for a key other than the one recorded inside', async () => {
    const storage = await openStore();
    const cache = path.join(storage.baseDir, 'cache');
    await fse.writeFile(
      path.join(cache, 'stray.json'),
      JSON.stringify({
        cache_key: 'other',
        data: {},
        stored_at: '2025-01-01T00:00:00+00:00',
        expires_at: null,
      }),
    );
    expect(await storage.loadCacheEntry('stray')).toBeNull();
    expect(await storage.listCacheKeys()).toEqual([]);
    expect((await storage.getStorageStats()).cache_entry_count).toBe(0);
  });

  it("never turns a backup lying at a plain key's name into live data of its key", async () => {
    const storage = await openStore();
    const system = path.join(storage.baseDir, 'system');
    await storage.storeSystemState('runtime', { version: 'old' });
    // A backup in the reference's naming, then the key is deleted (backups stay).
    const backupName = 'runtime.20250306_101500.backup';
    await fse.copy(path.join(system, 'runtime.json'), path.join(system, `${backupName}.json`));
    await storage.deleteSystemState('runtime');
    // A key named like the backup owns that file name: storing it must not resurrect "runtime".
    await storage.storeSystemState(backupName, { mine: true });
    expect(await storage.loadSystemState('runtime')).toBeNull();
    expect(await storage.listSystemStateKeys()).toEqual([backupName]);
    expect(await storage.loadSystemState(backupName)).toEqual({ mine: true });
  });

  it('finds a key while a concurrent write moves it from its hashed name back to the reference name', async () => {
    const storage = await openStore();
    const key = 'quote/req?x=1';
    await storage.storeCacheEntry(key, { v: 1 });
    await storage.storeCacheEntry('quote_req_x_1', { plain: true }); // moves `key` to its hashed name
    await storage.deleteCacheEntry('quote_req_x_1'); // the reference name is free again
    const cache = path.join(storage.baseDir, 'cache');
    const [hashedName] = (await fse.readdir(cache)).filter((name) => name.startsWith('quote_req_x_1~'));
    const hashed = path.join(cache, hashedName as string);
    const realOpen = fs.open;
    let writer: Promise<boolean> | undefined;
    // The reader finds the reference name empty and the hashed name present; before it opens the
    // hashed file to read it, the writer stores the key under the reference name and removes the hashed copy.
    jest.spyOn(fs, 'open').mockImplementation(((file: string, flags: unknown, ...rest: unknown[]) => {
      if (file === hashed && flags === READ_FLAGS && writer === undefined) {
        writer = storage.storeCacheEntry(key, { v: 2 });
        void writer.then(() => (realOpen as (...args: unknown[]) => void)(file, flags, ...rest));
        return;
      }
      (realOpen as (...args: unknown[]) => void)(file, flags, ...rest);
    }) as typeof fs.open);
    expect(await storage.loadCacheEntry(key)).toEqual({ v: 2 });
    await expect(writer).resolves.toBe(true);
  });
});
