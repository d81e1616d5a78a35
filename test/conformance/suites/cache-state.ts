/** Conformance: the TTL cache and system state (expiry, purge, distinct keys, listing). */
import {
  compareCodePoints,
  formatEpochMs,
  parseTimestamp,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

/** Keys that a naive file-name mapping would merge (D3), plus awkward ones. */
const LOOKALIKE_KEYS = [
  'chunk:aa/bb',
  'chunk:aa_bb',
  'chunk_aa_bb',
  'chunk_aa?bb',
  'Chunk_AA_BB',
  'quote/req?x=1',
  'with space',
  '會話-ü',
  '..',
  '.',
  'k'.repeat(1000),
  'ü'.repeat(150),
  '😀 above U+FFFF',
  '\ue000 private use',
];

export function cacheAndStateTests(ctx: SuiteContext): void {
  describe('cache', () => {
    it('round-trips an entry without expiry and reports its record', async () => {
      const s = ctx.storage();
      const before = Date.now();
      await expect(s.storeCacheEntry('k1', { generation: 'text ü', tokens: 7 })).resolves.toBe(true);
      expect(await s.loadCacheEntry('k1')).toEqual({ generation: 'text ü', tokens: 7 });
      const record = await s.loadCacheRecord('k1');
      expect(record?.data).toEqual({ generation: 'text ü', tokens: 7 });
      expect(record?.expiresAt).toBeNull();
      expect(parseTimestamp(record?.storedAt ?? '')).toBeGreaterThanOrEqual(before - 1);
      expect(parseTimestamp(record?.storedAt ?? '')).toBeLessThanOrEqual(Date.now() + 1);
      expect(await s.loadCacheEntry('missing')).toBeNull();
      expect(await s.loadCacheRecord('missing')).toBeNull();
    });

    it('records when an entry with a TTL expires', async () => {
      const s = ctx.storage();
      const before = Date.now();
      await s.storeCacheEntry('k1', { v: 1 }, 3600);
      const record = await s.loadCacheRecord('k1');
      const expiresAt = parseTimestamp(record?.expiresAt ?? '') ?? NaN;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000 - 1);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000 + 1);
    });

    it('never loads, lists or counts an expired entry, and purges it in bulk', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('live', { v: 'live' }, 3600);
      await s.storeCacheEntry('forever', { v: 'forever' });
      await s.storeCacheEntry('short-1', { v: 1 }, 60);
      await s.storeCacheEntry('short-2', { v: 2 }, 60);
      expect(await s.listCacheKeys()).toEqual(['forever', 'live', 'short-1', 'short-2']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(4);
      await ctx.passTime(61_000, ['live', 'forever', 'short-1', 'short-2']);
      expect(await s.loadCacheEntry('short-1')).toBeNull();
      expect(await s.loadCacheRecord('short-2')).toBeNull();
      expect(await s.listCacheKeys()).toEqual(['forever', 'live']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(2);
      // Loads never write: the expired entries read above are still there to purge (on Redis,
      // their index entries, which the server cannot expire).
      expect(await s.purgeExpiredCache()).toBe(2);
      expect(await s.listCacheKeys()).toEqual(['forever', 'live']);
      expect(await s.loadCacheEntry('live')).toEqual({ v: 'live' });
      expect(await s.purgeExpiredCache()).toBe(0);
    });

    (ctx.harness.sharedStore ? it : it.skip)(
      'counts each expired entry once when two instances purge at once',
      async () => {
        const s = ctx.storage();
        const other = await ctx.openAnother();
        const short = Array.from({ length: 6 }, (_, i) => `short-${i}`);
        for (const [i, key] of short.entries()) await s.storeCacheEntry(key, { i }, 60);
        await s.storeCacheEntry('live', { v: 1 });
        await ctx.passTime(61_000, short);
        const [a, b] = await Promise.all([s.purgeExpiredCache(), other.purgeExpiredCache()]);
        expect(a + b).toBe(6);
        expect(await other.listCacheKeys()).toEqual(['live']);
        expect(await s.purgeExpiredCache()).toBe(0);
      },
    );

    it('gives an expired key a fresh life when stored again', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('k', { v: 1 }, 60);
      await ctx.passTime(61_000, ['k']);
      expect(await s.loadCacheEntry('k')).toBeNull();
      expect(await s.listCacheKeys()).toEqual([]);
      await s.storeCacheEntry('k', { v: 2 });
      expect(await s.loadCacheEntry('k')).toEqual({ v: 2 });
      expect((await s.loadCacheRecord('k'))?.expiresAt).toBeNull();
      expect(await s.listCacheKeys()).toEqual(['k']);
      // The new entry has no expiry: the old one's must not apply to it later on.
      await ctx.passTime(3_600_000, ['k']);
      expect(await s.loadCacheEntry('k')).toEqual({ v: 2 });
      expect(await s.purgeExpiredCache()).toBe(0);
      expect(await s.listCacheKeys()).toEqual(['k']);
    });

    it('gives a TTL its length to the microsecond, rounded up to a millisecond and at least 1 ms', async () => {
      // Until 2026-12-03 the expiry was cut down to the millisecond: a TTL of 0.0004 s stored an
      // entry already expired (a load right after missed) and 1.0004 s lived 1,000 ms.
      const s = ctx.storage();
      const lives: Array<[ttlSeconds: number, ms: number]> = [
        [0.0004, 1],
        [1e-9, 1],
        [0.0015, 2],
        [1.0004, 1001],
        [1.005, 1005],
        [1.1, 1100], // 1.1 × 1000 is 1100.0000000000002: not 1,101
        [1.0000004, 1000], // under a microsecond, as Python's timedelta drops it
      ];
      const single = lives.map((_, i) => `one-${i}`);
      const batched = lives.map((_, i) => `batch-${i}`);
      const at = Math.trunc(Date.now()) + 24 * 3600_000;
      // The server's own expiry (Redis PX) runs in real time, from the first write on: an entry
      // whose life is over in real time may be gone already (on a loaded machine, the 1 s ones
      // too: the loads come some twenty round trips after the first write).
      const realStart = performance.now();
      const overInRealTime = (ms: number) => ctx.serverOwnsExpiry() && performance.now() - realStart >= ms;
      const clock = jest.spyOn(Date, 'now').mockReturnValue(at);
      try {
        for (const [i, [ttl]] of lives.entries()) await s.storeCacheEntry(single[i] ?? '', { i }, ttl);
        await s.storeCacheEntries(
          lives.map(([ttl], i) => ({ key: batched[i] ?? '', data: { i }, ttlSeconds: ttl })),
        );
        const records = await s.loadCacheRecords([...single, ...batched]);
        for (const [n, record] of records.entries()) {
          const i = n % lives.length;
          const ms = lives[i]?.[1] ?? NaN;
          if (record === null && overInRealTime(ms)) continue;
          expect([n, record]).toEqual([
            n,
            { data: { i }, storedAt: formatEpochMs(at), expiresAt: formatEpochMs(at + ms) },
          ]);
        }
        for (const [i, [, ms]] of lives.entries()) {
          const keys = [single[i] ?? '', batched[i] ?? ''];
          if (ms >= 1000) {
            clock.mockReturnValue(at + ms - 1);
            const live = await s.loadCacheEntries(keys);
            if (!overInRealTime(ms)) expect(live).toEqual([{ i }, { i }]);
          }
          clock.mockReturnValue(at + ms);
          expect(await s.loadCacheEntries(keys)).toEqual([null, null]);
        }
      } finally {
        clock.mockRestore();
      }
    });

    it('refuses a TTL that is not a positive finite number (D5), writing nothing', async () => {
      const s = ctx.storage();
      for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, '60', true, 1e12]) {
        await expect(s.storeCacheEntry('k', { v: 1 }, bad as number)).rejects.toBeInstanceOf(ValidationError);
      }
      // The error names the key, single and batched (until 2026-12-04 it named neither).
      await expect(s.storeCacheEntry('k', { v: 1 }, 0)).rejects.toThrow('cache entry "k"');
      const batch = s.storeCacheEntries([{ key: 'b', data: { v: 1 }, ttlSeconds: -1 }]);
      await expect(batch).rejects.toThrow(
        /storeCacheEntries\(\) item 0: Invalid ttlSeconds: cache entry "b"/,
      );
      expect(await s.loadCacheEntry('k')).toBeNull();
      expect(await s.listCacheKeys()).toEqual([]);
      await expect(s.storeCacheEntry('k', { v: 1 }, null)).resolves.toBe(true);
    });

    it('refuses an unknown field in a cache item or record (a misspelt TTL), writing nothing', async () => {
      // Until 2026-12-04 `{ key, data, ttl: 60 }` stored an entry that never expires.
      const s = ctx.storage();
      const record = { data: { v: 1 }, storedAt: '2020-01-01T00:00:00Z', expiresAt: null };
      const refusals: Array<[() => Promise<unknown>, string, RegExp]> = [
        [
          () =>
            s.storeCacheEntries([
              { key: 'ok', data: { v: 1 }, ttlSeconds: 60 },
              { key: 'k', data: { v: 1 }, ttl: 60 } as never,
            ]),
          'item',
          /storeCacheEntries\(\) item 1: Invalid item: cache entry "k": unknown field "ttl" \(known: key, data, ttlSeconds\)/,
        ],
        [
          () => s.storeCacheRecords([{ key: 'k', ...record, ttlSeconds: 60 } as never]),
          'item',
          /storeCacheRecords\(\) item 0: Invalid item: cache entry "k": unknown field "ttlSeconds"/,
        ],
        [
          () => s.storeCacheRecord('k', { ...record, expires_at: '2999-01-01T00:00:00Z' } as never),
          'record',
          /Invalid record: cache entry "k": unknown field "expires_at" \(known: data, storedAt, expiresAt\)/,
        ],
      ];
      for (const [call, field, message] of refusals) {
        const refusal = call();
        await expect(refusal).rejects.toBeInstanceOf(ValidationError);
        await expect(refusal).rejects.toMatchObject({ field, code: 'VALIDATION_ERROR' });
        await expect(refusal).rejects.toThrow(message);
      }
      expect(await s.loadCacheEntries(['ok', 'k'])).toEqual([null, null]);
      expect(await s.listCacheKeys()).toEqual([]);
    });

    it('keeps keys that look alike apart (D3) and lists them sorted', async () => {
      const s = ctx.storage();
      for (const key of LOOKALIKE_KEYS) await s.storeCacheEntry(key, { key });
      for (const key of LOOKALIKE_KEYS) expect(await s.loadCacheEntry(key)).toEqual({ key });
      expect(await s.listCacheKeys()).toEqual([...LOOKALIKE_KEYS].sort(compareCodePoints));
      for (const key of [...LOOKALIKE_KEYS].reverse()) await s.storeCacheEntry(key, { again: key });
      for (const key of LOOKALIKE_KEYS) expect(await s.loadCacheEntry(key)).toEqual({ again: key });
      expect((await s.getStorageStats()).cache_entry_count).toBe(LOOKALIKE_KEYS.length);
    });

    it('deletes one entry and leaves its look-alikes', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('chunk:aa/bb', { a: 1 });
      await s.storeCacheEntry('chunk_aa_bb', { b: 1 });
      await expect(s.deleteCacheEntry('chunk:aa/bb')).resolves.toBe(true);
      expect(await s.loadCacheEntry('chunk:aa/bb')).toBeNull();
      expect(await s.loadCacheEntry('chunk_aa_bb')).toEqual({ b: 1 });
      expect(await s.listCacheKeys()).toEqual(['chunk_aa_bb']);
      await expect(s.deleteCacheEntry('never')).resolves.toBe(true);
    });
  });

  describe('system state', () => {
    it('round-trips, replaces, lists sorted and deletes', async () => {
      const s = ctx.storage();
      expect(await s.loadSystemState('missing')).toBeNull();
      await expect(s.storeSystemState('runtime_config', { value: 1, flags: { on: true } })).resolves.toBe(
        true,
      );
      await s.storeSystemState('a:b/c', { v: 'ü\u0000' });
      await s.storeSystemState('runtime_config', { value: 2 });
      expect(await s.loadSystemState('runtime_config')).toEqual({ value: 2 });
      expect(await s.loadSystemState('a:b/c')).toEqual({ v: 'ü\u0000' });
      expect(await s.listSystemStateKeys()).toEqual(['a:b/c', 'runtime_config']);
      await expect(s.deleteSystemState('runtime_config')).resolves.toBe(true);
      expect(await s.loadSystemState('runtime_config')).toBeNull();
      expect(await s.listSystemStateKeys()).toEqual(['a:b/c']);
      await expect(s.deleteSystemState('never')).resolves.toBe(true);
    });

    it('keeps keys that look alike apart (D3)', async () => {
      const s = ctx.storage();
      for (const key of LOOKALIKE_KEYS) await s.storeSystemState(key, { key });
      for (const key of LOOKALIKE_KEYS) expect(await s.loadSystemState(key)).toEqual({ key });
      expect(await s.listSystemStateKeys()).toEqual([...LOOKALIKE_KEYS].sort(compareCodePoints));
    });

    it('keeps cache and system state in separate namespaces', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('shared-name', { kind: 'cache' });
      await s.storeSystemState('shared-name', { kind: 'state' });
      expect(await s.loadCacheEntry('shared-name')).toEqual({ kind: 'cache' });
      expect(await s.loadSystemState('shared-name')).toEqual({ kind: 'state' });
    });
  });
}
