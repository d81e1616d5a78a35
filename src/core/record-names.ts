/**
 * What the record API calls its records in messages (`memory "m" of conversation "c"`,
 * `3 items, the first key "k0",`), written once here for the single-record and the batch
 * methods, so that both name a record the same way.
 */
import type { RecordName } from './batch-text.js';
import { ValidationError } from './errors.js';
import { quoteName } from './shown-text.js';

const q = quoteName;

/** How one record (or the first item of a batch) is described, by its ids. */
export const recordText = {
  /** `conversation "c"`. */
  conversation: (conversationId: string): string => `conversation ${q(conversationId)}`,
  /** `raw messages of "c"`. */
  rawMessages: (conversationId: string): string => `raw messages of ${q(conversationId)}`,
  /** `memory "m" of conversation "c"`. */
  memory: (conversationId: string, memoryId: string): string =>
    `memory ${q(memoryId)} of conversation ${q(conversationId)}`,
  /** `memory "m"`: a memory's data, where the conversation is named beside it. */
  memoryById: (memoryId: string): string => `memory ${q(memoryId)}`,
  /** `reasoning chain of "a"`. */
  reasoningChain: (agentId: string): string => `reasoning chain of ${q(agentId)}`,
  /** `chain of agent "a"`: a chain as the first item of a batch. */
  chainOfAgent: (agentId: string): string => `chain of agent ${q(agentId)}`,
  /** `reasoning chains of "a"`. */
  reasoningChains: (agentId: string): string => `reasoning chains of ${q(agentId)}`,
  /** `memories of "c"`. */
  memories: (conversationId: string): string => `memories of ${q(conversationId)}`,
  /** `chunk info of "c"`. */
  chunkInfo: (conversationId: string): string => `chunk info of ${q(conversationId)}`,
  /** `cache entry "k"`. */
  cacheEntry: (cacheKey: string): string => `cache entry ${q(cacheKey)}`,
  /** `key "k"`: a cache entry as the first item of a batch. */
  cacheKey: (cacheKey: string): string => `key ${q(cacheKey)}`,
  /** `system state "s"`. */
  systemState: (stateKey: string): string => `system state ${q(stateKey)}`,
} as const;

/**
 * Names a chain append in its failure's message as the caller made it: one chain stored, or a
 * batch appended (`append 3 reasoning chains of "a"`, the words of the other batches).
 */
export function chainAppendText(agentId: string, count: number): string {
  return count === 1
    ? `store ${recordText.reasoningChain(agentId)}`
    : `append ${count} reasoning chains of ${q(agentId)}`;
}

/**
 * The name `runWrite` gives one record in a failure's error: the argument `field` holds it,
 * `text(...ids)` describes it. The text is built only when it is asked for.
 */
export function recordName<A extends readonly string[]>(
  field: string,
  text: (...ids: A) => string,
  ...ids: A
): () => RecordName {
  return () => ({ field, what: text(...ids) });
}

/**
 * The name `runWrite` gives a batch of `count` items in a failure's error, by its first item
 * (`text(...ids)`); built only when it is asked for.
 */
export function batchName<A extends readonly string[]>(
  field: string,
  count: number,
  text: (...ids: A) => string,
  ...ids: A
): () => RecordName {
  return () => ({ field, what: `${count} items, the first ${text(...ids)},` });
}

/**
 * Runs `check` of an argument about the record `what` names (`reasoning chains of "a"`): a
 * `ValidationError` it throws gets `what: ` in front of its message, as every bad input names
 * its record (until 2026-12-06 a bad limit, window or keepLast named none).
 */
export function checkFor<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ValidationError) error.message = `${what}: ${error.message}`;
    throw error;
  }
}
