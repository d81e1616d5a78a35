/**
 * The shapes every backend stores, and the rules that build them, kept here once: memory
 * records (D7, D8), reasoning-chain records, cache records with expiry, stats and health.
 */
import { describeValue, SerializationError, ValidationError } from './errors.js';
import { refuseUnknownFields } from './ids.js';
import { type JsonObject, type JsonValue, toJsonObject } from './json.js';
import { recordText } from './record-names.js';
import {
  canonicalTimestamp,
  formatEpochMs,
  isOutOfRangeCanonical,
  isValidTimestamp,
  outOfRangeCeilingMs,
  parseTimestamp,
} from './time.js';

/** A cache entry as stored: the data plus when it was stored and when it expires. */
export interface CacheRecord {
  /** The cached object, as given to `storeCacheEntry`. */
  data: JsonObject;
  /** ISO timestamp of the write. */
  storedAt: string;
  /** ISO timestamp after which the entry is gone, or `null` for no expiry. */
  expiresAt: string | null;
}

/** What a load of cache entries needs of a stored record: its data and expiry. */
export type CacheEntryRead = Pick<CacheRecord, 'data' | 'expiresAt'>;

/** A memory about to be written: the full record and whether the caller chose `created_at`. */
export interface MemoryWrite {
  /** The memory id (also `record.memory_id`). */
  memoryId: string;
  /** `{ memory_id, created_at, ...memoryData }` as it is to be loaded back. */
  record: JsonObject;
  /** True when the caller's data carried `created_at`; otherwise a replace keeps the old one. */
  explicitCreatedAt: boolean;
}

/**
 * Builds the stored memory record: `memory_id` and `created_at` first (the reference's
 * layout), the caller's fields after; the caller's `created_at` is kept (D8) and the
 * `memoryId` argument wins over a `memory_id` field in the data (D7).
 */
export function buildMemoryWrite(memoryId: string, data: JsonObject, now: string): MemoryWrite {
  const explicitCreatedAt = Object.hasOwn(data, 'created_at');
  const record: JsonObject = { memory_id: memoryId, created_at: now, ...data };
  record.memory_id = memoryId;
  return { memoryId, record, explicitCreatedAt };
}

/**
 * The record that replaces `existing` in place (D7): the new data, keeping the old
 * `created_at` unless the new data brings its own.
 */
export function replaceMemoryRecord(existing: JsonObject, write: MemoryWrite): JsonObject {
  const kept = existing.created_at;
  if (write.explicitCreatedAt || kept === undefined) return write.record;
  return { ...write.record, created_at: kept };
}

/** Whether a stored list item is the memory `memoryId`. */
function isMemory(item: JsonValue, memoryId: string): boolean {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && item.memory_id === memoryId;
}

/**
 * Applies a memory upsert to an ordered list: replaces the record with the same
 * `memory_id` in place, or appends. An id the list holds more than once becomes one record, at
 * its first position. Returns the new list (the input is not changed).
 */
export function upsertMemoryInList(memories: readonly JsonValue[], write: MemoryWrite): JsonValue[] {
  const out = memories.slice();
  const index = out.findIndex((m) => isMemory(m, write.memoryId));
  if (index === -1) {
    out.push(write.record);
    return out;
  }
  out[index] = replaceMemoryRecord(out[index] as JsonObject, write);
  // The Python file backend appends an id stored again, so a list it wrote may hold later
  // records of this memory: left in place they would load beside the new value, and a
  // migration (last value wins) would copy them over it.
  let later = index + 1;
  while (later < out.length && !isMemory(out[later] as JsonValue, write.memoryId)) later += 1;
  if (later === out.length) return out;
  return out.filter((m, i) => i <= index || !isMemory(m, write.memoryId));
}

/** A stored list item's `memory_id` when it is a memory record with a string id. */
function memoryIdOf(item: JsonValue): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  return typeof item.memory_id === 'string' ? item.memory_id : undefined;
}

/**
 * Applies memory upserts in order, with the result of {@link upsertMemoryInList} one after the
 * other. Returns the new list (the input is not changed).
 */
export function upsertMemoriesInList(
  memories: readonly JsonValue[],
  writes: readonly MemoryWrite[],
): JsonValue[] {
  // One write (every single call): the plain scan, without a set and a map, is 2-3x faster.
  if (writes.length === 1) return upsertMemoryInList(memories, writes[0] as MemoryWrite);
  // Several: one pass over the list finds each written id's first record (a loop of single
  // upserts scans and copies the list once per write: 100 replaces into 1,000 memories took
  // 2.1-4.4 ms against 0.05-0.45 ms, a microbenchmark on 2 cores under load 18).
  const written = new Set(writes.map((write) => write.memoryId));
  const out = memories.slice();
  const positions = new Map<string, number>();
  let later = false;
  for (let i = 0; i < out.length; i += 1) {
    const id = memoryIdOf(out[i] as JsonValue);
    if (id === undefined || !written.has(id)) continue;
    if (positions.has(id)) later = true;
    else positions.set(id, i);
  }
  for (const write of writes) {
    const at = positions.get(write.memoryId);
    if (at === undefined) positions.set(write.memoryId, out.push(write.record) - 1);
    else out[at] = replaceMemoryRecord(out[at] as JsonObject, write);
  }
  if (!later) return out;
  // Later records of a written id (a list the Python file backend wrote) go, as above.
  return out.filter((item, i) => {
    const id = memoryIdOf(item);
    return id === undefined || !written.has(id) || positions.get(id) === i;
  });
}

/** Builds the stored reasoning-chain record: `stored_at` first, the caller's value kept (D8). */
export function buildChainRecord(data: JsonObject, now: string): JsonObject {
  return { stored_at: now, ...data };
}

/**
 * Milliseconds of life a TTL in seconds gives an entry: the TTL to the microsecond (as Python's
 * `timedelta` keeps it, so float noise such as 1.1 × 1000 = 1100.0000000000002 adds nothing),
 * rounded up to a whole millisecond, and at least 1. An entry so never expires before its TTL
 * has passed; until 2026-12-03 the expiry was cut down to the millisecond, so a TTL under 1 ms
 * stored an entry already expired and 1.0004 s lived 1,000 ms.
 */
function ttlLifetimeMs(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(Math.round(ttlSeconds * 1e6) / 1000));
}

/** Builds a cache record for a TTL in seconds (`null`: no expiry), see {@link ttlLifetimeMs}. */
export function buildCacheRecord(data: JsonObject, ttlSeconds: number | null, nowMs: number): CacheRecord {
  return {
    data,
    storedAt: formatEpochMs(nowMs),
    expiresAt: ttlSeconds === null ? null : formatEpochMs(nowMs + ttlLifetimeMs(ttlSeconds)),
  };
}

/**
 * Why a cache record given with its own timestamps cannot be stored, or `null` when it can:
 * `storedAt` must be a valid timestamp, `expiresAt` one after it or `null`. "After" as stored:
 * the canonical texts (microseconds, a longer fraction rounded up) are compared where both
 * exist, so `...00.0000001Z` is not taken as before `...00.000001Z`, which it is stored as
 * (until 2026-12-06 the instants were compared as floats, a record was stored with
 * `expiresAt` equal to `storedAt`, and its own `loadCacheRecord` copy was refused).
 */
export function cacheRecordTimesProblem(record: {
  storedAt: unknown;
  expiresAt: unknown;
}): { field: 'storedAt' | 'expiresAt'; problem: string } | null {
  const formats = 'an ISO 8601 timestamp such as 2025-03-06T10:00:00.123000+00:00';
  if (!isValidTimestamp(record.storedAt)) {
    return { field: 'storedAt', problem: `must be ${formats} (got ${describeValue(record.storedAt)})` };
  }
  if (record.expiresAt === null) return null;
  if (!isValidTimestamp(record.expiresAt)) {
    return {
      field: 'expiresAt',
      problem: `must be ${formats}, or null for no expiry (got ${describeValue(record.expiresAt)})`,
    };
  }
  if (!isAfter(record.expiresAt, record.storedAt)) {
    return {
      field: 'expiresAt',
      problem: `must be after storedAt ${record.storedAt} (got ${record.expiresAt})`,
    };
  }
  return null;
}

/** Whether valid timestamp `later` is after `earlier` as the two are stored (see above). */
function isAfter(later: string, earlier: string): boolean {
  const [a, b] = [canonicalTimestamp(later), canonicalTimestamp(earlier)];
  // Canonical texts are fixed-width UTC: their text order is their time order.
  if (a !== null && b !== null) return a > b;
  return (parseTimestamp(later) ?? 0) > (parseTimestamp(earlier) ?? 0);
}

/** The fields of a cache record given with its own timestamps; any other is refused. */
const CACHE_RECORD_FIELDS = ['data', 'storedAt', 'expiresAt'] as const;

/**
 * Checks a cache record given with its own timestamps (`storeCacheRecord`) and returns it
 * with its data as plain JSON; throws {@link ValidationError} naming the field and the key.
 * The timestamps are returned in the reference's format ({@link canonicalTimestamp}): the
 * same instants, which the Python reference can parse.
 */
export function validateCacheRecord(cacheKey: string, record: unknown): CacheRecord {
  const what = recordText.cacheEntry(cacheKey);
  let fields: { data: unknown; storedAt: unknown; expiresAt: unknown };
  try {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ValidationError('record', `${what}: must be an object { data, storedAt, expiresAt }`);
    }
    const { data, storedAt, expiresAt } = record as Record<string, unknown>;
    fields = { data, storedAt, expiresAt };
    refuseUnknownFields(record, CACHE_RECORD_FIELDS, what, 'record');
  } catch (error) {
    if (error instanceof ValidationError || error instanceof SerializationError) throw error;
    // A Proxy or getter of the caller's threw while its fields were read.
    throw new SerializationError(what, '$', 'reading the record threw', error);
  }
  const { data, storedAt, expiresAt } = fields;
  const problem = cacheRecordTimesProblem({ storedAt, expiresAt });
  if (problem !== null) throw new ValidationError(problem.field, `${what}: ${problem.problem}`);
  // The text as given only where no canonical form exists (a valid time in year 1000 whose offset
  // moves it into year 999 in UTC): the instant is the same, and every backend reads it.
  return {
    data: toJsonObject(data, what),
    storedAt: canonicalTimestamp(storedAt as string) ?? (storedAt as string),
    expiresAt: expiresAt === null ? null : (canonicalTimestamp(expiresAt as string) ?? (expiresAt as string)),
  };
}

/**
 * The instant a stored cache expiry text means, in epoch milliseconds; `null` when it does not
 * parse (the entry counts as expired). A text in the canonical shape with a field out of range
 * (`2025-02-30T...`, written by another program) means the instant its text order gives it
 * (`outOfRangeCeilingMs`: Mar 1), as SQLite compares every canonical expiry as text in SQL: its
 * rolled-over instant (Mar 2) would make loads disagree with listings, counts and purges, and a
 * migration copy with its source.
 */
export function cacheExpiryMs(expiresAt: string): number | null {
  const at = parseTimestamp(expiresAt);
  if (at === null) return null;
  return isOutOfRangeCanonical(expiresAt) ? outOfRangeCeilingMs(expiresAt) : at;
}

/** True when a cache record's expiry ({@link cacheExpiryMs}) is at or before `nowMs`; unparsable expiry counts as expired. */
export function isCacheExpired(expiresAt: string | null, nowMs: number): boolean {
  if (expiresAt === null) return false;
  const at = cacheExpiryMs(expiresAt);
  return at === null || at <= nowMs;
}

/** The counts every backend reports in `getStorageStats()`, so stats compare across backends. */
export interface StatsCounts {
  /** Conversation ids holding a stored conversation object. */
  conversation_count: number;
  /** Raw messages stored, over every conversation (messages, not lists). */
  raw_message_count: number;
  /** Memories stored, over every conversation. */
  memory_count: number;
  /** Reasoning chains stored, over every agent. */
  reasoning_chain_count: number;
  /** Agents holding at least one reasoning chain (those `listAgents()` lists). */
  agent_count: number;
  /** Conversation ids holding stored chunk info. */
  chunk_info_count: number;
  /** Live (unexpired) cache entries only. */
  cache_entry_count: number;
  /** System state keys stored. */
  system_state_count: number;
  /** Bytes used by the store, or `null` where the backend cannot tell. */
  total_bytes: number | null;
}

/** The result of `getStorageStats()`: core keys plus the backend's own keys. */
export interface StorageStats extends StatsCounts {
  /** The backend's `storageType`, e.g. `file`. */
  storage_type: string;
  /** When the stats were taken, in the library's timestamp format (`2025-03-06T10:00:00.123000+00:00`). */
  timestamp: string;
  [extra: string]: JsonValue;
}

/** The result of `healthCheck()`: core keys plus the backend's own keys. */
export interface HealthReport {
  /**
   * `healthy` when the backend's probe found it working, `unhealthy` when the probe found a
   * problem, `error` when the probe failed or the store is not open.
   */
  status: 'healthy' | 'unhealthy' | 'error';
  /** The backend's `storageType`, e.g. `file`. */
  storage_type: string;
  /** When the check started, in the library's timestamp format (`2025-03-06T10:00:00.123000+00:00`). */
  timestamp: string;
  /** Time the health probe took, in milliseconds. */
  latency_ms: number;
  /** Why the status is not healthy, when it is not. */
  error?: string;
  [extra: string]: JsonValue | undefined;
}

/** What a backend's health probe reports; the core adds status, timing and type. */
export interface HealthProbe {
  /** Whether the backend works: the report's status is `healthy` or `unhealthy`. */
  healthy: boolean;
  /** Why it does not work, when it does not: the report's `error`. */
  error?: string;
  /** The backend's own keys for the report; a core key of the same name wins over one of them. */
  details: Record<string, JsonValue>;
}

/** What a backend's stats collector reports; the core adds type and timestamp. */
export interface StatsSnapshot {
  /** The core counts, the same keys in every backend. */
  counts: StatsCounts;
  /** The backend's own keys for the stats; a core key of the same name wins over one of them. */
  extra: Record<string, JsonValue>;
}

/**
 * The seven kinds of records a store holds, named as the Python reference's SQLite tables
 * (migration summaries and SQL backends use these names).
 */
export const RECORD_KINDS = [
  'conversations',
  'raw_messages',
  'memories',
  'reasoning_chains',
  'chunk_info',
  'cache_entries',
  'system_state',
] as const;

/** One of the seven record kinds. */
export type RecordKind = (typeof RECORD_KINDS)[number];
