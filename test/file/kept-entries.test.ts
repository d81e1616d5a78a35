/**
 * Listings of `cache/` and `system/` (stats, `listCacheKeys`, `purgeExpiredCache`,
 * `listSystemStateKeys`) keep each settled file's parsed entry while its identity (device,
 * inode, size, mtime) is unchanged: an unchanged file is not read again, and any change another
 * writer makes is seen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** A whole second `offsetSeconds` from now: it survives `utimes` exactly, so an identity can be restored. */
const wholeSecond = (offsetSeconds: number): Date =>
  new Date((Math.floor(Date.now() / 1000) + offsetSeconds) * 1000);

/** Overwrites `file` in place with `text` and sets its mtime to `mtime`. */
function replaceInPlace(file: string, text: string, mtime: Date): void {
  fs.writeFileSync(file, text);
  fs.utimesSync(file, mtime, mtime);
}

describe('file listings: kept cache and state entries', () => {
  it('does not read a settled cache file again while its identity is unchanged', async () => {
    const s = await openStore({ searchIndex: false });
    await s.storeCacheEntry('k1', { v: 1 }, 3600);
    const file = path.join(s.baseDir, 'cache', 'k1.json');
    const past = wholeSecond(-10);
    fs.utimesSync(file, past, past);
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
    // Same inode, size and mtime, content no longer JSON: only a read would notice.
    replaceInPlace(file, 'x'.repeat(fs.statSync(file).size), past);
    const stats = await s.getStorageStats();
    expect([stats.cache_entry_count, stats.corrupt_files]).toEqual([1, []]);
    // A store that never listed it reads it and reports it.
    const fresh = await openStore({ baseDir: s.baseDir, searchIndex: false });
    expect((await fresh.getStorageStats()).corrupt_files).toEqual(['cache/k1.json']);
  });

  it('sees cache and state files another writer changed, added or removed', async () => {
    const s = await openStore({ searchIndex: false });
    await s.storeCacheEntry('k1', { v: 1 }, 3600);
    await s.storeCacheEntry('k2', { v: 2 }, 3600);
    await s.storeSystemState('s1', { on: true });
    const cacheFile = path.join(s.baseDir, 'cache', 'k1.json');
    for (const file of [cacheFile, path.join(s.baseDir, 'system', 's1.json')]) {
      fs.utimesSync(file, wholeSecond(-10), wholeSecond(-10));
    }
    expect(await s.listCacheKeys()).toEqual(['k1', 'k2']);
    expect(await s.listSystemStateKeys()).toEqual(['s1']);
    // The reference rewrites in place: k1 now expired.
    const envelope = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, unknown>;
    envelope.expires_at = '2020-01-01T00:00:00.000000+00:00';
    replaceInPlace(cacheFile, JSON.stringify(envelope), wholeSecond(-20));
    expect(await s.listCacheKeys()).toEqual(['k2']);
    expect((await s.getStorageStats()).cache_entry_count).toBe(1);
    expect(await s.purgeExpiredCache()).toBe(1);
    // Another store (process) removes and adds entries.
    const other = await openStore({ baseDir: s.baseDir, searchIndex: false });
    await other.deleteCacheEntry('k2');
    await other.storeCacheEntry('k3', { v: 3 }, 3600);
    await other.deleteSystemState('s1');
    await other.storeSystemState('s2', { on: false });
    expect(await s.listCacheKeys()).toEqual(['k3']);
    expect(await s.listSystemStateKeys()).toEqual(['s2']);
  });
});
