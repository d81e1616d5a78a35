/**
 * The file backend's purge reads the cache folder, then removes one file at a time; an abort
 * stops it between two file reads or two removals.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OperationAbortedError } from '../../src/core/index.js';
import { shiftClock } from '../support/clock.js';
import { filesIn, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

/** A real AbortSignal that reports itself aborted from its `after + 1`-th check on. */
function signalAbortingAfter(after: number): AbortSignal {
  const signal = new AbortController().signal;
  let checks = 0;
  Object.defineProperty(signal, 'aborted', { get: () => (checks += 1) > after });
  Object.defineProperty(signal, 'reason', { value: new Error('enough') });
  return signal;
}

it('stops between two file removals once the signal fires; a later purge removes the rest', async () => {
  const s = await openStore();
  const clock = shiftClock();
  try {
    for (let i = 0; i < 5; i += 1) await s.storeCacheEntry(`short-${i}`, { i }, 60);
    await s.storeCacheEntry('kept', { v: 1 });
    clock.advance(61_000);
    // Checks: 1 before any I/O, one before each of the 6 file reads of the listing, then one
    // before each removal (in directory order, 'kept' among them): one or two expired files
    // go, then it stops.
    const error = await s.purgeExpiredCache({ signal: signalAbortingAfter(9) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationAbortedError);
    expect(error).toMatchObject({ method: 'purgeExpiredCache', cause: new Error('enough') });
    const rest = await s.purgeExpiredCache();
    expect(rest).toBeGreaterThanOrEqual(3);
    expect(rest).toBeLessThanOrEqual(4);
    expect(await s.listCacheKeys()).toEqual(['kept']);
  } finally {
    clock.restore();
  }
});

it('stops reading the cache folder at the next file once the signal fires, deleting nothing', async () => {
  const s = await openStore({ createBackups: false });
  const cacheDir = path.join(s.baseDir, 'cache');
  const stale = { storedAt: '2020-01-01T00:00:00Z', expiresAt: '2020-01-02T00:00:00Z' };
  await s.storeCacheRecords(Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, data: { i }, ...stale })));
  const before = await filesIn(cacheDir);
  const controller = new AbortController();
  // The abort fires as the purge opens its first cache file (its listing reads them at once).
  const originalOpenSync = fs.openSync;
  let opened = 0;
  jest.spyOn(fs, 'openSync').mockImplementation(((file: fs.PathLike, ...rest: unknown[]) => {
    if (path.dirname(String(file)) === cacheDir) {
      opened += 1;
      if (opened === 1) controller.abort(new Error('enough'));
    }
    return (originalOpenSync as (...args: unknown[]) => number)(file, ...rest);
  }) as typeof fs.openSync);
  const error = await s.purgeExpiredCache({ signal: controller.signal }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OperationAbortedError);
  expect(error).toMatchObject({ method: 'purgeExpiredCache', cause: new Error('enough') });
  // Until 2026-12-06 it read all 300 files before it looked at the signal.
  expect(opened).toBe(1);
  jest.restoreAllMocks();
  expect(await filesIn(cacheDir)).toEqual(before);
  expect(await s.purgeExpiredCache()).toBe(300);
});
