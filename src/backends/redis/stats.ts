/**
 * Health and stats of the Redis backend. Stats come from the index sets plus one small script
 * per indexed item (never a scan of the keyspace); entries whose data is gone are not counted.
 */
import type { Redis } from 'ioredis';
import type { HealthProbe, JsonValue, StatsSnapshot } from '../../core/index.js';
import { CACHE_HEAD_BYTES, isLiveCacheHead } from './codec.js';
import type { RedisConnection } from './connection.js';
import { mapIndexEntries, readIndex } from './index-sets.js';
import { conversationKeyList, type KeyLayout } from './keys.js';
import { CONVERSATION_STATS, ITEM_STATS } from './scripts.js';

type Reply = Array<number | string | null>;

/** Total of the bytes column (last) of script replies; `null` when MEMORY USAGE was refused (-1). */
function totalBytes(replies: Reply[]): number | null {
  const used = replies.map((reply) => reply.at(-1));
  if (!used.every((n) => typeof n === 'number' && n >= 0)) return null;
  return (used as number[]).reduce((total, n) => total + n, 0);
}

/** Counts of everything stored under the store's prefix (live cache entries at `nowMs`). */
export async function collectRedisStats(
  redis: RedisConnection,
  keys: KeyLayout,
  nowMs: number,
): Promise<StatsSnapshot> {
  const index = keys.index;
  const [withConversation, conversationIds, agents, cacheKeys, stateKeys] = await Promise.all([
    readIndex(redis, index.conversations),
    readIndex(redis, index.conversationIds),
    readIndex(redis, index.agents),
    readIndex(redis, index.cacheKeys),
    readIndex(redis, index.stateKeys),
  ]);
  const item = (what: string, itemKeys: string[], mode: string) =>
    redis.script(`stats of ${what}`, ITEM_STATS, itemKeys, [mode]) as Promise<Reply>;
  // Sums one column of the replies, each value mapped through `count`.
  const sum = (replies: Reply[], column: number, count: (value: unknown) => number = Number) =>
    replies.reduce((total, reply) => total + count(reply[column]), 0);

  const listed = new Set(withConversation);
  const ids = [...new Set([...withConversation, ...conversationIds])];
  const conversations = await mapIndexEntries(ids, (id) => conversationStats(redis, keys, id));
  const chains = await mapIndexEntries(agents, (id) => {
    const k = keys.agent(id);
    return item(`agent ${JSON.stringify(id)}`, [k.chains, k.chainAppends], 'list');
  });
  const cache = await mapIndexEntries(cacheKeys, (cacheKey) =>
    item(`cache entry ${JSON.stringify(cacheKey)}`, [keys.cache(cacheKey)], String(CACHE_HEAD_BYTES)),
  );
  const states = await mapIndexEntries(stateKeys, (stateKey) =>
    item(`system state ${JSON.stringify(stateKey)}`, [keys.state(stateKey)], 'string'),
  );
  const indexSets = await item('index', Object.values(index), 'string');

  return {
    counts: {
      conversation_count: conversations.filter((r, i) => r[0] === 1 && listed.has(ids[i] ?? '')).length,
      raw_message_count: sum(conversations, 1),
      memory_count: sum(conversations, 2),
      chunk_info_count: sum(conversations, 3),
      reasoning_chain_count: sum(chains, 0),
      agent_count: sum(chains, 0, (n) => (Number(n) > 0 ? 1 : 0)),
      cache_entry_count: sum(cache, 0, (head) => (isLiveCacheHead(String(head ?? ''), nowMs) ? 1 : 0)),
      system_state_count: sum(states, 0),
      total_bytes: totalBytes([...conversations, ...chains, ...cache, ...states, indexSets]),
    },
    extra: {
      key_prefix: keys.prefix,
      redis_url: redis.label,
      redis_mode: redis.isCluster ? 'cluster' : 'standalone',
    },
  };
}

function conversationStats(redis: RedisConnection, keys: KeyLayout, id: string): Promise<Reply> {
  const list = conversationKeyList(keys.conversation(id));
  return redis.script(
    `stats of conversation ${JSON.stringify(id)}`,
    CONVERSATION_STATS,
    list,
    [],
  ) as Promise<Reply>;
}

/** `INFO` text as a map of `field: value`. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/** PING latency, server version and memory; on a cluster, of every master. */
export async function probeRedisHealth(redis: RedisConnection, keys: KeyLayout): Promise<HealthProbe> {
  const client = redis.client;
  const details: Record<string, JsonValue> = {
    redis_url: redis.label,
    key_prefix: keys.prefix,
    redis_mode: redis.isCluster ? 'cluster' : 'standalone',
    connection_status: client.status,
  };
  if (client.status !== 'ready' && client.status !== 'wait') {
    const reason = redis.lastError ? `: ${redis.lastError}` : '';
    return { healthy: false, error: `not connected (${client.status})${reason}`, details };
  }
  try {
    const nodes: Array<Redis | typeof client> = redis.isCluster
      ? (client as import('ioredis').Cluster).nodes('master')
      : [client];
    const started = performance.now();
    const pongs = await Promise.all(nodes.map((node) => redis.run('ping', () => node.ping())));
    details.ping_ms = Math.round((performance.now() - started) * 1000) / 1000;
    const infos = await Promise.all(
      nodes.map((node) => redis.run('read server info', () => node.info())),
    ).then((texts) => texts.map(parseInfo));
    details.redis_version = infos[0]?.get('redis_version') ?? null;
    details.used_memory_bytes = infos.reduce((sum, info) => sum + Number(info.get('used_memory') ?? 0), 0);
    details.used_memory_human = infos[0]?.get('used_memory_human') ?? null;
    let healthy = pongs.every((pong) => pong === 'PONG');
    if (redis.isCluster) {
      const info = parseInfo(await redis.run('read cluster info', (c) => c.cluster('INFO')));
      details.cluster_state = info.get('cluster_state') ?? null;
      details.master_count = nodes.length;
      healthy &&= details.cluster_state === 'ok';
    }
    return healthy ? { healthy, details } : { healthy, error: 'server did not answer as expected', details };
  } catch (error) {
    return { healthy: false, error: (error as Error).message, details };
  }
}
