/** The file backend's purge removes one file at a time, and an abort stops it between two removals. */
import { OperationAbortedError } from '../../src/core/index.js';
import { shiftClock } from '../support/clock.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
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
    // Checks: 1 before any I/O, then one before each file (in directory order, 'kept' among
    // them): one or two expired files go, then it stops.
    const error = await s.purgeExpiredCache({ signal: signalAbortingAfter(3) }).catch((e: unknown) => e);
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
