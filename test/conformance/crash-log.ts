/**
 * What a child process of the crash suite prints on stdout: one JSON line when it is ready, one
 * before each call starts and one after it finishes (the parent then kills it mid-write).
 */

/** One record a call writes (a memory, a chain, or a whole value under a key). */
export interface CrashWrite {
  /** `trim` (value: keepLast) and `deleteChains` write no record: they change an agent's chains. */
  kind: 'memory' | 'chain' | 'trim' | 'deleteChains' | 'conversation' | 'raw' | 'chunk' | 'cache' | 'state';
  /** Conversation, agent, cache key or state key. */
  id: string;
  /** The memory id (memories only). */
  memoryId?: string;
  value: unknown;
}

/** A call as announced before it starts. */
export interface CrashCall {
  /** The call's number within its child. */
  n: number;
  /** The method called. */
  call: string;
  writes: CrashWrite[];
}

/** One line of a child's stdout. */
export type CrashLine = { ready: true } | CrashCall | { done: number };
