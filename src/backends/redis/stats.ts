/**
 * Health and stats of the Redis backend. Stats add up the counters that the write scripts keep
 * per bucket (one small script per bucket, O(buckets) whatever the number of records).
 */
import type { Redis } from 'ioredis';
import { type HealthProbe, type JsonValue, type StatsSnapshot } from '../../core/index.js';
import type { RedisConnection } from './connection.js';
import type { BucketKeys, KeyLayout } from './keys.js';
import { BUCKET_STATS } from './cache-scripts.js';
import { evictionWarning } from './eviction.js';
import { clusterMasters, pingNamed, unreachedOwners } from './cluster-health.js';
import { nameWrongType, type TypedKey } from './wrong-types.js';

/** Counter fields of a bucket (see `keys.ts`), as the scripts name them. */
const COUNTERS = [
  'conversations',
  'raw_messages',
  'memories',
  'chunk_infos',
  'chains',
  'agents',
  'states',
  'bytes',
];

/** A counter's value as the write scripts keep it (`guard` in `scripts.ts` refuses any other). */
const INTEGER = /^-?\d+$/;

/** The keys the stats script of `bucket` reads, with their types. */
const bucketStatsKeys = (bucket: BucketKeys): TypedKey[] => [
  [bucket.counters, 'hash'],
  [bucket.cacheExpiry, 'zset'],
];

/** Counts of everything stored under the store's prefix (live cache entries at `nowMs`). */
export async function collectRedisStats(
  redis: RedisConnection,
  keys: KeyLayout,
  nowMs: number,
): Promise<StatsSnapshot> {
  const totals = new Map<string, number>(COUNTERS.map((name) => [name, 0]));
  let cacheEntries = 0;
  const replies = await Promise.all(
    keys.buckets.map((bucket) =>
      (
        redis.script(
          'read bucket stats',
          BUCKET_STATS,
          [bucket.counters, bucket.cacheExpiry],
          [nowMs],
        ) as Promise<[string[], number]>
      ).catch((error: unknown) =>
        // The server's WRONGTYPE names no key: asked once the script failed, so a good bucket pays no check.
        nameWrongType(redis, 'read bucket stats', bucketStatsKeys(bucket), error),
      ),
    ),
  );
  for (const [n, [flat, liveCache]] of replies.entries()) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i] as string;
      const value = flat[i + 1] as string;
      // As the write scripts' guard: a count that is not an integer would be NaN in the stats.
      if (!INTEGER.test(value)) {
        const counters = keys.buckets[n]!.counters;
        throw redis.corrupt('read bucket stats', `${counters} field ${name} is not an integer`);
      }
      totals.set(name, (totals.get(name) ?? 0) + Number(value));
    }
    cacheEntries += liveCache;
  }
  const total = (name: string) => totals.get(name) ?? 0;
  return {
    counts: {
      conversation_count: total('conversations'),
      raw_message_count: total('raw_messages'),
      memory_count: total('memories'),
      chunk_info_count: total('chunk_infos'),
      reasoning_chain_count: total('chains'),
      agent_count: total('agents'),
      cache_entry_count: cacheEntries,
      system_state_count: total('states'),
      // Payload bytes (JSON text) of everything but the cache, whose values Redis expires by itself.
      total_bytes: total('bytes'),
    },
    extra: {
      key_prefix: keys.prefix,
      redis_url: redis.label,
      redis_mode: redis.isCluster ? 'cluster' : 'standalone',
      layout_version: 2,
      bucket_count: keys.bucketCount,
      // Records in the native search index (their docs), as the write scripts count them.
      search_index_entries: total('search_docs'),
    },
  };
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

/**
 * '' (no fields) when the server denies `INFO` (an ACL's `NOPERM`, as managed servers may set):
 * the PING still tells whether it answers. (Before, such a store was never healthy.)
 */
function unlessDenied(error: unknown): string {
  if (error instanceof Error && /\bNOPERM\b/.test(error.message)) return '';
  throw error;
}

/** PING latency, server version, memory and eviction policy; on a cluster, of every master. */
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
    const masters = redis.isCluster ? await clusterMasters(redis) : undefined;
    const nodes: Array<Redis | typeof client> = masters?.nodes ?? [client];
    const started = performance.now();
    const ping = (node: Redis | typeof client) => (masters ? pingNamed(node as Redis) : node.ping());
    const pongs = await Promise.all(nodes.map((node) => redis.run('ping', () => ping(node))));
    details.ping_ms = Math.round((performance.now() - started) * 1000) / 1000;
    const infos = await Promise.all(
      nodes.map((node) => redis.run('read server info', () => node.info()).catch(unlessDenied)),
    ).then((texts) => texts.map(parseInfo));
    details.redis_version = infos[0]?.get('redis_version') ?? null;
    const memory = infos.flatMap((info) => info.get('used_memory') ?? []);
    details.used_memory_bytes =
      memory.length > 0 ? memory.reduce((sum, used) => sum + Number(used), 0) : null;
    details.used_memory_human = infos[0]?.get('used_memory_human') ?? null;
    // Still healthy under an evicting policy (it works now), but said, with why (eviction.ts).
    const policies = [...new Set(infos.flatMap((info) => info.get('maxmemory_policy') ?? []))];
    details.maxmemory_policy = policies.length > 0 ? policies.join(',') : null;
    const warnings = policies.flatMap((policy) => evictionWarning(policy) ?? []);
    if (warnings.length > 0) details.warnings = warnings;
    let healthy = pongs.every((pong) => pong === 'PONG');
    if (redis.isCluster) {
      const info = parseInfo(await redis.run('read cluster info', (c) => c.cluster('INFO')));
      details.cluster_state = info.get('cluster_state') ?? null;
      details.master_count = nodes.length;
      healthy &&= details.cluster_state === 'ok';
      const unreached = unreachedOwners(masters!);
      if (unreached.length > 0) {
        details.unreached_masters = unreached;
        return { healthy: false, error: `masters not connected: ${unreached.join('; ')}`, details };
      }
    }
    return healthy ? { healthy, details } : { healthy, error: 'server did not answer as expected', details };
  } catch (error) {
    return { healthy: false, error: (error as Error).message, details };
  }
}
