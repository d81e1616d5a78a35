/** A Redis store written in the v1 key layout, for upgrade tests. */
import type { Cluster, Redis } from 'ioredis';
import type { RedisStorage } from '../../src/backends/redis/index.js';

/** Writes a small store exactly as the v1 layout did (see git history of keys.ts). */
export async function writeV1Store(raw: Redis | Cluster, p: string): Promise<void> {
  const c = (id: string, kind: string) => `${p}{c:${id}}:${kind}`;
  const conversation = { title: 'hello', n: 1 };
  await raw.set(`${p}{index}:layout`, '1');
  await raw.set(c('c1', 'conversation'), JSON.stringify(conversation));
  await raw.hset(
    c('c1', 'raw'),
    'messages',
    JSON.stringify([{ role: 'user', text: 'hi' }, 'two', 3]),
    'count',
    3,
  );
  await raw.set(c('c1', 'chunks'), JSON.stringify({ chunks: [1, 2] }));
  await raw.rpush(c('c1', 'memories'), 'm2', 'm1');
  await raw.hset(
    c('c1', 'memory-data'),
    'm1',
    JSON.stringify({ memory_id: 'm1', created_at: 'x' }),
    'm2',
    JSON.stringify({ memory_id: 'm2' }),
  );
  await raw.hset(
    c('c1', 'memory-created'),
    'm1',
    JSON.stringify('2024-01-01T00:00:00'),
    'm2',
    JSON.stringify('2024-01-02T00:00:00'),
  );
  // An id with braces and %: escaped in v1 too; only raw messages stored.
  await raw.hset(c('x%7By%7D%25', 'raw'), 'messages', JSON.stringify([]), 'count', 0);
  await raw.sadd(`${p}{index}:conversations`, 'c1');
  await raw.sadd(`${p}{index}:conversation-ids`, 'c1', 'x{y}%', 'ghost');
  await raw.rpush(
    `${p}{a:a1}:chains`,
    JSON.stringify({ n: 1, stored_at: '2024-01-01T00:00:00.000000+00:00' }),
    JSON.stringify({ n: 2, stored_at: '2024-01-02T00:00:00.000000+00:00' }),
    JSON.stringify({ n: 3, stored_at: '2024-01-03T00:00:00.000000+00:00' }),
  );
  await raw.zadd(`${p}{a:a1}:chain-appends`, 1, 'token');
  await raw.sadd(`${p}{index}:agents`, 'a1');
  const cache = (data: object, expiresAt: string | null) =>
    JSON.stringify({ expiresAt, storedAt: '2024-01-01T00:00:00', data });
  await raw.set(
    `${p}{k:k1}:cache`,
    cache({ v: 1 }, new Date(Date.now() + 60_000).toISOString()),
    'PX',
    60_000,
  );
  await raw.set(`${p}{k:forever}:cache`, cache({ v: 2 }, null));
  await raw.sadd(`${p}{index}:cache-keys`, 'k1', 'forever', 'expired-long-ago');
  await raw.set(`${p}{s:s1}:state`, JSON.stringify({ on: true }));
  await raw.sadd(`${p}{index}:state-keys`, 's1');
}

/** Asserts that a storage shows exactly the v1 fixture of {@link writeV1Store}, upgraded. */
export async function expectV1Fixture(s: RedisStorage): Promise<void> {
  expect(await s.listConversations()).toEqual(['c1']);
  // x{y}% holds only an empty raw list in v1: no stored data, so it is not listed (as on SQLite).
  expect(await s.listAllConversationIds()).toEqual(['c1']);
  expect(await s.loadConversation('c1')).toEqual({ title: 'hello', n: 1 });
  expect(await s.loadRawMessages('c1')).toEqual([{ role: 'user', text: 'hi' }, 'two', 3]);
  expect(await s.loadRawMessages('x{y}%')).toEqual([]);
  expect(await s.loadChunkInfo('c1')).toEqual({ chunks: [1, 2] });
  expect(await s.loadMemories('c1')).toEqual([
    { memory_id: 'm2', created_at: '2024-01-02T00:00:00' },
    { memory_id: 'm1', created_at: '2024-01-01T00:00:00' },
  ]);
  expect(await s.loadReasoningChains('a1')).toMatchObject([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect(await s.listAgents()).toEqual(['a1']);
  expect(await s.listCacheKeys()).toEqual(['forever', 'k1']);
  expect(await s.loadCacheEntry('k1')).toEqual({ v: 1 });
  expect(await s.listSystemStateKeys()).toEqual(['s1']);
  expect(await s.getStorageStats()).toMatchObject({
    conversation_count: 1,
    raw_message_count: 3,
    memory_count: 2,
    chunk_info_count: 1,
    reasoning_chain_count: 3,
    agent_count: 1,
    cache_entry_count: 2,
    system_state_count: 1,
  });
}
