/**
 * Conformance harnesses for RedisStorage.
 *
 * - `redisHarness`: the server at `CONNECTOME_STORAGE_REDIS_URL` (default
 *   `redis://127.0.0.1:6379`); each store gets its own key prefix
 *   (`connectome-test:<pid>-<random>:`), and cleanup deletes that prefix's keys (SCAN + UNLINK).
 * - `redisClusterHarness`: a 3-master Redis Cluster this harness starts itself on free loopback
 *   ports the first time it is needed in a test file, and stops after that file (afterAll, plus
 *   a kill on process exit). Storages get an ioredis `Cluster` as `client`; the harness closes
 *   those clients in cleanup, since a storage never closes a client it was given.
 */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Cluster, type Redis } from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { redactUrl } from '../../src/core/index.js';
import {
  deleteKeysWithPrefix,
  quickClient,
  redisBinariesMissing,
  RedisClusterProcesses,
  scanKeysWithPrefix,
} from '../redis/redis-server.js';
import { type BackendHarness, BROKEN_JSON } from './harness.js';

/**
 * Acts as if `ms` passed on the server for these cache entries: one whose remaining TTL is at
 * most `ms` is expired now (PEXPIREAT in the past removes it, as the server's own expiry
 * would); a longer one keeps its TTL minus `ms`.
 */
async function passServerTime(client: Redis | Cluster, keyPrefix: string, ms: number, cacheKeys: string[]) {
  const layout = new KeyLayout(keyPrefix);
  for (const cacheKey of cacheKeys) {
    const key = layout.cache(cacheKey).key;
    const remaining = await client.pttl(key);
    if (remaining < 0) continue; // no such key (-2) or no expiry (-1)
    if (remaining <= ms) await client.pexpireat(key, 1);
    else await client.pexpire(key, remaining - ms);
  }
}

export const REDIS_TEST_URL = process.env.CONNECTOME_STORAGE_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other store or test run uses. */
export function uniqueTestPrefix(): string {
  return `connectome-test:${process.pid}-${randomBytes(6).toString('hex')}:`;
}

/** `true` when the server answers PING within about a second, else the reason. */
export async function redisAvailable(url: string = REDIS_TEST_URL): Promise<true | string> {
  const client = quickClient(url);
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? true : 'no PONG';
  } catch (error) {
    return `no Redis server answers at ${url}: ${(error as Error).message}`;
  } finally {
    client.disconnect();
  }
}

/**
 * Counts the TCP client sockets this process opens from now on that are still open (the
 * `net.client.socket` diagnostics channel reports every socket `net.connect` creates).
 */
function trackNewSockets(): { count(): number; stop(): void } {
  const open = new Set<Socket>();
  const onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };
  subscribe('net.client.socket', onSocket);
  return { count: () => open.size, stop: () => void unsubscribe('net.client.socket', onSocket) };
}

export const redisHarness: BackendHarness = {
  name: 'redis',
  breaksRecords: true,
  breaksOneRecord: true,
  service: 'redis',
  sharedStore: true,
  available: () => redisAvailable(),
  async createStore() {
    const keyPrefix = uniqueTestPrefix();
    // Only the store's instances open sockets until cleanup.
    const sockets = trackNewSockets();
    return {
      async open(extraConfig = {}) {
        // commandTimeout as the cluster client's below: the suite tests behaviour, not timeouts.
        const storage = new RedisStorage({
          url: REDIS_TEST_URL,
          keyPrefix,
          commandTimeout: 30_000,
          ...extraConfig,
        });
        await storage.initialize();
        return storage;
      },
      async exists() {
        const client = quickClient(REDIS_TEST_URL);
        try {
          return (await scanKeysWithPrefix(client, keyPrefix)).length > 0;
        } finally {
          client.disconnect();
        }
      },
      openConnections: async () => sockets.count(),
      shownAs: [redactUrl(REDIS_TEST_URL), JSON.stringify(keyPrefix)],
      childSpec: { backend: 'redis', config: { url: REDIS_TEST_URL, keyPrefix } },
      async breakRecords(kind, owner, record) {
        const client = quickClient(REDIS_TEST_URL);
        try {
          const layout = new KeyLayout(keyPrefix);
          if (kind === 'memories') {
            const key = layout.conversation(owner).memoryData;
            const fields = record === undefined ? await client.hkeys(key) : [String(record)];
            for (const field of fields) await client.hset(key, field, BROKEN_JSON);
            return;
          }
          const key = kind === 'raw_messages' ? layout.conversation(owner).raw : layout.agent(owner).chains;
          const length = await client.llen(key);
          for (let i = 0; i < length; i += 1)
            if (record === undefined || record === i) await client.lset(key, i, BROKEN_JSON);
        } finally {
          client.disconnect();
        }
      },
      async cleanup() {
        sockets.stop();
        const client = quickClient(REDIS_TEST_URL);
        try {
          await deleteKeysWithPrefix(client, keyPrefix);
        } finally {
          client.disconnect();
        }
      },
      async passServerTime(ms, cacheKeys) {
        const client = quickClient(REDIS_TEST_URL);
        try {
          await passServerTime(client, keyPrefix, ms, cacheKeys);
        } finally {
          client.disconnect();
        }
      },
    };
  },
};

// ----- Redis Cluster -----------------------------------------------------------------------

let cluster: Promise<RedisClusterProcesses> | undefined;

async function startCluster(): Promise<RedisClusterProcesses> {
  const processes = new RedisClusterProcesses();
  try {
    await processes.start();
  } catch (error) {
    await processes.stop();
    throw error;
  }
  return processes;
}

if (typeof afterAll === 'function') {
  afterAll(async () => {
    const started = cluster;
    cluster = undefined;
    if (started) await (await started.catch(() => undefined))?.stop();
  });
}

function clusterClient(processes: RedisClusterProcesses): Cluster {
  return new Cluster(processes.nodes, {
    enableAutoPipelining: true,
    // Above the longest script the suite runs under CI load (the 120,000-message replace took
    // over 5 s at load 12): a timed-out script still runs and answers every later test BUSY.
    redisOptions: { commandTimeout: 30_000, maxRetriesPerRequest: 2 },
  });
}

export const redisClusterHarness: BackendHarness = {
  name: 'redis cluster (3 masters)',
  service: 'redis',
  givenClient: true,
  sharedStore: true,
  async available() {
    const missing = await redisBinariesMissing();
    if (missing) return missing;
    cluster ??= startCluster();
    try {
      await cluster;
      return true;
    } catch (error) {
      return `could not start a Redis Cluster: ${(error as Error).message}`;
    }
  },
  async createStore() {
    if (!cluster) throw new Error('redis cluster harness: available() was not called');
    const processes = await cluster;
    const keyPrefix = uniqueTestPrefix();
    const clients: Cluster[] = [];
    return {
      childSpec: { backend: 'redis', config: { keyPrefix }, clusterNodes: processes.nodes },
      shownAs: ['given ioredis Cluster', JSON.stringify(keyPrefix)],
      async open(extraConfig = {}) {
        const client = clusterClient(processes);
        clients.push(client);
        const storage = new RedisStorage({ client, keyPrefix, ...extraConfig });
        await storage.initialize();
        return storage;
      },
      async exists() {
        const admin = clusterClient(processes);
        try {
          await admin.ping();
          const perMaster = await Promise.all(
            admin.nodes('master').map((node) => scanKeysWithPrefix(node, keyPrefix)),
          );
          return perMaster.some((keys) => keys.length > 0);
        } finally {
          admin.disconnect();
        }
      },
      async cleanup() {
        const admin = clusterClient(processes);
        try {
          await admin.ping();
          await deleteKeysWithPrefix(admin, keyPrefix);
        } finally {
          admin.disconnect();
          for (const client of clients.splice(0)) client.disconnect();
        }
      },
      async passServerTime(ms, cacheKeys) {
        const admin = clusterClient(processes);
        try {
          await passServerTime(admin, keyPrefix, ms, cacheKeys);
        } finally {
          admin.disconnect();
        }
      },
    };
  },
};
