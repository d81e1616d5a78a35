/**
 * Which masters a health probe of a cluster asks. ioredis drops a node whose connection closed
 * from its pool, and adds it back only at a slot refresh, which it makes when a call fails: so
 * the PINGs of the pool's masters all answered while a dead master's slots (every call of their
 * buckets) failed, and a master back at its address stayed out of the pool of an idle client.
 * The probe compares the pool with the slot owners the cluster names (`CLUSTER SLOTS`).
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisConnection } from './connection.js';

/** The masters to PING, and the slot owners (`host:port` → slot ranges) they should cover. */
export interface ClusterMasters {
  nodes: Redis[];
  owners: Map<string, string[]>;
}

const nodeName = (node: Redis): string => `${node.options.host}:${node.options.port}`;

async function slotOwners(redis: RedisConnection): Promise<Map<string, string[]>> {
  const ranges = await redis.run('read cluster slots', (c) => c.cluster('SLOTS'));
  const owners = new Map<string, string[]>();
  for (const [low, high, master] of ranges) {
    if (master === undefined) continue;
    const name = `${master[0]}:${master[1]}`;
    owners.set(name, [...(owners.get(name) ?? []), low === high ? `${low}` : `${low}-${high}`]);
  }
  return owners;
}

/**
 * The client's masters, after one slot refresh (bounded by the command timeout) when it has
 * fewer than the cluster's slot owners: the pool may only be behind.
 */
export async function clusterMasters(redis: RedisConnection): Promise<ClusterMasters> {
  const cluster = redis.client as Cluster;
  const owners = await slotOwners(redis);
  if (cluster.nodes('master').length < owners.size) {
    await redis.run(
      'refresh cluster slots',
      () => new Promise<void>((done) => cluster.refreshSlotsCache(() => done())),
    );
  }
  return { nodes: cluster.nodes('master'), owners };
}

/**
 * The slot owners the answering masters do not cover, as `host:port (slots a-b, ...)`. The count
 * decides (a NAT map may rename nodes); the names listed are the cluster's, those not answering.
 */
export function unreachedOwners({ nodes, owners }: ClusterMasters): string[] {
  if (nodes.length >= owners.size) return [];
  const reached = new Set(nodes.map(nodeName));
  return [...owners]
    .filter(([name]) => !reached.has(name))
    .map(([name, slots]) => `${name} (slots ${slots.join(', ')})`);
}

/** `node.ping()`, its failure naming the node (a cluster's master). */
export function pingNamed(node: Redis): Promise<string> {
  return node.ping().catch((error: Error) => {
    throw new Error(`master ${nodeName(node)}: ${error.message}`, { cause: error });
  });
}
