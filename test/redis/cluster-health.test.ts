/**
 * `healthCheck()` on a cluster with a master down. ioredis drops a node whose connection closed
 * from its pool, so the PINGs of the masters it still has all answered, and the cluster says
 * `ok` until its node timeout: the store reported `healthy` while every call of a third of its
 * buckets failed, and, once the master was back, an idle client left it out until a call of its
 * slots failed. It now refreshes the slots when its pool lacks a slot owner and PINGs them all.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { uniqueTestPrefix } from '../conformance/harness-redis.js';
import { describeWithService } from '../services.js';
import { useRedisCluster } from './cluster-hooks.js';
import { REDIS_CLI, waitFor } from './redis-server.js';

const run = promisify(execFile);

describeWithService('redis')('redis healthCheck on a cluster with a master down', () => {
  // A long node timeout: the cluster itself says `ok` for the whole test.
  let client: Cluster | undefined;
  let store: RedisStorage | undefined;
  const processes = useRedisCluster({
    nodeArgs: () => ['--cluster-node-timeout', '120000'],
    beforeStop: async () => {
      await store?.close();
      client?.disconnect();
    },
  });

  it('is unhealthy, naming the master and its slots, until it is back', async () => {
    client = new Cluster(processes.nodes);
    store = new RedisStorage({ client, keyPrefix: uniqueTestPrefix() });
    await store.initialize();
    expect(await store.healthCheck()).toMatchObject({ status: 'healthy' });
    const down = processes.servers[0]!;
    await down.stop();
    // Once the client has dropped it, no PING of the pool's masters reaches it.
    await waitFor('the client to drop the master', async () => client!.nodes('master').length === 2);
    const report = await store.healthCheck();
    expect(report.status).toBe('unhealthy');
    expect(report.error).toContain(`127.0.0.1:${down.port}`);
    await down.start();
    // Back at its address: the next check reaches it (no call of its slots needed first).
    for (const server of processes.servers) {
      await waitFor(`cluster_state:ok on ${server.port}`, async () => {
        const { stdout } = await run(REDIS_CLI, ['-p', String(server.port), 'cluster', 'info']);
        return stdout.includes('cluster_state:ok');
      });
    }
    const again = await store.healthCheck();
    expect(again).toMatchObject({ status: 'healthy', master_count: 3 });
  });
});
