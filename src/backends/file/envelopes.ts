/**
 * The JSON envelopes of the reference's file layout: how each kind is wrapped on
 * disk, field for field and in the reference's order, and how it is checked and unwrapped on
 * load (D6: the metadata the reference adds is written but never handed back).
 */
import {
  type CacheRecord,
  CorruptDataError,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from '../../core/index.js';

/** A parsed cache file: whose it is and the record. */
export interface CacheFileEntry {
  /** The key recorded in the file (`cache_key`). */
  key: string;
  /** Data and timestamps. */
  record: CacheRecord;
}

/** A parsed system-state file: whose it is and the stored object. */
export interface StateFileEntry {
  /** The key recorded in the file (`state_key`). */
  key: string;
  /** The stored object. */
  data: JsonObject;
}

/** `current.json`: the conversation plus `_storage_metadata`. */
export function conversationEnvelope(conversationId: string, data: JsonObject, now: string): JsonObject {
  return {
    ...data,
    _storage_metadata: { stored_at: now, storage_backend: 'file', conversation_id: conversationId },
  };
}

/** `raw_messages.json` */
export function rawMessagesEnvelope(conversationId: string, messages: JsonValue[], now: string): JsonObject {
  return {
    messages,
    _metadata: { stored_at: now, message_count: messages.length, conversation_id: conversationId },
  };
}

/** `chunks.json`: the chunk info plus `_metadata`. */
export function chunksEnvelope(conversationId: string, data: JsonObject, now: string): JsonObject {
  return { ...data, _metadata: { stored_at: now, conversation_id: conversationId } };
}

/** `memories.json` */
export function memoriesEnvelope(conversationId: string, memories: JsonValue[], now: string): JsonObject {
  return {
    memories,
    _metadata: { last_updated: now, memory_count: memories.length, conversation_id: conversationId },
  };
}

/** `reasoning_chains.json` */
export function chainsEnvelope(agentId: string, chains: JsonValue[], now: string): JsonObject {
  return { chains, _metadata: { last_updated: now, chain_count: chains.length, agent_id: agentId } };
}

/** `cache/{name}.json` */
export function cacheEnvelope(cacheKey: string, record: CacheRecord): JsonObject {
  return { cache_key: cacheKey, data: record.data, stored_at: record.storedAt, expires_at: record.expiresAt };
}

/** `system/{name}.json` */
export function stateEnvelope(stateKey: string, data: JsonObject, now: string): JsonObject {
  return { state_key: stateKey, data, stored_at: now };
}

function expectObject(file: string, value: JsonValue): JsonObject {
  if (!isJsonObject(value)) throw new CorruptDataError(file, 'expected a JSON object');
  return value;
}

/** A stored object without the metadata field the file backend adds (`_storage_metadata` or `_metadata`). */
export function parseWrappedObject(file: string, value: JsonValue, metadataField: string): JsonObject {
  const object = expectObject(file, value);
  if (!Object.hasOwn(object, metadataField)) return object;
  const copy: JsonObject = { ...object };
  delete copy[metadataField];
  return copy;
}

/**
 * The list inside a list envelope (`messages`, `memories`, `chains`); with `objects`, every
 * item must be an object. Lists are returned as stored (duplicates included).
 */
export function parseListEnvelope(file: string, value: JsonValue, field: string, objects: true): JsonObject[];
export function parseListEnvelope(file: string, value: JsonValue, field: string, objects: false): JsonValue[];
export function parseListEnvelope(
  file: string,
  value: JsonValue,
  field: string,
  objects: boolean,
): JsonValue[] {
  const list = expectObject(file, value)[field];
  if (!Array.isArray(list)) throw new CorruptDataError(file, `expected an array in "${field}"`);
  if (objects && !list.every(isJsonObject)) {
    throw new CorruptDataError(file, `expected only objects in "${field}"`);
  }
  return list;
}

function keyedFields(
  file: string,
  value: JsonValue,
  keyField: string,
): { key: string; envelope: JsonObject } {
  const envelope = expectObject(file, value);
  const key = envelope[keyField];
  if (typeof key !== 'string') throw new CorruptDataError(file, `expected a string "${keyField}"`);
  if (!isJsonObject(envelope.data)) throw new CorruptDataError(file, 'expected an object in "data"');
  return { key, envelope };
}

/** Checks and unwraps a cache file; a missing `expires_at` means no expiry. */
export function parseCacheFile(file: string, value: JsonValue): CacheFileEntry {
  const { key, envelope } = keyedFields(file, value, 'cache_key');
  const storedAt = envelope.stored_at;
  const expiresAt = envelope.expires_at ?? null;
  if (typeof storedAt !== 'string' || (expiresAt !== null && typeof expiresAt !== 'string')) {
    throw new CorruptDataError(file, 'expected string "stored_at" and string or null "expires_at"');
  }
  return { key, record: { data: envelope.data as JsonObject, storedAt, expiresAt } };
}

/** Checks and unwraps a system-state file. */
export function parseStateFile(file: string, value: JsonValue): StateFileEntry {
  const { key, envelope } = keyedFields(file, value, 'state_key');
  return { key, data: envelope.data as JsonObject };
}
