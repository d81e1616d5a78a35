/** Migration keeps a cache entry's original `storedAt` and `expiresAt`, and verification compares `storedAt`. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { type CacheRecord, formatEpochMs, isValidTimestamp } from '../../src/core/index.js';
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';

let dir: string;
let source: FileStorage;
let target: SQLiteStorage;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cache-times-'));
  source = new FileStorage({ baseDir: join(dir, 'files') });
  target = new SQLiteStorage({ dbPath: join(dir, 'copy.db') });
  await Promise.all([source.initialize(), target.initialize()]);
});
afterEach(async () => {
  await Promise.all([source.shutdown(), target.shutdown()]);
  await rm(dir, { recursive: true, force: true });
});

const OLD: CacheRecord = {
  data: { answer: 42 },
  storedAt: '2020-05-06T07:08:09.123456+00:00',
  expiresAt: formatEpochMs(Date.now() + 7 * 24 * 3600 * 1000),
};
const FOREVER: CacheRecord = { data: { v: 'no expiry' }, storedAt: '2021-01-01T00:00:00Z', expiresAt: null };

describe('cache timestamps across a migration file -> sqlite', () => {
  it('keeps storedAt and expiresAt exactly', async () => {
    await source.storeCacheRecord('old', OLD);
    await source.storeCacheRecord('forever', FOREVER);
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true, warnings: [] });
    expect(summary.counts.cache_entries).toEqual({ copied: 2, skipped: 0 });
    expect(await target.loadCacheRecord('old')).toEqual(OLD);
    // Written in the reference's format (`Z` is what Python before 3.11 cannot parse).
    expect(await target.loadCacheRecord('forever')).toEqual({
      ...FOREVER,
      storedAt: '2021-01-01T00:00:00.000000+00:00',
    });
    // A second run finds both already there.
    const again = await migrateStorage(source, target, { merge: true });
    expect(again.counts.cache_entries).toEqual({ copied: 0, skipped: 2 });
  });

  it('writes times another program wrote in other forms in the reference format, the same instants', async () => {
    // As the Python reference reads `expires_at` (`datetime.fromisoformat`): before 3.11 it
    // refuses `Z` and a 7-digit fraction. The copy holds the same instants to the microsecond,
    // so verification and a second run see no difference.
    await mkdir(join(dir, 'files', 'cache'), { recursive: true });
    const envelope = {
      cache_key: 'odd',
      data: { v: 1 },
      stored_at: '2021-01-01T00:00:00.1234567Z',
      expires_at: '2999-01-01T01:00:00.5+01:00',
    };
    await writeFile(join(dir, 'files', 'cache', 'odd.json'), JSON.stringify(envelope));
    expect(await migrateStorage(source, target)).toMatchObject({ ok: true, warnings: [] });
    expect(await target.loadCacheRecord('odd')).toEqual({
      data: { v: 1 },
      storedAt: '2021-01-01T00:00:00.123457+00:00',
      expiresAt: '2999-01-01T00:00:00.500000+00:00',
    });
    expect(await verifyMigration(source, target)).toMatchObject({ ok: true, differenceCount: 0 });
    const again = await migrateStorage(source, target, { merge: true });
    expect(again.counts.cache_entries).toEqual({ copied: 0, skipped: 1 });
  });

  it('reports a cache entry whose storedAt differs in the target', async () => {
    await source.storeCacheRecord('old', OLD);
    await target.storeCacheRecord('old', { ...OLD, storedAt: '2020-05-06T07:08:10.123456+00:00' });
    const result = await verifyMigration(source, target);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual([
      {
        kind: 'cache_entries',
        id: 'old',
        message: `cache stored_at differs: source ${OLD.storedAt}, target 2020-05-06T07:08:10.123456+00:00`,
      },
    ]);
    // The same instant written another way is no difference.
    await target.storeCacheRecord('old', { ...OLD, storedAt: '2020-05-06T09:08:09.123456+02:00' });
    expect(await verifyMigration(source, target)).toMatchObject({ ok: true, differenceCount: 0 });
  });

  it('copies a record with timestamps no store accepts with its data, a new storedAt and a warning', async () => {
    // Written by another program: the file backend reads it, storeCacheRecord would refuse it.
    await mkdir(join(dir, 'files', 'cache'), { recursive: true });
    const envelope = { cache_key: 'odd', data: { v: 1 }, stored_at: 'yesterday', expires_at: null };
    await writeFile(join(dir, 'files', 'cache', 'odd.json'), JSON.stringify(envelope));
    const summary = await migrateStorage(source, target);
    expect(summary.ok).toBe(true);
    expect(summary.warnings).toEqual([
      expect.stringMatching(/^cache entry "odd": its storedAt must be .*yesterday/),
    ]);
    const copied = await target.loadCacheRecord('odd');
    expect(copied).toMatchObject({ data: { v: 1 }, expiresAt: null });
    expect(isValidTimestamp(copied?.storedAt)).toBe(true);
  });

  it('copies such a record whose expiry is over 1,000 years away with that expiry', async () => {
    // As a TTL it is more than storeCacheEntry takes: the migration failed on it, every run.
    await mkdir(join(dir, 'files', 'cache'), { recursive: true });
    const expiresAt = '3500-01-01T00:00:00.000000+00:00';
    const envelope = { cache_key: 'far', data: { v: 2 }, stored_at: 'yesterday', expires_at: expiresAt };
    await writeFile(join(dir, 'files', 'cache', 'far.json'), JSON.stringify(envelope));
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true, verification: { ok: true } });
    expect(summary.warnings).toEqual([
      expect.stringMatching(
        /^cache entry "far": its storedAt must be .*; copied with its expiry and a new storedAt$/,
      ),
    ]);
    const copied = await target.loadCacheRecord('far');
    expect(copied).toMatchObject({ data: { v: 2 }, expiresAt });
    expect(isValidTimestamp(copied?.storedAt)).toBe(true);
  });

  it('copies a canonical-looking expiry with a field out of range as the instant its text means', async () => {
    // Day 00 of July: loads compare its text (live until July 1), but the copy took its
    // rolled-over instant, June 30 11:00, already past: the entry was skipped as expired and
    // verification found it missing, on every run. Hour 47 of June 30 (text: expired at
    // July 1 00:00) was copied to expire at July 1 23:00.
    await mkdir(join(dir, 'files', 'cache'), { recursive: true });
    const write = (key: string, expiresAt: string) =>
      writeFile(
        join(dir, 'files', 'cache', `${key}.json`),
        JSON.stringify({
          cache_key: key,
          data: { key },
          stored_at: '2026-06-01T00:00:00.000000+00:00',
          expires_at: expiresAt,
        }),
      );
    await write('dayZero', '2026-07-00T11:00:00.000000+00:00');
    await write('hour47', '2026-06-30T47:00:00.000000+00:00');
    const now = Date.UTC(2026, 5, 30, 12);
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      expect((await source.listCacheKeys()).sort()).toEqual(['dayZero', 'hour47']);
      const summary = await migrateStorage(source, target);
      expect(summary).toMatchObject({ ok: true, verification: { ok: true } });
      expect(summary.counts.cache_entries).toEqual({ copied: 2, skipped: 0 });
      expect((await target.loadCacheRecord('dayZero'))?.expiresAt).toBe('2026-07-01T00:00:00.000000+00:00');
      expect((await target.loadCacheRecord('hour47'))?.expiresAt).toBe('2026-07-01T00:00:00.000000+00:00');
      // Both stores expire them at the same instant.
      clock.mockReturnValue(Date.UTC(2026, 6, 1) - 1);
      expect((await source.listCacheKeys()).sort()).toEqual(['dayZero', 'hour47']);
      expect((await target.listCacheKeys()).sort()).toEqual(['dayZero', 'hour47']);
      clock.mockReturnValue(Date.UTC(2026, 6, 1));
      expect(await source.listCacheKeys()).toEqual([]);
      expect(await target.listCacheKeys()).toEqual([]);
    } finally {
      clock.mockRestore();
    }
  });

  it('copies an expiry in year 10000 (an earlier version took one) as the last millisecond of 9999', async () => {
    // `9999-12-31T23:00:00-23:59` has every field in range, but its instant is in year 10000,
    // which PostgreSQL refuses; since 2026-12-03 storeCacheRecord refuses it everywhere.
    await mkdir(join(dir, 'files', 'cache'), { recursive: true });
    const envelope = {
      cache_key: 'y10k',
      data: { v: 3 },
      stored_at: '2020-01-01T00:00:00+00:00',
      expires_at: '9999-12-31T23:00:00-23:59',
    };
    await writeFile(join(dir, 'files', 'cache', 'y10k.json'), JSON.stringify(envelope));
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true, verification: { ok: true } });
    expect(summary.warnings).toEqual([expect.stringMatching(/^cache entry "y10k": its expiresAt must be /)]);
    expect(await target.loadCacheRecord('y10k')).toMatchObject({
      data: { v: 3 },
      expiresAt: '9999-12-31T23:59:59.999000+00:00',
    });
  });
});
