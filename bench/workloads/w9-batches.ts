/**
 * W9: batch writes and reads. Memories (`storeMemories`), chain appends
 * (`appendReasoningChains`) and cache entries (`storeCacheEntries`, `loadCacheEntries`) in
 * batches of `batchSize`, against the same records one call each; records/s. Cache deletes
 * (`deleteCacheEntries`) and memory deletes (`deleteMemories`, half of a conversation's) in
 * batches only. Raw and Keyv do each batch their own fewest-calls way
 * (one transaction, statement, command or pipeline; `DEL` of many keys, a `DELETE` of them all,
 * unlinks and one folder fsync; Keyv's `setMany` / `getMany` / `deleteMany`, an array value
 * read and written once).
 */
import { config } from '../config.js';
import { alternate, sustainedThroughput, type SubjectMedians } from '../method.js';
import { toRows, type Row, type RowSpec } from '../rows.js';
import { withStores, writeSubjectsFor } from '../subjects.js';
import type { Backend, BenchStore, CacheItem, MemoryItem, StoreLocation } from '../types.js';
import { cacheValue, chain, memory } from './data.js';

/** Each kind's records: `groups` conversations, agents or runs of cache keys, of `size` records each. */
interface Shape {
  groups: number;
  size: number;
}

/**
 * Records per second of `write(group, first record number)` for groups 0, 1, ... until at
 * least `shape.groups` are written and `minMs` have passed (10 batches of 100 take 3–30 ms on
 * Redis, SQLite and PostgreSQL: too short a span for a rate). `done` learns how many groups
 * were written, for the loads that read them back.
 */
async function rate(
  shape: Shape,
  minMs: number,
  write: (group: number, from: number) => Promise<unknown>,
  done?: (groups: number) => void,
): Promise<number> {
  let groups = 0;
  const calls = await sustainedThroughput(shape.groups, minMs, async (group) => {
    groups = group + 1;
    await write(group, group * shape.size);
  });
  done?.(groups);
  return calls * shape.size;
}

/**
 * Records per second of `op(group)` alone, for groups 0, 1, ... until at least `shape.groups`
 * ran and `minMs` of `op` have passed; `prepare(group)` runs before each, untimed (the entries
 * a delete removes are stored first, so every delete removes `shape.size` stored entries).
 */
async function rateOf(
  shape: Shape,
  minMs: number,
  prepare: (group: number) => Promise<unknown>,
  op: (group: number) => Promise<unknown>,
): Promise<number> {
  let ms = 0;
  let groups = 0;
  while (groups < shape.groups || ms < minMs) {
    await prepare(groups);
    const started = performance.now();
    await op(groups);
    ms += performance.now() - started;
    groups += 1;
  }
  return (groups * shape.size * 1000) / ms;
}

const range = (from: number, size: number): number[] => Array.from({ length: size }, (_, i) => from + i);

/**
 * One subject's round: batches and single calls on fresh ids (`tag`), checked as it goes; each
 * rate runs for at least `minMs`. The loads read back what the cache writes wrote, group after
 * group (again from the first once all were read).
 */
async function measure(
  store: BenchStore,
  tag: string,
  batch: Shape,
  single: Shape,
  minMs: number,
): Promise<Record<string, number>> {
  const memories = (from: number, size: number): MemoryItem[] =>
    range(from, size).map((n) => ({ memoryId: `m${n}`, data: memory(n) }));
  const entries = (prefix: string, from: number, size: number): CacheItem[] =>
    range(from, size).map((n) => ({ key: `${prefix}${n}`, data: cacheValue(n % 16), ttlSeconds: 3600 }));
  const keysOf = (prefix: string, group: number, size: number): string[] =>
    range(group * size, size).map((n) => `${prefix}${n}`);

  const metrics: Record<string, number> = {};
  metrics.memoriesBatch = await rate(batch, minMs, (g, from) =>
    store.storeMemories(`${tag}mb${g}`, memories(from, batch.size)),
  );
  metrics.memoriesSingle = await rate(single, minMs, async (g, from) => {
    for (const { memoryId, data } of memories(from, single.size))
      await store.storeMemory(`${tag}ms${g}`, memoryId, data);
  });
  metrics.chainsBatch = await rate(batch, minMs, (g, from) =>
    store.appendReasoningChains(`${tag}cb${g}`, range(from, batch.size).map(chain)),
  );
  metrics.chainsSingle = await rate(single, minMs, async (g, from) => {
    for (const n of range(from, single.size)) await store.storeReasoningChain(`${tag}cs${g}`, chain(n));
  });
  let batchGroups = 0;
  metrics.cacheSetBatch = await rate(
    batch,
    minMs,
    (_, from) => store.storeCacheEntries(entries(`${tag}xb`, from, batch.size)),
    (groups) => (batchGroups = groups),
  );
  let singleGroups = 0;
  metrics.cacheSetSingle = await rate(
    single,
    minMs,
    async (_, from) => {
      for (const e of entries(`${tag}xs`, from, single.size))
        await store.storeCacheEntry(e.key, e.data, e.ttlSeconds);
    },
    (groups) => (singleGroups = groups),
  );
  metrics.cacheLoadBatch = await rate(batch, minMs, async (g) => {
    const loaded = await store.loadCacheEntries(keysOf(`${tag}xb`, g % batchGroups, batch.size));
    if (loaded.some((value) => value === null))
      throw new Error(`${tag}: a batch-written cache entry did not load`);
  });
  metrics.cacheLoadSingle = await rate(single, minMs, async (g) => {
    for (const key of keysOf(`${tag}xs`, g % singleGroups, single.size)) {
      if ((await store.loadCacheEntry(key)) === null)
        throw new Error(`${tag}: cache entry ${key} did not load`);
    }
  });
  const deleted = (g: number): string[] => keysOf(`${tag}xd${g}-`, 0, batch.size);
  metrics.cacheDeleteBatch = await rateOf(
    batch,
    minMs,
    (g) => store.storeCacheEntries(entries(`${tag}xd${g}-`, 0, batch.size)),
    (g) => store.deleteCacheEntries(deleted(g)),
  );
  if ((await store.loadCacheEntries(deleted(0))).some((value) => value !== null))
    throw new Error(`${tag}: a batch-deleted cache entry still loads`);
  // Every other memory of a conversation of twice the batch (stored just before, untimed).
  const held = (g: number): MemoryItem[] => memories(g * 2 * batch.size, 2 * batch.size);
  const dropped = (g: number): string[] => held(g).flatMap((item, i) => (i % 2 === 0 ? [item.memoryId] : []));
  metrics.memoryDeleteBatch = await rateOf(
    batch,
    minMs,
    (g) => store.storeMemories(`${tag}md${g}`, held(g)),
    (g) => store.deleteMemories(`${tag}md${g}`, dropped(g)),
  );
  const kept = (await store.loadMemories(`${tag}md0`)).length;
  if (kept !== batch.size)
    throw new Error(`${tag}: ${kept} memories left by a delete batch, expected ${batch.size}`);
  const stored = (await store.loadMemories(`${tag}mb0`)).length;
  if (stored !== batch.size)
    throw new Error(`${tag}: ${stored} memories stored by a batch, expected ${batch.size}`);
  return metrics;
}

const size = config.batchSize;
const specs = (kind: string, batchLabel: string, singleLabel: string): RowSpec[] => [
  { metric: `${kind}Batch`, label: `${batchLabel}, ${size} per call`, unit: 'records/s' },
  { metric: `${kind}Single`, label: `${singleLabel}, one per call`, unit: 'records/s', headline: false },
];

/** The medians without the unindexed library: the cache is never indexed, so it gets one row. */
function withoutUnindexed(medians: SubjectMedians): SubjectMedians {
  return Object.fromEntries(Object.entries(medians).filter(([subject]) => subject !== 'libraryUnindexed'));
}

/** Runs W9 on `backend`. */
export async function runW9(backend: Backend, location: StoreLocation): Promise<Row[]> {
  const subjects = writeSubjectsFor(backend);
  const batch: Shape = { groups: Math.ceil(config.batchRecords / size), size };
  const single: Shape = { groups: Math.ceil(config.batchSingles / size), size };
  return withStores(backend, subjects, location, async (stores) => {
    const medians = await alternate(subjects, async (subject, round, warmup) => {
      const shrink = (shape: Shape): Shape => (warmup ? { groups: 1, size: shape.size } : shape);
      const minMs = warmup ? 0 : config.minRoundMs;
      return measure(stores.get(subject)!.store, `w9-r${round}-`, shrink(batch), shrink(single), minMs);
    });
    return [
      ...toRows('W9', backend, medians, [
        ...specs('memories', 'storeMemories', 'storeMemory'),
        ...specs('chains', 'appendReasoningChains', 'storeReasoningChain'),
        // Every other memory of a conversation of twice the batch, stored just before (untimed).
        { metric: 'memoryDeleteBatch', label: `deleteMemories, ${size} per call`, unit: 'records/s' },
      ]),
      ...toRows('W9', backend, withoutUnindexed(medians), [
        ...specs('cacheSet', 'storeCacheEntries (1 KB, TTL)', 'storeCacheEntry (1 KB, TTL)'),
        ...specs('cacheLoad', 'loadCacheEntries', 'loadCacheEntry'),
        // Deletes of stored entries (each batch stored just before, untimed); no single-call row.
        { metric: 'cacheDeleteBatch', label: `deleteCacheEntries, ${size} per call`, unit: 'records/s' },
      ]),
    ];
  });
}
