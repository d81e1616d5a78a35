/** Shared set-up for the Redis backend tests: storages on a fresh key prefix, removed afterwards. */
import type Redis from 'ioredis';
import { RedisStorage, type RedisStorageConfig } from '../../src/backends/redis/index.js';
import { REDIS_TEST_URL, redisAvailable, uniqueTestPrefix } from '../conformance/harness-redis.js';
import { deleteKeysWithPrefix, quickClient, scanKeysWithPrefix } from './redis-server.js';

export { scanKeysWithPrefix as keysWithPrefix };

export { REDIS_TEST_URL };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a test file works with: storages on one fresh prefix, and a raw client to look inside. */
export interface RedisTestContext {
  prefix(): string;
  /** A raw ioredis client on the test server (no key prefix). */
  raw(): Redis;
  /** Opens and initializes a storage on the test prefix (shut down after the test). */
  open(config?: RedisStorageConfig): Promise<RedisStorage>;
}

/** Registers hooks: fails loudly when no server answers, gives each test a fresh prefix. */
export function useRedisStore(): RedisTestContext {
  let prefix = '';
  let raw: Redis | undefined;
  const opened: RedisStorage[] = [];

  beforeAll(async () => {
    const availability = await redisAvailable();
    if (availability !== true) throw new Error(`redis tests need a server: ${availability}`);
    raw = quickClient(REDIS_TEST_URL);
    await raw.connect();
  });

  beforeEach(() => {
    prefix = uniqueTestPrefix();
  });

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
    if (raw) await deleteKeysWithPrefix(raw, prefix);
  });

  afterAll(() => {
    raw?.disconnect();
  });

  return {
    prefix: () => prefix,
    raw() {
      if (!raw) throw new Error('raw client used outside a test');
      return raw;
    },
    async open(config: RedisStorageConfig = {}) {
      const storage = new RedisStorage({ url: REDIS_TEST_URL, keyPrefix: prefix, ...config });
      opened.push(storage);
      await storage.initialize();
      return storage;
    },
  };
}

/** CRC16-XMODEM key slot, as Redis Cluster computes it (hash tag rule included). */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf('{');
  if (open !== -1) {
    const close = bytes.indexOf('}', open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
