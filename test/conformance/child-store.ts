/**
 * How a child process of the multi-process and crash suites opens the store a harness's
 * {@link ChildStoreSpec} describes (one copy for both children).
 */
import type { Cluster } from 'ioredis';
import type { StorageInterface } from '../../src/core/index.js';
import type { ChildStoreSpec } from './harness.js';

/**
 * Opens and initializes the store `spec` describes, with `extra` config on top. A Redis Cluster
 * client it makes is pushed to `clients`, for the child to disconnect when it is done;
 * `beforeInitialize` runs once the backend is loaded, just before `initialize()` starts;
 * `whileInitializing` right after it started (its first synchronous steps done, its first I/O
 * pending).
 */
export async function openChildStore(
  spec: ChildStoreSpec,
  extra: Record<string, unknown> = {},
  clients: Cluster[] = [],
  beforeInitialize: () => void | Promise<void> = () => undefined,
  whileInitializing: () => void = () => undefined,
): Promise<StorageInterface> {
  const config = { ...spec.config, ...extra };
  // Only the backend in use is loaded: a child's start-up is most of its time.
  let storage: StorageInterface;
  if (spec.backend === 'file') {
    storage = new (await import('../../src/backends/file/index.js')).FileStorage(config);
  } else if (spec.backend === 'sqlite') {
    storage = new (await import('../../src/backends/sqlite/index.js')).SQLiteStorage(config);
  } else if (spec.backend === 'postgres') {
    storage = new (await import('../../src/backends/postgres/index.js')).PostgresStorage(config);
  } else {
    const { RedisStorage } = await import('../../src/backends/redis/index.js');
    if (spec.clusterNodes) {
      const client = new (await import('ioredis')).Cluster(spec.clusterNodes, { enableAutoPipelining: true });
      clients.push(client);
      storage = new RedisStorage({ ...config, client });
    } else storage = new RedisStorage(config);
  }
  await beforeInitialize();
  const opening = storage.initialize();
  whileInitializing();
  await opening;
  return storage;
}
