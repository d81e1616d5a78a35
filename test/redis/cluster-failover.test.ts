/**
 * A store on a cluster whose masters fail over, with the same instance throughout: a manual
 * `CLUSTER FAILOVER` and a killed master. Writes are replicated (`WAIT`) before each change, so
 * nothing may be missing after it; the scripts reach the new master by SHA, which it has not
 * seen (NOSCRIPT, then the source). No timer decides an outcome: the test waits for the new
 * master, and a call raced with the kill may land or fail typed, but whole.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { uniqueTestPrefix } from '../conformance/harness-redis.js';
import { describeWithService } from '../services.js';
import { useRedisCluster } from './cluster-hooks.js';
import { REDIS_CLI, waitFor } from './redis-server.js';

const run = promisify(execFile);
const ids = Array.from({ length: 24 }, (_, i) => `conv-${i}`);

interface ClusterNode {
  id: string;
  port: number;
  master: boolean;
  /** The master's id, for a replica. */
  of: string;
  slots: string[];
}

async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const { stdout } = await run(REDIS_CLI, ['-p', String(port), 'cluster', 'nodes']);
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, of, , , , , ...slots] = line.split(' ');
      const port = Number(address!.split('@')[0]!.split(':')[1]);
      return { id: id!, port, master: flags!.includes('master'), of: of!, slots };
    });
}

describeWithService('redis')('redis on a cluster whose masters fail over', () => {
  let client: Cluster | undefined;
  let store: RedisStorage | undefined;
  let layout: KeyLayout | undefined;
  const processes = useRedisCluster({
    nodeArgs: () => ['--cluster-node-timeout', '2000'],
    replicas: 1,
    beforeStop: async () => {
      await store?.close();
      client?.disconnect();
    },
  });

  beforeAll(async () => {
    client = new Cluster(processes.nodes);
    const keyPrefix = uniqueTestPrefix();
    layout = new KeyLayout(keyPrefix);
    store = new RedisStorage({ client, keyPrefix });
    await store.initialize();
    for (const id of ids) {
      await store.storeConversation(id, { title: id });
      await store.storeRawMessages(id, [{ role: 'user', content: `hello ${id}` }]);
      await store.storeMemory(id, 'm1', { text: `memory of ${id}` });
      await store.appendReasoningChains(`agent-${id}`, [{ step: 1 }, { step: 2 }]);
    }
  }, 60_000);

  /** The master holding `id`'s conversation and its replica, once every write reached the replica. */
  const replicatedPair = async (id: string) => {
    const slot = Number(await client!.cluster('KEYSLOT', layout!.conversation(id).raw));
    const ranges = await client!.cluster('SLOTS');
    const port = ranges.find(([low, high]) => slot >= low && slot <= high)![2]![1];
    let nodes = await clusterNodes(port);
    const master = nodes.find((node) => node.port === port)!;
    // A master demoted by the failover before is listed as a replica once the cluster agrees.
    await waitFor(`a replica of ${port}`, async () => {
      nodes = await clusterNodes(port);
      return nodes.some((node) => node.of === master.id);
    });
    const replica = nodes.find((node) => node.of === master.id)!;
    const direct = new Redis(master.port, '127.0.0.1');
    try {
      expect(await direct.wait(1, 10_000)).toBe(1);
    } finally {
      direct.disconnect();
    }
    return { master, replica };
  };

  const becomesMaster = (replica: ClusterNode, ms = 30_000) =>
    waitFor(
      `${replica.port} as master`,
      async () => {
        const nodes = await clusterNodes(replica.port);
        const info = await run(REDIS_CLI, ['-p', String(replica.port), 'cluster', 'info']);
        return (
          nodes.find((node) => node.id === replica.id)!.master && info.stdout.includes('cluster_state:ok')
        );
      },
      ms,
    );

  /**
   * A manual `CLUSTER FAILOVER` to `replica`, asked again when an attempt lapses: Redis drops a
   * manual failover the pair has not completed within 5 s (`CLUSTER_MF_TIMEOUT`), which a
   * machine loaded by the rest of the suite can miss (CI, 2026-12-06: never master in 30 s).
   */
  const failOverTo = async (replica: ClusterNode): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      // An attempt that completed late makes the next one an error reply ("not a replica").
      await run(REDIS_CLI, ['-p', String(replica.port), 'cluster', 'failover']).catch(() => undefined);
      try {
        await becomesMaster(replica, 10_000);
        return;
      } catch (error) {
        if (attempt === 4) throw error;
      }
    }
  };

  /** Every record stored before (and `extra` memories), loaded and counted. */
  const expectAll = async (extra: string[] = []) => {
    for (const id of ids) {
      expect(await store!.loadConversation(id)).toEqual({ title: id });
      expect(await store!.loadRawMessages(id)).toEqual([{ role: 'user', content: `hello ${id}` }]);
      const memories = (await store!.loadMemories(id)).map((m) => m.memory_id);
      expect(memories).toEqual(extra.includes(id) ? ['m1', 'm2'] : ['m1']);
      const chains = await store!.loadSequencedReasoningChains(`agent-${id}`);
      expect(chains.map((c) => c.sequence)).toEqual([0, 1]);
    }
    expect(await store!.getStorageStats()).toMatchObject({
      conversation_count: ids.length,
      raw_message_count: ids.length,
      memory_count: ids.length + extra.length,
      reasoning_chain_count: ids.length * 2,
    });
    expect(await store!.listConversations()).toEqual([...ids].sort());
  };

  it('a manual CLUSTER FAILOVER: the same instance reads everything and writes on the new master', async () => {
    const { replica } = await replicatedPair('conv-0');
    await failOverTo(replica);
    await expectAll();
    await store!.storeMemory('conv-0', 'm2', { text: 'after the failover okapi' });
    const hits = await store!.search({ text: 'okapi', kinds: ['memories'] });
    expect(hits.map((hit) => hit.kind === 'memories' && hit.memoryId)).toEqual(['m2']);
    await expectAll(['conv-0']);
  });

  it('a killed master: a raced write lands whole or fails typed; writes work again after the takeover', async () => {
    const { master, replica } = await replicatedPair('conv-1');
    await processes.servers.find((server) => server.port === master.port)!.stop();
    const raced = await store!.storeMemory('conv-1', 'm2', { text: 'raced with the kill' }).then(
      () => null,
      (error: unknown) => error as Error,
    );
    if (raced !== null) {
      expect(raced).toBeInstanceOf(BackendUnavailableError);
      expect(raced.message).toContain('"conv-1"');
    }
    await becomesMaster(replica);
    // Whole or absent: a memory id once in the list, with its record, counted once.
    const landed = (await store!.loadMemories('conv-1')).some((m) => m.memory_id === 'm2');
    if (!landed) await store!.storeMemory('conv-1', 'm2', { text: 'raced with the kill' });
    await expectAll(['conv-0', 'conv-1']);
    expect((await store!.healthCheck()).status).toBe('healthy');
  });
});
