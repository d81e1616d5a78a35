/**
 * The cache on Redis: entries carry their own expiry (`SET ... PX`), so Redis removes them
 * without any purge; only index entries can go stale, and `purgeExpiredCache()` removes those.
 */
import type { CacheRecord } from '../../core/index.js';
import { parseTimestamp } from '../../core/index.js';
import { CACHE_HEAD_BYTES, encodeCacheRecord, isLiveCacheHead } from './codec.js';
import type { RedisConnection } from './connection.js';
import { mapIndexEntries, readIndex } from './index-sets.js';
import { ADD_TO_SETS } from './scripts.js';
import type { KeyLayout } from './keys.js';

/** Writes a cache record; with an expiry, Redis deletes the value at that time (PX). */
export async function writeCacheValue(
  redis: RedisConnection,
  what: string,
  key: string,
  record: CacheRecord,
): Promise<void> {
  const value = encodeCacheRecord(record);
  const expiresAtMs = record.expiresAt === null ? null : parseTimestamp(record.expiresAt);
  if (expiresAtMs === null) {
    await redis.run(`store ${what}`, (c) => c.set(key, value));
    return;
  }
  const ttlMs = Math.max(1, Math.ceil(expiresAtMs - Date.now()));
  await redis.run(`store ${what}`, (c) => c.set(key, value, 'PX', ttlMs));
}

/** Whether the entry at `key` exists and is live at `nowMs`, reading only its first bytes. */
export async function isLiveCacheEntry(
  redis: RedisConnection,
  what: string,
  key: string,
  nowMs: number,
): Promise<boolean> {
  const head = await redis.run(`check ${what}`, (c) => c.getrange(key, 0, CACHE_HEAD_BYTES - 1));
  return isLiveCacheHead(head, nowMs);
}

/**
 * Removes cache index entries whose value Redis has expired (or that were left by a lost race)
 * and returns how many. The index entry is removed, then the value checked again: a key stored
 * again meanwhile is put back, so a live entry never loses its index entry.
 */
export async function removeStaleCacheIndexEntries(redis: RedisConnection, keys: KeyLayout): Promise<number> {
  const index = keys.index.cacheKeys;
  const exists = async (what: string, key: string) =>
    (await redis.run(`check ${what}`, (c) => c.exists(key))) > 0;
  const removed = await mapIndexEntries(await readIndex(redis, index), async (cacheKey) => {
    const what = `cache entry ${JSON.stringify(cacheKey)}`;
    const key = keys.cache(cacheKey);
    if (await exists(what, key)) return 0;
    // Counted only by the purge whose SREM removed the entry: two purges running at once
    // (several processes) would otherwise both count it.
    const removed = await redis.run(`unindex ${what}`, (c) => c.srem(index, cacheKey));
    if (removed === 0) return 0;
    if (!(await exists(what, key))) return 1;
    await redis.script(`index ${what}`, ADD_TO_SETS, [index], [cacheKey]);
    return 0;
  });
  return removed.reduce<number>((sum, n) => sum + n, 0);
}
