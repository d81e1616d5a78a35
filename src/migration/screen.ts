/**
 * Ids the library refuses, found in a source it did not write (a Python reference store may
 * hold a memory id `notes/2025` or an agent `team/alpha`). Every write applies the shared id
 * rule (`validateId` / `validateKey`), and so does every read by id, so such an id can be
 * neither read by id from the source nor written to the target: it is screened out when the
 * run is planned and reported as a conflict naming it, and the rest is copied.
 */
import { describeValue, InvalidIdError } from '../core/errors.js';
import { type IdField, type KeyField, validateId, validateStoredKey } from '../core/ids.js';
import type { JsonObject } from '../core/json.js';
import { exceedsMaxJsonDepth } from '../core/json-depth.js';
import { TOO_DEEP } from './too-deep.js';
import type { RecordKind } from './types.js';

/** What a listed id is, for the id rule and the messages. */
export interface ListedKind {
  field: IdField | KeyField;
  kind: RecordKind;
  /** What is left out with a refused id, e.g. `its chains were not copied`. */
  lost: string;
}

/** Conversation ids of the source's listing. */
export const CONVERSATION_ID: ListedKind = {
  field: 'conversationId',
  kind: 'conversations',
  lost: 'none of its records (conversation, raw messages, memories, chunk info) were copied',
};
/** Agents of the source's listing. */
export const AGENT_ID: ListedKind = {
  field: 'agentId',
  kind: 'reasoning_chains',
  lost: 'its reasoning chains were not copied',
};
/** Cache keys of the source's listing. */
export const CACHE_KEY: ListedKind = { field: 'cacheKey', kind: 'cache_entries', lost: 'not copied' };
/** System-state keys of the source's listing. */
export const STATE_KEY: ListedKind = { field: 'stateKey', kind: 'system_state', lost: 'not copied' };

/** Why the id rule refuses `value` as `field` (the `InvalidIdError` message), or `null` when it accepts it. */
export function refusal(field: IdField | KeyField, value: unknown): string | null {
  try {
    if (field === 'cacheKey' || field === 'stateKey') validateStoredKey(field, value);
    else validateId(field, value);
    return null;
  } catch (error) {
    if (error instanceof InvalidIdError) return error.message;
    throw error;
  }
}

/** A refused id and why. */
export interface Refused {
  id: string;
  message: string;
}

/**
 * Splits a source listing into the ids the id rule accepts (in order) and the refused ones,
 * each with a message saying why and what was left out.
 */
export function screenIds(
  listed: ListedKind,
  ids: readonly string[],
): { valid: string[]; refused: Refused[] } {
  const valid: string[] = [];
  const refused: Refused[] = [];
  for (const id of ids) {
    const reason = refusal(listed.field, id);
    if (reason === null) valid.push(id);
    else refused.push({ id, message: `${reason}; ${listed.lost}` });
  }
  return { valid, refused };
}

/** The source memories whose `memory_id` the id rule accepts, and a message per refused string id. */
export function screenMemories(memories: readonly JsonObject[]): {
  valid: JsonObject[];
  withoutString: number;
  refused: string[];
} {
  const valid: JsonObject[] = [];
  const refused: string[] = [];
  let withoutString = 0;
  for (const memory of memories) {
    const memoryId = memory.memory_id;
    if (typeof memoryId !== 'string') withoutString += 1;
    else {
      const reason = refusal('memoryId', memoryId);
      if (reason !== null) refused.push(`${reason}; this memory was not copied`);
      else if (exceedsMaxJsonDepth(memory))
        refused.push(`memory ${describeValue(memoryId)} is ${TOO_DEEP}; not copied`);
      else valid.push(memory);
    }
  }
  return { valid, withoutString, refused };
}
