/**
 * A test file's stores on a private `redis-server`: a plain client for the keys a test reads or
 * removes itself, a new key prefix per test, and every store a test opened shut down after it.
 */
import type Redis from 'ioredis';
import { RedisStorage, type RedisStorageConfig } from '../../src/backends/redis/index.js';
import { quickClient, usePrivateRedisServer, type RedisServerProcess } from './redis-server.js';

/** What {@link usePrivateStores} gives a test file. */
export interface PrivateStores {
  /** The private server. */
  server(): RedisServerProcess;
  /** A plain client on it. */
  raw(): Redis;
  /** This test's key prefix (`<stem><n>:`). */
  prefix(): string;
  /** Opens a store on the server under this test's prefix (unless `config` names another). */
  open(config?: Partial<RedisStorageConfig>): Promise<RedisStorage>;
  /** Shuts `storage` down after the test, for stores a test builds itself. */
  track(storage: RedisStorage): void;
}

/** Registers the hooks of {@link PrivateStores}; prefixes are `<stem>1:`, `<stem>2:`, … */
export function usePrivateStores(stem: string): PrivateStores {
  let raw: Redis | undefined;
  const opened: RedisStorage[] = [];
  const server = usePrivateRedisServer(async () => {
    raw?.disconnect();
  });
  let prefix = '';
  let run = 0;
  beforeAll(async () => {
    raw = quickClient(server().url);
    await raw.connect();
  });
  beforeEach(() => {
    run += 1;
    prefix = `${stem}${run}:`;
  });
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  return {
    server,
    raw: () => {
      if (!raw) throw new Error('private redis client used outside its tests');
      return raw;
    },
    prefix: () => prefix,
    open: async (config = {}) => {
      const storage = new RedisStorage({ url: server().url, keyPrefix: prefix, ...config });
      opened.push(storage);
      await storage.initialize();
      return storage;
    },
    track: (storage) => {
      opened.push(storage);
    },
  };
}
