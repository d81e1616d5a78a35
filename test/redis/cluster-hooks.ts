/**
 * Jest hooks for the cluster test files: a 3-master cluster started before a file's tests and
 * stopped after them, and, for files whose tests each open stores, one client with a fresh key
 * prefix per test whose stores and keys are gone after it.
 */
import { Cluster, type ClusterOptions } from 'ioredis';
import { RedisStorage, type RedisStorageConfig } from '../../src/backends/redis/index.js';
import { uniqueTestPrefix } from '../conformance/harness-redis.js';
import { deleteKeysWithPrefix, RedisClusterProcesses } from './redis-server.js';

/** How {@link useRedisCluster} starts the cluster, and what runs before it stops. */
export interface RedisClusterHooks {
  /** Extra `redis-server` arguments of node `i` (masters 0..2, their replicas 3..5). */
  nodeArgs?: (i: number) => string[];
  /** Replicas per master. */
  replicas?: 0 | 1;
  /** Runs after the file's tests, before the nodes stop: closes the tests' stores and clients. */
  beforeStop?: () => Promise<void>;
}

/**
 * Registers hooks that start a 3-master cluster before the file's tests (60 s allowed) and
 * stop it after them, once `beforeStop` has run. Returns the nodes' processes.
 */
export function useRedisCluster(hooks: RedisClusterHooks = {}): RedisClusterProcesses {
  const processes = new RedisClusterProcesses(hooks.nodeArgs, hooks.replicas);
  beforeAll(async () => {
    await processes.start();
  }, 60_000);
  afterAll(async () => {
    await hooks.beforeStop?.();
    await processes.stop();
  });
  return processes;
}

/** A cluster, one client of it, and the current test's key prefix and stores. */
export interface ClusterStores {
  processes: RedisClusterProcesses;
  /** The file's client (made once the cluster is up). */
  client: () => Cluster;
  /** The current test's key prefix. */
  prefix: () => string;
  /** Opens (initializes) a store on the test's prefix, shut down after the test. */
  open: (config?: Partial<RedisStorageConfig>) => Promise<RedisStorage>;
}

/**
 * {@link useRedisCluster} with one client (`clientOptions` as ioredis takes them), a fresh prefix
 * per test, and after each test its opened stores shut down and its keys deleted on every master.
 */
export function useClusterStores(
  hooks: RedisClusterHooks & { clientOptions?: ClusterOptions } = {},
): ClusterStores {
  let client: Cluster | undefined;
  let prefix = '';
  const opened: RedisStorage[] = [];
  const processes = useRedisCluster({
    ...hooks,
    beforeStop: async () => {
      await hooks.beforeStop?.();
      client?.disconnect();
    },
  });
  const theClient = () => {
    if (!client) throw new Error('cluster client used outside its tests');
    return client;
  };
  beforeAll(() => {
    client = new Cluster(processes.nodes, hooks.clientOptions);
  });
  beforeEach(() => {
    prefix = uniqueTestPrefix();
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
    await deleteKeysWithPrefix(theClient(), prefix);
  });
  return {
    processes,
    client: theClient,
    prefix: () => prefix,
    open: async (config = {}) => {
      const storage = new RedisStorage({ client: theClient(), keyPrefix: prefix, ...config });
      opened.push(storage);
      await storage.initialize();
      return storage;
    },
  };
}
