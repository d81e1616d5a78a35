/**
 * Cache expiry on timestamps in any form the reference may have written: canonical
 * `+00:00` with microseconds compares exactly, other forms (no fraction, `Z`, other
 * offsets, naive) by their time, unparsable ones count as expired, as in the core.
 */
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { formatEpochMs, isCacheExpired } from '../../src/core/index.js';
import { useTempDir, withRawDb } from './helpers.js';

const HOUR = 3_600_000;

describe('SQLite: cache expiry', () => {
  const dir = useTempDir();

  it('treats every timestamp form alike in load, list, stats and purge', async () => {
    const dbPath = join(dir(), 'cache.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const now = Date.now();
    const iso = (ms: number): string => new Date(ms).toISOString(); // ...Z, 3 digits
    const expiries: Record<string, string | null> = {
      never: null,
      canonicalPast: formatEpochMs(now - HOUR),
      canonicalFuture: formatEpochMs(now + HOUR),
      zPast: iso(now - HOUR),
      zFuture: iso(now + HOUR),
      noFractionPast: `${iso(now - HOUR).slice(0, 19)}+00:00`,
      noFractionFuture: `${iso(now + HOUR).slice(0, 19)}+00:00`,
      naiveFuture: iso(now + HOUR).slice(0, 23),
      offsetFuture: `${iso(now + HOUR + 2 * HOUR).slice(0, 19)}+02:00`, // same instant as +1h UTC
      offsetPast: `${iso(now - HOUR - 5 * HOUR).slice(0, 19)}.5-05:00`.replace('-05:00', '+05:00'),
      spaceSeparatedFuture: iso(now + HOUR)
        .slice(0, 23)
        .replace('T', ' '),
      garbage: 'not a timestamp',
    };
    await withRawDb(dbPath, async (db) => {
      for (const [key, expiresAt] of Object.entries(expiries)) {
        await db.run(
          'INSERT INTO cache_entries (cache_key, cache_data, created_at, expires_at) VALUES (?, ?, ?, ?)',
          [key, JSON.stringify({ key }), formatEpochMs(now - 2 * HOUR), expiresAt],
        );
      }
    });

    const checkedAt = Date.now();
    const live = Object.keys(expiries)
      .filter((key) => !isCacheExpired(expiries[key] ?? null, checkedAt))
      .sort();
    expect(live).toEqual([
      'canonicalFuture',
      'naiveFuture',
      'never',
      'noFractionFuture',
      'offsetFuture',
      'spaceSeparatedFuture',
      'zFuture',
    ]);

    expect(await storage.listCacheKeys()).toEqual(live);
    for (const key of Object.keys(expiries)) {
      expect({ key, value: await storage.loadCacheEntry(key) }).toEqual({
        key,
        value: live.includes(key) ? { key } : null,
      });
    }
    expect((await storage.getStorageStats()).cache_entry_count).toBe(live.length);
    // Loads never write: expired rows are still there until purged.
    expect(await withRawDb(dbPath, (db) => db.all('SELECT COUNT(*) AS n FROM cache_entries'))).toEqual([
      { n: Object.keys(expiries).length },
    ]);
    expect(await storage.purgeExpiredCache()).toBe(Object.keys(expiries).length - live.length);
    expect(await storage.purgeExpiredCache()).toBe(0);
    const left = await withRawDb(dbPath, (db) =>
      db.all('SELECT cache_key FROM cache_entries ORDER BY cache_key'),
    );
    expect(left.map((r) => r.cache_key)).toEqual(live);
    await storage.shutdown();
  });

  it('compares canonical timestamps to the microsecond', async () => {
    const dbPath = join(dir(), 'cache.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    // Expires 999 µs into millisecond `at`: live while the clock reads `at` (compared to the
    // microsecond, as in the core), expired one millisecond later. The clock is set exactly.
    const at = Date.now() + 60_000;
    const expiresAt = formatEpochMs(at).replace(/000\+00:00$/, '999+00:00');
    await withRawDb(dbPath, (db) =>
      db.run("INSERT INTO cache_entries VALUES ('k', '{}', '2020-01-01T00:00:00.000000+00:00', ?)", [
        expiresAt,
      ]),
    );
    const clock = jest.spyOn(Date, 'now').mockReturnValue(at);
    try {
      expect(await storage.listCacheKeys()).toEqual(['k']);
      expect(await storage.purgeExpiredCache()).toBe(0);
      expect(await storage.loadCacheEntry('k')).toEqual({});
      clock.mockReturnValue(at + 1);
      expect(await storage.listCacheKeys()).toEqual([]);
      expect(await storage.loadCacheEntry('k')).toBeNull();
      expect(await storage.purgeExpiredCache()).toBe(1);
    } finally {
      clock.mockRestore();
      await storage.shutdown();
    }
  });

  it('agrees with loadCacheEntry on canonical-looking expiries with impossible fields', async () => {
    // Another program may write `2026-02-30T...` or an hour of 47 in the canonical shape. SQL
    // compared such a text with now as a string (the canonical GLOB matches it), while loads
    // parsed it with the fields rolled over (hour 47 of June 29 = June 30, 23:00): an entry
    // that loaded as live was left out of listings and stats and deleted by a purge, and one
    // that loaded as expired (day 00) was listed and counted and never purged.
    const dbPath = join(dir(), 'cache.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const now = Date.UTC(2026, 5, 30, 12); // 2026-06-30T12:00:00Z
    const expiries: Record<string, string> = {
      validPast: formatEpochMs(now - HOUR),
      validFuture: formatEpochMs(now + HOUR),
      hourRollsForward: '2026-06-29T47:00:00.000000+00:00',
      minuteRollsForward: '2026-06-30T11:99:00.000000+00:00',
      dayZero: '2026-07-00T11:00:00.000000+00:00',
      february30: '2026-02-30T00:00:00.000000+00:00',
      month13: '2026-13-01T00:00:00.000000+00:00',
    };
    await withRawDb(dbPath, async (db) => {
      for (const [key, expiresAt] of Object.entries(expiries)) {
        await db.run('INSERT INTO cache_entries VALUES (?, ?, ?, ?)', [
          key,
          '{}',
          formatEpochMs(now),
          expiresAt,
        ]);
      }
    });
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      const live: string[] = [];
      for (const key of Object.keys(expiries))
        if ((await storage.loadCacheEntry(key)) !== null) live.push(key);
      live.sort();
      // Such a text is decided by its text order (as SQL compares it, and as the reference's
      // SQLite backend does): after now's text is live.
      expect(live).toEqual(['dayZero', 'month13', 'validFuture']);
      expect(await storage.listCacheKeys()).toEqual(live);
      expect((await storage.getStorageStats()).cache_entry_count).toBe(live.length);
      expect((await storage.loadCacheEntries(Object.keys(expiries))).filter((e) => e !== null)).toHaveLength(
        live.length,
      );
      expect(await storage.purgeExpiredCache()).toBe(Object.keys(expiries).length - live.length);
      for (const key of live) expect(await storage.loadCacheEntry(key)).toEqual({});
      expect(await storage.listCacheKeys()).toEqual(live);
    } finally {
      clock.mockRestore();
      await storage.shutdown();
    }
  });

  it('agrees with loadCacheEntry on forms SQLite parses differently from the core', async () => {
    const dbPath = join(dir(), 'cache.db');
    const storage = new SQLiteStorage({ dbPath });
    await storage.initialize();
    const future = new Date(Date.now() + 24 * HOUR).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
    const past = new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 19);
    const expiries: Record<string, string> = {
      offsetNoColonFuture: `${future}+0000`, // the core reads it; SQLite does not
      offsetNoColonPast: `${past}-0000`,
      lowercaseFuture: `${future.replace('T', 't')}z`,
      noSecondsFuture: future.slice(0, 16), // SQLite reads it; the core does not (expired)
      dateOnlyFuture: future.slice(0, 10),
      trailingSpaceFuture: `${future}Z `,
      leapSecondFuture: `${future.slice(0, 17)}60Z`,
    };
    await withRawDb(dbPath, async (db) => {
      for (const [key, expiresAt] of Object.entries(expiries)) {
        await db.run('INSERT INTO cache_entries VALUES (?, ?, ?, ?)', [
          key,
          '{}',
          formatEpochMs(Date.now()),
          expiresAt,
        ]);
      }
    });
    const live: string[] = [];
    for (const key of Object.keys(expiries)) if ((await storage.loadCacheEntry(key)) !== null) live.push(key);
    live.sort();
    expect(live).toEqual(['leapSecondFuture', 'lowercaseFuture', 'offsetNoColonFuture']);
    expect(await storage.listCacheKeys()).toEqual(live);
    expect((await storage.getStorageStats()).cache_entry_count).toBe(live.length);
    expect(await storage.purgeExpiredCache()).toBe(Object.keys(expiries).length - live.length);
    // Purge removed exactly what loads treat as expired: every live entry still loads.
    for (const key of live) expect(await storage.loadCacheEntry(key)).toEqual({});
    expect(await storage.listCacheKeys()).toEqual(live);
    await storage.shutdown();
  });
});
