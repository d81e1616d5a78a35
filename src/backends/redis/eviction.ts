/**
 * The server's `maxmemory-policy`, read at `initialize()` and by the health check: under any
 * policy but `noeviction` Redis may delete this store's keys when memory runs out, and the
 * store cannot tell (an evicted index zset or counters hash reads as empty, and the next write
 * starts it again from zero), so it warns instead.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisConnection } from './connection.js';

/** The only policy under which Redis never evicts a key. */
export const SAFE_EVICTION_POLICY = 'noeviction';

/**
 * What `policy` may do to this store, or null when it evicts nothing. `volatile-*` policies
 * evict only keys with an expiry: here cache values (`PX`) and chain-append token sets.
 */
export function evictionWarning(policy: string): string | null {
  if (policy === SAFE_EVICTION_POLICY) return null;
  const fix = `set maxmemory-policy to ${SAFE_EVICTION_POLICY} (and maxmemory high enough)`;
  if (policy.startsWith('volatile-')) {
    return (
      `maxmemory-policy is ${policy}: under memory pressure Redis may evict cache entries before ` +
      `they expire (still listed and counted until purgeExpiredCache()) and chain-append tokens ` +
      `(a resent append may then land twice); ${fix}`
    );
  }
  return (
    `maxmemory-policy is ${policy}: under memory pressure Redis may evict any key of this store, ` +
    `its index zsets and counters included, after which listings and stats miss records and ` +
    `counters restart from zero; ${fix}`
  );
}

/** The `maxmemory_policy` field of `INFO` text, or null. */
export function policyInInfo(text: string): string | null {
  const match = /^maxmemory_policy:(\S+)/m.exec(text);
  return match?.[1] ?? null;
}

/**
 * The policy of one node: `CONFIG GET`, else (managed servers rename or forbid `CONFIG`)
 * `INFO memory`; null when neither answers.
 */
async function readNodePolicy(redis: RedisConnection, node: Redis | Cluster): Promise<string | null> {
  try {
    const reply = await redis.run('read maxmemory-policy', () => node.config('GET', 'maxmemory-policy'));
    // A server that hides the parameter answers an empty list: ask INFO then.
    const value = Array.isArray(reply) ? reply[1] : undefined;
    if (typeof value === 'string' && value !== '') return value;
  } catch {
    // CONFIG renamed, disabled or denied by an ACL: INFO below.
  }
  try {
    return policyInInfo(await redis.run('read server memory info', () => node.info('memory')));
  } catch {
    return null;
  }
}

/**
 * The distinct `maxmemory-policy` values of the server (of every master on a cluster) that
 * could be read; empty when none could.
 */
export async function readEvictionPolicies(redis: RedisConnection): Promise<string[]> {
  const client = redis.client;
  const nodes: Array<Redis | Cluster> = redis.isCluster ? (client as Cluster).nodes('master') : [client];
  const policies = await Promise.all(nodes.map((node) => readNodePolicy(redis, node)));
  return [...new Set(policies.filter((policy): policy is string => policy !== null))];
}
