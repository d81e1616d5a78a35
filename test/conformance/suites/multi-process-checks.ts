/** End-state checks of the multi-process suite: allowed final values and exact stats. */
import type { StorageInterface } from '../../../src/core/index.js';
import type { LoggedOp } from '../multi-process-log.js';

/** One writer's calls on one id (stores and the deletes that remove it), in the order it made them. */
export interface WriterOps {
  writer: string;
  ops: LoggedOp[];
}

/**
 * Expects `actual` to be what some writer did last to this id: its last store's value, or
 * nothing (`null`) after a delete, or nothing when no one wrote it. Any linearizable store ends
 * with some writer's last call, since each writer's calls on one id run one after another; a
 * value a writer itself overwrote later, or a mix of two values, is never allowed.
 */
export function expectPossibleFinal(label: string, actual: unknown, writers: WriterOps[]): void {
  const candidates: unknown[] = [];
  for (const { ops } of writers) {
    const last = ops.at(-1);
    if (last) candidates.push(last.op === 'delete' ? null : last.value);
  }
  if (candidates.length === 0) candidates.push(null);
  const found = candidates.some((candidate) => JSON.stringify(candidate) === JSON.stringify(actual));
  if (!found) {
    const brief = (v: unknown): string => JSON.stringify(v)?.slice(0, 120) ?? 'undefined';
    throw new Error(
      `${label}: ${brief(actual)} is none of the writers' last calls: ${candidates.map(brief).join(', ')}`,
    );
  }
}

/** Expects every core count of `getStorageStats()` to equal what the listings and loads hold. */
export async function expectStatsMatch(s: StorageInterface): Promise<void> {
  const ids = await s.listAllConversationIds();
  let memories = 0;
  let raw = 0;
  let chunks = 0;
  for (const id of ids) {
    memories += (await s.loadMemories(id)).length;
    raw += (await s.loadRawMessages(id)).length;
    if ((await s.loadChunkInfo(id)) !== null) chunks += 1;
  }
  const agents = await s.listAgents();
  let chains = 0;
  for (const agent of agents) chains += (await s.loadReasoningChains(agent)).length;
  const cacheKeys = await s.listCacheKeys();
  // A cache entry is listed iff it loads.
  for (const key of ['k0', 'k1', 'k2', 'e0', 'e1']) {
    expect([key, cacheKeys.includes(key)]).toEqual([key, (await s.loadCacheEntry(key)) !== null]);
  }
  const stateKeys = await s.listSystemStateKeys();
  for (const key of ['s0', 's1', 's2']) {
    expect([key, stateKeys.includes(key)]).toEqual([key, (await s.loadSystemState(key)) !== null]);
  }
  const conversations = await s.listConversations();
  for (const id of ['o0', 'o1', 'o2', 'd']) {
    expect([id, conversations.includes(id)]).toEqual([id, (await s.loadConversation(id)) !== null]);
  }
  // An id is in listAllConversationIds iff something is stored under it.
  for (const id of ['o0', 'o1', 'o2', 'd', 'm0', 'm1', 'm2']) {
    const held =
      (await s.loadConversation(id)) !== null ||
      (await s.loadRawMessages(id)).length > 0 ||
      (await s.loadMemories(id)).length > 0 ||
      (await s.loadChunkInfo(id)) !== null;
    expect([id, ids.includes(id)]).toEqual([id, held]);
  }
  const stats = await s.getStorageStats();
  expect({
    conversation_count: stats.conversation_count,
    raw_message_count: stats.raw_message_count,
    memory_count: stats.memory_count,
    reasoning_chain_count: stats.reasoning_chain_count,
    agent_count: stats.agent_count,
    chunk_info_count: stats.chunk_info_count,
    cache_entry_count: stats.cache_entry_count,
    system_state_count: stats.system_state_count,
  }).toEqual({
    conversation_count: conversations.length,
    raw_message_count: raw,
    memory_count: memories,
    reasoning_chain_count: chains,
    agent_count: agents.length,
    chunk_info_count: chunks,
    cache_entry_count: cacheKeys.length,
    system_state_count: stateKeys.length,
  });
}
