/** Test data for migrations: a store with all seven kinds, and helpers to compare stores. */
import type { JsonObject, StorageInterface } from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** Conversation ids with unicode, spaces and dots. */
export const CONVERSATION_IDS = ['會話-ü', 'with space', 'support-ticket.42', 'plain'];
/** Agent ids. */
export const AGENT_IDS = ['agent-α', 'agent beta'];
/** A cache key that is expired when the migration runs. */
export const EXPIRED_KEY = 'expired:entry';

/** Milliseconds to wait before migrating so that {@link EXPIRED_KEY} has expired. */
export const EXPIRY_WAIT_MS = 60;

/**
 * Fills `storage` with every kind: conversations, raw messages (also for an id without a
 * conversation), memories with explicit out-of-order `created_at` and without, chains with
 * explicit `stored_at`, chunk info, cache entries (no TTL, long TTL, colliding-looking keys,
 * one about to expire) and system state. `scale` multiplies the number of conversations.
 */
export async function populate(storage: StorageInterface, scale = 1): Promise<void> {
  const ids = [...CONVERSATION_IDS];
  for (let i = 0; i < (scale - 1) * 4; i += 1) ids.push(`bulk-${String(i).padStart(4, '0')}`);
  for (const [n, id] of ids.entries()) {
    await storage.storeConversation(id, {
      title: `Conversation ${id}`,
      messages: [{ role: 'user', content: `héllo ${id} \u0000 🙂` }],
      metadata: { n, tags: ['a', 'b'], score: 0.75, nested: { empty: {}, list: [] } },
    });
    await storage.storeRawMessages(id, [
      { role: 'user', content: `raw ${n}`, turn: 1 },
      { role: 'assistant', content: 'ünïcödé 漢字', turn: 2 },
    ]);
    // Explicit timestamps out of order: order must follow insertion, not time.
    await storage.storeMemory(id, `mem-b-${n}`, {
      summary: 'second by time',
      created_at: '2025-03-06T10:00:05.000000+00:00',
    });
    await storage.storeMemory(id, `mem-a-${n}`, {
      summary: 'first by time',
      created_at: '2025-03-06T10:00:01.000000+00:00',
    });
    await storage.storeMemory(id, `mem c ${n}`, { summary: 'stamped now' });
    if (n % 2 === 0) await storage.storeChunkInfo(id, { chunks: [n, n + 1], boundary: 'x' });
  }
  await storage.storeRawMessages('raw-only', [{ role: 'system', content: 'stored before its conversation' }]);
  await storage.storeMemory('memory-only', 'm1', { summary: 'no conversation yet' });
  for (const [n, agent] of AGENT_IDS.entries()) {
    await storage.storeReasoningChain(agent, { step: 'late', stored_at: '2025-01-02T00:00:00.000000+00:00' });
    await storage.storeReasoningChain(agent, {
      step: 'early',
      stored_at: '2024-12-31T23:59:59.999000+00:00',
    });
    await storage.storeReasoningChain(agent, { step: `stamped now ${n}`, reasoning: ['a', 'β'] });
  }
  await storage.storeCacheEntry('chunk:aa/bb', { v: 1 });
  await storage.storeCacheEntry('chunk:aa_bb', { v: 2 }, 3600);
  await storage.storeCacheEntry('ключ 🙂', { v: 3 }, 7200.5);
  await storage.storeCacheEntry(EXPIRED_KEY, { v: 4 }, EXPIRY_WAIT_MS / 2000);
  await storage.storeSystemState('runtime_config', { mode: 'test', limits: { a: 1 } });
  await storage.storeSystemState('state/with:odd?chars', { ok: true });
}

/** Everything a store returns from its loads, in load order (cache records with both timestamps). */
export async function snapshot(storage: StorageInterface): Promise<JsonObject> {
  const conversations: JsonObject = {};
  for (const id of await storage.listAllConversationIds()) {
    conversations[id] = {
      conversation: await storage.loadConversation(id),
      raw: await storage.loadRawMessages(id),
      memories: await storage.loadMemories(id),
      chunk: await storage.loadChunkInfo(id),
    };
  }
  const chains: JsonObject = {};
  for (const agent of await storage.listAgents()) chains[agent] = await storage.loadReasoningChains(agent);
  const cache: JsonObject = {};
  for (const key of await storage.listCacheKeys()) {
    const record = await storage.loadCacheRecord(key);
    cache[key] = record === null ? null : { ...record };
  }
  const state: JsonObject = {};
  for (const key of await storage.listSystemStateKeys()) state[key] = await storage.loadSystemState(key);
  return {
    conversations,
    chains,
    cache,
    state,
    listConversations: await storage.listConversations(),
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `method` changes the store: a `store*`, `delete*` or `append*` call. */
const isWrite = (method: string) => /^(store|delete|append)/.test(method);

/**
 * Wraps `storage` so that the `failAfter`+1-th call that changes it (`store*` or `delete*`:
 * the marker, every record, the delete before a memory-order rewrite, the marker's removal)
 * rejects, like a crash halfway through a migration; every other call goes through
 * unchanged. With `afterWrite`, that call is applied first and only then rejects (a crash
 * after the write landed but before it was acknowledged). Methods run on the real object, so
 * backends with private state work behind the wrapper.
 */
export function failingAfter<T extends StorageInterface>(
  storage: T,
  failAfter: number,
  afterWrite = false,
): T {
  let writes = 0;
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== 'string' || !isWrite(property)) return method.bind(target);
      return async (...args: unknown[]) => {
        writes += 1;
        if (writes <= failAfter) return method.apply(target, args);
        if (afterWrite && writes === failAfter + 1) await method.apply(target, args);
        throw new Error(`simulated crash after ${failAfter} writes`);
      };
    },
  });
}

/** A new, initialized in-memory store (the user-backend model the migration tests copy with). */
export async function openStore(): Promise<InMemoryStorage> {
  const storage = new InMemoryStorage();
  await storage.initialize();
  return storage;
}

/** {@link openStore} holding {@link populate}'s data, its short-lived cache entry expired. */
export async function populatedSource(): Promise<InMemoryStorage> {
  const source = await openStore();
  await populate(source);
  await sleep(EXPIRY_WAIT_MS);
  return source;
}
