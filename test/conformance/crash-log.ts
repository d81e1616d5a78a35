/**
 * What a child process of the crash suite prints on stdout: one JSON line when it is ready, one
 * before each call starts and one after it finishes (the parent then kills it mid-write).
 */

import { bucketOf } from '../../src/backends/redis/keys.js';

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

/**
 * One line of a child's stdout: `loaded` when an `init` child waits for SIGUSR2 to open the
 * store, `init` just before `initialize()` starts, `ready` once it is done, `end` once a child
 * given a call count has finished them all and shut down.
 */
export type CrashLine =
  { loaded: true } | { init: true } | { ready: true } | CrashCall | { done: number } | { end: true };

/**
 * What a crash child does: the mixed workload, only open the store, only cache batches, or
 * `deletes`: store whole conversations and delete each one again.
 */
export type CrashMode = 'mixed' | 'init' | 'cache' | 'deletes';

/**
 * The cache keys of the `cache` mode's batches: three in each of four Redis buckets (a Redis
 * Cluster writes a batch per bucket), found by the backend's own bucket hash.
 */
export function cacheBatchKeys(): string[][] {
  const groups = new Map<number, string[]>();
  for (let i = 0; ; i += 1) {
    const key = `q${i}`;
    const group = groups.get(bucketOf('k', key)) ?? [];
    groups.set(bucketOf('k', key), [...group, key]);
    const full = [...groups.values()].filter((keys) => keys.length >= 3);
    if (full.length === 4) return full.map((keys) => keys.slice(0, 3));
  }
}
