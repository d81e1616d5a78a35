/**
 * Child process of `zone-locale.test.ts`, run with `TZ` and `LANG`/`LC_ALL` set (both are
 * fixed when a process starts): drives the timestamp, expiry, ordering, search and migration
 * paths of the file and SQLite backends with fixed inputs and prints what it observed as JSON,
 * which must be the same text in every zone and locale. Usage: tsx ... <baseDir>
 */
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { StorageInterface } from '../../src/core/storage-interface.js';
import { canonicalTimestamp, formatEpochMs, parseTimestamp } from '../../src/core/time.js';
import { migrateStorage } from '../../src/migration/migrate.js';
import { hashText } from '../../src/semantic/embedders/hashing.js';

/** Timestamps with no offset (naive), odd offsets, and local times a DST change repeats or skips. */
const TIMES = [
  '2025-03-06T10:00:00',
  '2025-03-06 10:00:00.5',
  '2026-10-25T01:30:00',
  '2026-03-29T01:30:00',
  '2026-11-01T01:30:00-02:30',
  '2025-03-06T10:00:00+05:45',
  '2025-03-06T10:00:00.123456+14:00',
  '2025-03-06T10:00:00Z',
];

/** Words whose case folding differs under a Turkish locale (dotted and dotless i). */
const WORDS = ['ISTANBUL', 'istanbul', 'İstanbul', 'ıstanbul', 'TITLE', 'title'];

async function observe(storage: StorageInterface): Promise<unknown> {
  await storage.initialize();
  // Cache: naive and offset timestamps, one expired long ago, one far ahead.
  for (const [i, at] of TIMES.entries()) {
    const past = { storedAt: at.replace('20', '18'), expiresAt: at.replace('20', '19') };
    await storage.storeCacheRecord(`past ${i}`, { data: { i }, ...past });
    await storage.storeCacheRecord(`live ${i}`, {
      data: { i },
      storedAt: at,
      expiresAt: at.replace('20', '29'),
    });
  }
  const cache = {
    records: await Promise.all(TIMES.map((_, i) => storage.loadCacheRecord(`live ${i}`))),
    expired: await Promise.all(TIMES.map((_, i) => storage.loadCacheEntry(`past ${i}`))),
    keys: await storage.listCacheKeys(),
    purged: await storage.purgeExpiredCache(),
  };
  // Memories and chains keep a created_at / stored_at they are given as the same text.
  for (const [i, at] of TIMES.entries()) {
    await storage.storeMemory('c1', `m${i}`, { created_at: at, text: WORDS[i % WORDS.length] ?? '' });
    await storage.storeReasoningChain('a1', { stored_at: at, text: WORDS[i % WORDS.length] ?? '' });
  }
  const memories = await storage.loadMemories('c1');
  const chains = await storage.loadReasoningChains('a1');
  const search = await Promise.all(WORDS.map((text) => storage.search({ text, limit: 50 })));
  // Listings sort by code point, never by the locale's collation.
  for (const word of WORDS) await storage.storeConversation(word, { word });
  const conversations = await storage.listConversations();
  const stats = (await storage.getStorageStats()) as Record<string, unknown>;
  return { cache, memories, chains, search, conversations, cacheEntries: stats.cache_entries };
}

async function main(): Promise<void> {
  const [baseDir] = process.argv.slice(2);
  if (baseDir === undefined) throw new Error('usage: <baseDir>');
  const file = new FileStorage({ baseDir: path.join(baseDir, 'file') });
  const sqlite = new SQLiteStorage({ dbPath: path.join(baseDir, 'store.db') });
  const copy = new SQLiteStorage({ dbPath: path.join(baseDir, 'copy.db') });
  const observed = {
    // 2025-03-06: before DST starts anywhere, so the zone's standard offset.
    offsetMinutes: new Date(Date.UTC(2025, 2, 6)).getTimezoneOffset(),
    locale: Intl.DateTimeFormat().resolvedOptions().locale,
    time: TIMES.map((at) => [parseTimestamp(at), canonicalTimestamp(at)]),
    formatted: formatEpochMs(Date.UTC(2026, 9, 25, 1, 30, 0, 7)),
    hashing: WORDS.map((word) => Array.from(hashText(word, 16)).join(',')),
    file: await observe(file),
    sqlite: await observe(sqlite),
  };
  await migrateStorage(file, copy);
  const copied = {
    memories: await copy.loadMemories('c1'),
    chains: await copy.loadReasoningChains('a1'),
    cache: await Promise.all(TIMES.map((_, i) => copy.loadCacheRecord(`live ${i}`))),
  };
  await Promise.all([file.shutdown(), sqlite.shutdown(), copy.shutdown()]);
  process.stdout.write(JSON.stringify({ ...observed, copied }));
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
