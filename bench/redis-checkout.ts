/**
 * A checkout's Redis write scripts and the helpers that build their arguments, loaded from its
 * sources, for the benchmarks that send those scripts raw and compare checkouts
 * (`redis-w7-script-ab.ts`, `redis-w7-instructions.ts`).
 */
import { join, resolve } from 'node:path';

/** What those benchmarks need of a checkout. */
export interface RedisCheckout {
  createStorage(
    backend: 'redis',
    options: object,
  ): {
    initialize(): Promise<void>;
    shutdown(): Promise<void>;
    storeMemories(c: string, ms: Array<{ memoryId: string; data: object }>): Promise<void>;
    search(query: { text: string; match: 'any' | 'all' }): Promise<unknown[]>;
  };
  KeyLayout: new (prefix: string) => {
    conversation(id: string): {
      memories: string;
      memoryData: string;
      memoryCreated: string;
      bucket: { conversationIds: string; counters: string };
    };
    agent(id: string): {
      chains: string;
      chainAppends: string;
      agent: string;
      bucket: { agents: string; counters: string };
    };
  };
  UPSERT_MEMORY: { sha: string; lua: string };
  /** In chains.ts since 2026-11-30 (missing from older checkouts). */
  APPEND_CHAINS?: { sha: string; lua: string };
  searchOwner(id: string): string;
  searchSpec(extractor: unknown, kind: 'memories' | 'reasoning_chains', record: object): string;
  TextExtractor: new (fields: object) => unknown;
}

/** Loads the checkout at `root` (its `src`, through tsx). */
export async function loadRedisCheckout(root: string): Promise<RedisCheckout> {
  const from = (file: string): Promise<object> => import(join(resolve(root), 'src', file)) as Promise<object>;
  const parts = await Promise.all([
    from('index.js'),
    from('backends/redis/keys.js'),
    from('backends/redis/scripts.js'),
    from('backends/redis/search-lua.js'),
    // Since 2026-12-02 `UPSERT_MEMORY` lives in memory-scripts and `searchOwner` and
    // `searchSpec` in search-writer; older checkouts have them in scripts and search-lua.
    from('backends/redis/memory-scripts.js').catch(() => ({})),
    from('backends/redis/search-writer.js').catch(() => ({})),
    from('backends/redis/chains.js').catch(() => ({})),
    from('core/index.js'),
  ]);
  return Object.assign({}, ...parts) as RedisCheckout;
}
