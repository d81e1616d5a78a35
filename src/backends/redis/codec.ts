/** How values are written to and read from Redis strings, with corrupt data reported by key. */
import {
  CorruptDataError,
  isCacheExpired,
  type CacheRecord,
  type JsonObject,
  isJsonObject,
  type JsonValue,
  parseStoredJson,
  parseStoredJsonObject,
  type SkipItem,
} from '../../core/index.js';
import type { ConversationKeys } from './keys.js';
import { quoteName } from '../../core/shown-text.js';

/** Parses stored JSON text, reporting bad data as corrupt at `key`. */
export function decodeJson(text: string, key: string): JsonValue {
  return parseStoredJson(text, `redis key ${key}`);
}

/** Parses a stored JSON object; `null` stays `null` (missing key). */
export function decodeObject(text: string | null, key: string): JsonObject | null {
  return text === null ? null : parseStoredJsonObject(text, `redis key ${key}`);
}

/** Parses a stored JSON array; `null` stays `null` (missing key). */
export function decodeArray(text: string | null, key: string): JsonValue[] | null {
  if (text === null) return null;
  const value = decodeJson(text, key);
  if (!Array.isArray(value)) throw new CorruptDataError(`redis key ${key}`, 'expected a JSON array');
  return value;
}

/**
 * Decodes the reply of the `READ_MEMORIES` script (id, record JSON, created_at JSON, id, ...)
 * of `conversationId` into memory records, `created_at` taken from its own hash (kept on
 * replace, D7). With `skip`, a memory that does not parse goes there by its id and is left out.
 */
export function decodeMemories(
  flat: Array<string | null>,
  keys: Pick<ConversationKeys, 'memories' | 'memoryData' | 'memoryCreated'>,
  conversationId: string,
  skip?: SkipItem,
): JsonObject[] {
  const memories: JsonObject[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    try {
      memories.push(decodeMemory(flat, i, keys, conversationId));
    } catch (error) {
      if (skip === undefined) throw error;
      skip(error, String(flat[i]), i / 3);
    }
  }
  return memories;
}

/** The memory at `flat[i]` of {@link decodeMemories}. */
function decodeMemory(
  flat: Array<string | null>,
  i: number,
  keys: Pick<ConversationKeys, 'memories' | 'memoryData' | 'memoryCreated'>,
  conversationId: string,
): JsonObject {
  const [id, json, createdAt] = [quoteName(String(flat[i])), flat[i + 1], flat[i + 2]];
  const record = decodeObject(json ?? null, `${keys.memoryData} field ${id}`);
  if (record === null) {
    // An evicted data hash reads as no memories (READ_MEMORIES): one field gone is a hand edit.
    throw new CorruptDataError(
      `redis key ${keys.memoryData} field ${id}`,
      `memory ${id} of conversation ${quoteName(conversationId)} is listed in ${keys.memories} ` +
        `but has no data (deleteMemory removes it)`,
    );
  }
  if (typeof createdAt === 'string') {
    record.created_at = decodeJson(createdAt, `${keys.memoryCreated} field ${id}`);
  }
  return record;
}

/**
 * A cache record as stored. `expiresAt` comes first so that the first bytes of the value
 * (`GETRANGE`) tell whether an entry is live without reading its data.
 */
export function encodeCacheRecord(record: CacheRecord): string {
  return JSON.stringify({ expiresAt: record.expiresAt, storedAt: record.storedAt, data: record.data });
}

/** Parses a stored cache record; `null` stays `null` (missing or expired key). */
export function decodeCacheRecord(text: string | null, key: string): CacheRecord | null {
  const value = decodeObject(text, key);
  if (value === null) return null;
  const { data, storedAt, expiresAt } = value;
  if (!isJsonObject(data ?? null) || typeof storedAt !== 'string') {
    throw new CorruptDataError(`redis key ${key}`, 'not a cache record');
  }
  if (expiresAt !== null && typeof expiresAt !== 'string') {
    throw new CorruptDataError(`redis key ${key}`, 'not a cache record (expiresAt)');
  }
  return { data: data as JsonObject, storedAt, expiresAt };
}

/** Bytes of a cache value to read for {@link isLiveCacheHead}. */
export const CACHE_HEAD_BYTES = 100;

const CACHE_HEAD = /^\{"expiresAt":(?:null|"([^"\\]*)")/;

/**
 * Whether a cache value whose first {@link CACHE_HEAD_BYTES} bytes are `head` is live at
 * `nowMs`: `''` is a missing (expired) key; an unreadable head counts as expired, as the core does.
 */
export function isLiveCacheHead(head: string, nowMs: number): boolean {
  if (head === '') return false;
  const match = CACHE_HEAD.exec(head);
  if (!match) return false;
  return !isCacheExpired(match[1] ?? null, nowMs);
}
