/** Conformance: `storeCacheRecord`, a cache entry stored with its own `storedAt` and `expiresAt`. */
import { type CacheRecord, formatEpochMs, InvalidIdError, ValidationError } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const DAY_MS = 24 * 3600 * 1000;

export function cacheRecordTests(ctx: SuiteContext): void {
  describe('cache records with their own timestamps', () => {
    it('stores an old storedAt and a future expiresAt exactly as given', async () => {
      const s = ctx.storage();
      const record: CacheRecord = {
        data: { text: 'kept ü', n: [1, 2] },
        storedAt: '2020-01-02T03:04:05.678901+00:00',
        expiresAt: formatEpochMs(Date.now() + 30 * DAY_MS),
      };
      await expect(s.storeCacheRecord('old', record)).resolves.toBe(true);
      expect(await s.loadCacheRecord('old')).toEqual(record);
      expect(await s.loadCacheEntry('old')).toEqual(record.data);
      const forever = { data: { v: 1 }, storedAt: '2019-12-31T23:59:59.000000+00:00', expiresAt: null };
      await s.storeCacheRecord('forever', forever);
      expect(await s.loadCacheRecord('forever')).toEqual(forever);
      expect(await s.listCacheKeys()).toEqual(['forever', 'old']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(2);
    });

    it('writes timestamps given in other forms as the reference does: the same instant, UTC, +00:00, six digits', async () => {
      // The reference reads `expires_at` with `datetime.fromisoformat`: before Python 3.11 it
      // refuses `Z`, `+0000` and 1, 2, 4, 5 or 7+ fraction digits, and a time without offset
      // cannot be compared with its aware "now" (its file backend raises TypeError on that load).
      // Until 2026-12-04 these were stored as given.
      const s = ctx.storage();
      const given: Array<[string, string, string]> = [
        ['zulu', '2021-06-01T10:00:00Z', '2021-06-01T10:00:00.000000+00:00'],
        ['naive', '2021-06-01 10:00:00.5', '2021-06-01T10:00:00.500000+00:00'],
        ['offset', '2021-06-01T05:30:00.1234-05:30', '2021-06-01T11:00:00.123400+00:00'],
        ['compact', '2021-06-01t23:59:59.9999999+0100', '2021-06-01T23:00:00.000000+00:00'],
        ['plain', '2021-06-01T10:00:00+00:00', '2021-06-01T10:00:00.000000+00:00'],
      ];
      const expiry = (text: string) => text.replace('2021-06-01', '2999-06-01');
      for (const [key, text] of given) {
        await s.storeCacheRecord(key, { data: { key }, storedAt: text, expiresAt: expiry(text) });
      }
      await s.storeCacheRecords(
        given.map(([key, text]) => ({
          key: `${key}-batch`,
          data: { key },
          storedAt: text,
          expiresAt: expiry(text),
        })),
      );
      for (const [key, , canonical] of given) {
        const want = { data: { key }, storedAt: canonical, expiresAt: expiry(canonical) };
        expect([key, await s.loadCacheRecord(key)]).toEqual([key, want]);
        expect([key, await s.loadCacheRecord(`${key}-batch`)]).toEqual([key, want]);
      }
      expect((await s.getStorageStats()).cache_entry_count).toBe(2 * given.length);
    });

    it('never loads, lists or counts a record that has already expired', async () => {
      const s = ctx.storage();
      const expired = {
        data: { v: 1 },
        storedAt: '2020-01-01T00:00:00+00:00',
        expiresAt: '2020-01-02T00:00:00+00:00',
      };
      await expect(s.storeCacheRecord('expired', expired)).resolves.toBe(true);
      await s.storeCacheRecord('live', { ...expired, expiresAt: formatEpochMs(Date.now() + DAY_MS) });
      expect(await s.loadCacheRecord('expired')).toBeNull();
      expect(await s.loadCacheEntry('expired')).toBeNull();
      expect(await s.listCacheKeys()).toEqual(['live']);
      expect((await s.getStorageStats()).cache_entry_count).toBe(1);
    });

    it('treats an expiry inside its last millisecond alike in loads, lists, counts and purges', async () => {
      // The reference writes microseconds (`...:00.000500+00:00`): at the whole millisecond
      // before it the entry is still live, one millisecond later it has expired, whichever call asks.
      const s = ctx.storage();
      const at = Math.trunc(Date.now()) + DAY_MS;
      const expiresAt = formatEpochMs(at).replace('000+00:00', '500+00:00');
      const record = { data: { v: 1 }, storedAt: '2020-01-01T00:00:00.000000+00:00', expiresAt };
      await s.storeCacheRecord('edge', record);
      await s.storeCacheRecords([{ key: 'edge-batch', ...record }]);
      const clock = jest.spyOn(Date, 'now').mockReturnValue(at);
      try {
        expect(await s.loadCacheEntries(['edge', 'edge-batch'])).toEqual([record.data, record.data]);
        expect(await s.listCacheKeys()).toEqual(['edge', 'edge-batch']);
        expect((await s.getStorageStats()).cache_entry_count).toBe(2);
        await s.purgeExpiredCache();
        expect(await s.loadCacheRecords(['edge', 'edge-batch'])).toEqual([record, record]);
        clock.mockReturnValue(at + 1);
        expect(await s.loadCacheEntries(['edge', 'edge-batch'])).toEqual([null, null]);
        expect(await s.listCacheKeys()).toEqual([]);
        expect((await s.getStorageStats()).cache_entry_count).toBe(0);
      } finally {
        clock.mockRestore();
      }
    });

    it('stores an expiry at the last millisecond of year 9999, and refuses one past it before any I/O', async () => {
      // Until 2026-12-03 a timestamp whose fields are in range but whose instant is in year
      // 10000 (an offset behind UTC, or a fraction that rounds up) was accepted: three backends
      // stored it and PostgreSQL failed the write ("time zone displacement out of range").
      const s = ctx.storage();
      const storedAt = '2020-01-01T00:00:00.000000+00:00';
      const last = { data: { v: 1 }, storedAt, expiresAt: '9999-12-31T23:59:59.999000+00:00' };
      await s.storeCacheRecord('last', last);
      await s.storeCacheRecords([{ key: 'last-batch', ...last }]);
      expect(await s.loadCacheRecords(['last', 'last-batch'])).toEqual([last, last]);
      for (const expiresAt of [
        '9999-12-31T23:00:00-23:59',
        '9999-12-31T23:59:59.999001+00:00',
        '9999-12-31T23:59:59.9999999Z',
      ]) {
        const record = { data: { v: 2 }, storedAt, expiresAt };
        await expect(s.storeCacheRecord('past', record)).rejects.toMatchObject({
          field: 'expiresAt',
          code: 'VALIDATION_ERROR',
        });
        await expect(s.storeCacheRecords([{ key: 'past', ...record }])).rejects.toMatchObject({
          field: 'expiresAt',
          code: 'VALIDATION_ERROR',
        });
      }
      const late = { data: { v: 3 }, storedAt: '9999-12-31T20:00:00-05:00', expiresAt: null };
      await expect(s.storeCacheRecord('past', late)).rejects.toMatchObject({ field: 'storedAt' });
      expect(await s.listCacheKeys()).toEqual(['last', 'last-batch']);
    });

    it('refuses invalid records with a typed error naming the key, writing nothing', async () => {
      const s = ctx.storage();
      const good = { data: { v: 1 }, storedAt: '2020-01-01T00:00:00.000000+00:00', expiresAt: null };
      await s.storeCacheRecord('k', good);
      const bad: [string, unknown, string][] = [
        ['storedAt', { ...good, storedAt: 'yesterday' }, 'storedAt'],
        ['storedAt', { ...good, storedAt: '2020-13-01T00:00:00+00:00' }, 'storedAt'],
        ['storedAt', { ...good, storedAt: '2020-02-30T00:00:00+00:00' }, 'storedAt'],
        ['storedAt', { ...good, storedAt: 1577836800000 }, 'storedAt'],
        ['storedAt', { data: { v: 1 }, expiresAt: null }, 'storedAt'],
        ['expiresAt', { ...good, expiresAt: '2019-12-31T23:59:59+00:00' }, 'after storedAt'],
        ['expiresAt', { ...good, expiresAt: good.storedAt }, 'after storedAt'],
        // After only below the microsecond: both are stored as ...00.000001 (a longer fraction
        // is rounded up). Until 2026-12-06 it was stored so, and its loaded copy refused.
        [
          'expiresAt',
          { ...good, storedAt: '2020-01-01T00:00:00.0000001Z', expiresAt: '2020-01-01T00:00:00.000001Z' },
          'after storedAt',
        ],
        ['expiresAt', { ...good, expiresAt: '2020-01-01T01:00:00' + '+24:00' }, 'expiresAt'],
        ['expiresAt', { data: { v: 1 }, storedAt: good.storedAt }, 'expiresAt'],
        ['cache entry "k"', { ...good, data: [1, 2] }, 'plain JSON object'],
        ['cache entry "k"', { ...good, data: null }, 'plain JSON object'],
        ['record', null, '{ data, storedAt, expiresAt }'],
      ];
      for (const [field, record, message] of bad) {
        const refusal = s.storeCacheRecord('k', record as CacheRecord);
        await expect(refusal).rejects.toBeInstanceOf(ValidationError);
        await expect(refusal).rejects.toMatchObject({ field, code: 'VALIDATION_ERROR' });
        await expect(refusal).rejects.toThrow(message);
        await expect(refusal).rejects.toThrow('"k"');
      }
      await expect(s.storeCacheRecord('', good)).rejects.toBeInstanceOf(InvalidIdError);
      await expect(s.storeCacheRecord('nul\u0000key', good)).rejects.toBeInstanceOf(InvalidIdError);
      expect(await s.loadCacheRecord('k')).toEqual(good);
      expect(await s.listCacheKeys()).toEqual(['k']);
    });
  });
}
