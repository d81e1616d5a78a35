/**
 * Copying cache entries in groups: one batch read of the source (and of the target when it is
 * compared first), then one `storeCacheRecords` batch for the group.
 */
import type { CacheRecordBatchItem } from '../core/batches.js';
import { canonicalJson } from '../core/json.js';
import { type CacheRecord, cacheRecordTimesProblem } from '../core/records.js';
import { type CopyContext, expiryMs, sameExpiry, sameStoredAt, whenComparing, write } from './copy.js';
import { throwIfAborted } from './errors.js';
import { formatEpochMs, nowTimestamp } from '../core/time.js';
import { exceedsMaxJsonDepth } from '../core/json-depth.js';
import { TOO_DEEP } from './too-deep.js';
import { quoteName } from '../core/shown-text.js';

/** Cache keys copied per batch (well under `MAX_BATCH_ITEMS`, so one group's records stay small). */
export const CACHE_GROUP_SIZE = 200;

/** True when the target already holds `record` (same data, same times within tolerance). */
function alreadyHeld(existing: CacheRecord | null | undefined, record: CacheRecord): boolean {
  return (
    existing != null &&
    sameExpiry(expiryMs(existing), expiryMs(record)) &&
    sameStoredAt(existing.storedAt, record.storedAt) &&
    canonicalJson(existing.data) === canonicalJson(record.data)
  );
}

/**
 * Copies live cache entries with their original `storedAt` and `expiresAt`; ones that have
 * expired meanwhile, or that the target already holds, are skipped. A source record whose
 * timestamps the target would refuse (written by another program) is copied with a new
 * `storedAt`, its expiry instant written in the store's format, and a warning instead.
 */
export async function copyCacheEntries(context: CopyContext, keys: string[]): Promise<void> {
  const [records, existing] = await Promise.all([
    context.source.loadCacheRecords(keys),
    whenComparing(context, () => context.target.loadCacheRecords(keys)),
  ]);
  const batch: CacheRecordBatchItem[] = [];
  const others: Array<{ key: string; record: CacheRecord; expiresAt: number | null }> = [];
  keys.forEach((key, i) => {
    const record = records[i] ?? null;
    const expiresAt = record === null ? null : expiryMs(record);
    const ttlSeconds = expiresAt === null ? null : (expiresAt - Date.now()) / 1000;
    if (record === null || (ttlSeconds !== null && ttlSeconds <= 0) || alreadyHeld(existing?.[i], record)) {
      context.counts.cache_entries.skipped += 1;
    } else if (exceedsMaxJsonDepth(record.data)) {
      const message = `the source's entry is ${TOO_DEEP}; not copied`;
      context.conflicts.add({ kind: 'cache_entries', id: key, message });
    } else if (cacheRecordTimesProblem(record) === null) {
      // The three fields by name: a source's record may carry more (a user backend's row), which the target refuses.
      batch.push({ key, data: record.data, storedAt: record.storedAt, expiresAt: record.expiresAt });
    } else {
      others.push({ key, record, expiresAt });
    }
  });
  throwIfAborted(context.signal);
  if (batch.length > 0) {
    await write(context, 'cache_entries', batch.length, () => context.target.storeCacheRecords(batch));
  }
  for (const { key, record, expiresAt } of others) {
    const problem = cacheRecordTimesProblem(record);
    // The same expiry instant, not a TTL: a TTL over the 1,000 years `storeCacheEntry` takes
    // (an expiry in year 3500) failed the whole migration, every time it was run.
    const item = {
      key,
      data: record.data,
      storedAt: nowTimestamp(),
      expiresAt: expiresAt === null ? null : formatEpochMs(expiresAt),
    };
    await write(context, 'cache_entries', 1, async () => {
      context.warnings.add(
        `cache entry ${quoteName(key)}: its ${problem?.field} ${problem?.problem}; copied with its expiry and a new storedAt`,
      );
      return context.target.storeCacheRecords([item]);
    });
  }
}
