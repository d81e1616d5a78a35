/**
 * ACL users limited to the store's prefix on a Redis Cluster: the grants README lists (`+@all
 * -@dangerous`, or the data categories with `+time +cluster|slots +cluster|info`) open a store,
 * run its calls and report it healthy. The users are configured at each node's start.
 */
import { Cluster } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { describeWithService } from '../services.js';
import { useRedisCluster } from './cluster-hooks.js';

const USERS: Record<string, string[]> = {
  wide: ['+@all', '-@dangerous'],
  narrow: ['+@read', '+@write', '+@scripting', '+@connection', '+time', '+cluster|slots', '+cluster|info'],
};
const PREFIX = 'aclc:';

describeWithService('redis')('redis ACL users on a cluster', () => {
  const clients: Cluster[] = [];
  const stores: RedisStorage[] = [];
  const processes = useRedisCluster({
    nodeArgs: () =>
      Object.entries(USERS).flatMap(([name, rules]) => [
        '--user',
        name,
        'on',
        '>pw',
        `~${PREFIX}*`,
        ...rules,
      ]),
    beforeStop: async () => {
      for (const store of stores) await store.close();
      for (const client of clients) client.disconnect();
    },
  });

  it.each(Object.keys(USERS))('user %s opens, writes, reads, searches and is healthy', async (user) => {
    // Without INFO (denied), each node's ready check would print "Skipping the ready check" on
    // the console at each connect: README asks a given client's owner to turn it off.
    const warn = jest.spyOn(console, 'warn');
    const redisOptions = { username: user, password: 'pw', enableReadyCheck: false };
    const client = new Cluster(processes.nodes, { redisOptions });
    clients.push(client);
    const store = new RedisStorage({ client, keyPrefix: `${PREFIX}${user}:` });
    stores.push(store);
    await store.initialize();
    for (let i = 0; i < 8; i += 1) {
      await store.storeConversation(`c${i}`, { title: `hello ${i}` });
      await store.storeMemory(`c${i}`, 'm', { content: `fact ${i}` });
      await store.storeReasoningChain(`agent${i}`, { step: 'think' });
      await store.storeCacheEntry(`k${i}`, { v: i }, 3600);
    }
    expect(await store.listConversations()).toHaveLength(8);
    expect(await store.search({ text: 'fact' })).toHaveLength(8);
    expect((await store.getStorageStats()).conversation_count).toBe(8);
    expect(await store.purgeExpiredCache()).toBe(0);
    expect(await store.deleteConversation('c0')).toBe(true);
    const health = await store.healthCheck();
    // INFO is @dangerous, denied to both: the user really is limited.
    expect(health).toMatchObject({ status: 'healthy', redis_mode: 'cluster', redis_version: null });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });
});
