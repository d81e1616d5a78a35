/**
 * The eviction cases of `evicted-layout.test.ts`, `evicted-memories.test.ts` and
 * `evicted-agent.test.ts` on a 3-master cluster: the layout checks at open run one `EXISTS` per
 * key, each routed to the master of its slot, and a conversation's keys share a slot, so its
 * scripts run where its data lives.
 */
import Redis from 'ioredis';
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useClusterStores } from './cluster-hooks.js';
import { scanKeysWithPrefix } from './redis-server.js';
import { writeV1Store } from './v1-store.js';

describeWithService('redis')('redis eviction cases on a cluster', () => {
  const ctx = useClusterStores();
  const cluster = ctx.client;
  const open = (readOnly = false) => ctx.open({ readOnly });
  /** Every key under the prefix, over all three masters. */
  const allKeys = async () => {
    const perNode = await Promise.all(
      ctx.processes.servers.map(async (server) => {
        const node = new Redis(server.port, '127.0.0.1');
        try {
          return await scanKeysWithPrefix(node, ctx.prefix());
        } finally {
          node.disconnect();
        }
      }),
    );
    return perNode.flat().sort();
  };

  it('opens a v2 store without its layout key read-only (writing nothing) and writable', async () => {
    const store = new KeyLayout(ctx.prefix()).store;
    const writer = await open();
    await writer.storeConversation('c', { v: 1 });
    await writer.storeMemory('c', 'm', { note: 'n' });
    expect(await cluster().del(store.layout)).toBe(1);
    const before = await allKeys();
    const readOnly = await open(true);
    expect(await readOnly.loadConversation('c')).toEqual({ v: 1 });
    expect((await readOnly.getStorageStats()).conversation_count).toBe(1);
    expect(await allKeys()).toEqual(before);
    // With the bucket count gone too, a bucket's counters hash (on whichever master) tells it.
    expect(await cluster().del(store.buckets)).toBe(1);
    const again = await open();
    expect((await again.loadMemories('c')).map((m) => m.note)).toEqual(['n']);
    expect([await cluster().get(store.layout), await cluster().get(store.buckets)]).toEqual(['2', '64']);
  });

  it('refuses a v1 store without its layout key, leaving it as it was', async () => {
    await writeV1Store(cluster(), ctx.prefix());
    expect(await cluster().del(new KeyLayout(ctx.prefix()).store.layout)).toBe(1);
    const before = await allKeys();
    await expect(open(true)).rejects.toBeInstanceOf(CorruptDataError);
    expect(await allKeys()).toEqual(before);
  });

  it('loads, re-stores, deletes and counts memories whose data hash was evicted', async () => {
    const keys = new KeyLayout(ctx.prefix()).conversation('c');
    const storage = await open();
    await storage.storeMemory('c', 'm1', { note: 'one' });
    await storage.storeMemory('c', 'm2', { note: 'two' });
    await storage.storeMemory('other', 'm', { note: 'three' });
    expect(await cluster().del(keys.memoryData)).toBe(1);
    expect(await storage.loadMemories('c')).toEqual([]);
    expect(await storage.loadMemories('c', { offset: 0, limit: 1 })).toEqual([]);
    expect(await storage.storeMemory('c', 'm2', { note: 'again' })).toBe(true);
    expect((await storage.loadMemories('c')).map((m) => [m.memory_id, m.note])).toEqual([['m2', 'again']]);
    expect(await cluster().lrange(keys.memories, 0, -1)).toEqual(['m2']);
    expect((await storage.getStorageStats()).memory_count).toBe(2);
    expect(await storage.deleteMemory('c', 'm2')).toBe(true);
    expect((await storage.getStorageStats()).memory_count).toBe(1);
  });

  it('loads, re-lists and deletes memories whose id list and created_at hash were evicted', async () => {
    const keys = new KeyLayout(ctx.prefix()).conversation('c');
    const storage = await open();
    await storage.storeMemory('c', 'm2', { note: 'two', created_at: '2026-01-01T00:00:02Z' });
    await storage.storeMemory('c', 'm1', { note: 'one', created_at: '2026-01-01T00:00:01Z' });
    await storage.storeMemory('c', 'm2', { note: 'two again' });
    expect(await cluster().del(keys.memories, keys.memoryCreated)).toBe(2);
    const loaded = (await storage.loadMemories('c')).map((m) => [m.memory_id, m.created_at]);
    expect(loaded).toEqual([
      ['m1', '2026-01-01T00:00:01Z'],
      ['m2', '2026-01-01T00:00:02Z'],
    ]);
    expect((await storage.loadMemories('c', { offset: 1 })).map((m) => m.note)).toEqual(['two again']);
    await storage.storeMemory('c', 'm3', { note: 'three' });
    expect(await cluster().lrange(keys.memories, 0, -1)).toEqual(['m1', 'm2', 'm3']);
    await cluster().del(keys.memories);
    expect(await storage.deleteMemory('c', 'm1')).toBe(true);
    expect(await cluster().lrange(keys.memories, 0, -1)).toEqual(['m2', 'm3']);
    expect((await storage.getStorageStats()).memory_count).toBe(2);
    expect(await storage.listAllConversationIds()).toEqual(['c']);
  });

  it('numbers on from the surviving chains of an agent whose hash was evicted', async () => {
    // The recovery scans the agent's bucket's search docs, a key of the agent's slot.
    const agentHash = new KeyLayout(ctx.prefix()).agent('agent').agent;
    const storage = await open();
    for (const word of ['alpha', 'bravo', 'charlie', 'delta'])
      await storage.storeReasoningChain('agent', { steps: [`think ${word}`] });
    expect(await storage.trimReasoningChains('agent', 2)).toBe(2);
    expect(await cluster().del(agentHash)).toBe(1);
    const sequences = async (reader: RedisStorage) =>
      (await reader.loadSequencedReasoningChains('agent')).map(({ sequence }) => sequence);
    expect(await sequences(await open(true))).toEqual([2, 3]);
    expect(await cluster().exists(agentHash)).toBe(0);
    await storage.appendReasoningChains('agent', [{ steps: ['think echo'] }]);
    expect(await sequences(storage)).toEqual([2, 3, 4]);
    expect(await cluster().hget(agentHash, 'next')).toBe('5');
    const hits = await storage.search({ text: 'delta', kinds: ['reasoning_chains'] });
    expect(hits.map((hit) => (hit.kind === 'reasoning_chains' ? hit.sequence : -1))).toEqual([3]);
  });
});
