/**
 * The documented limit of cache and state keys on PostgreSQL: a key whose primary-key index
 * entry exceeds the btree's 2,704 bytes (after compression) is refused with a StorageError
 * naming it, and nothing of the call is stored.
 */
import { randomBytes } from 'node:crypto';
import { StorageError } from '../../src/index.js';
import { describeWithService } from '../services.js';
import { usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres long cache and state keys', () => {
  const ctx = usePostgresStore();

  it('stores long keys that compress, refuses 6,000 varied characters naming the key', async () => {
    const s = await ctx.open();
    const compressible = 'k'.repeat(6000);
    await s.storeCacheEntry(compressible, { v: 1 });
    expect(await s.loadCacheEntry(compressible)).toEqual({ v: 1 });
    await s.storeSystemState(compressible, { v: 1 });
    expect(await s.loadSystemState(compressible)).toEqual({ v: 1 });

    const varied = randomBytes(3000).toString('hex');
    // A batch names itself by its first key (the server does not say which key it refused).
    const calls: Array<[() => Promise<unknown>, string]> = [
      [() => s.storeCacheEntry(varied, { v: 2 }), varied],
      [
        () =>
          s.storeCacheEntries([
            { key: 'short', data: { v: 2 } },
            { key: varied, data: {} },
          ]),
        'short',
      ],
      [() => s.storeSystemState(varied, { v: 2 }), varied],
    ];
    for (const [call, named] of calls) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toContain(JSON.stringify(named));
      expect((error as Error).message).toContain('54000');
    }
    expect(await s.loadCacheEntry('short')).toBeNull();
    expect(await s.listCacheKeys()).toEqual([compressible]);
  });
});
