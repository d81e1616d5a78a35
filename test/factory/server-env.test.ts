/** The factory builds working Redis and PostgreSQL backends from the environment (real servers). */
import { randomUUID } from 'node:crypto';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { createStorageFromEnv, getAvailableBackends } from '../../src/index.js';
import { deleteKeysWithPrefix, quickClient } from '../redis/redis-server.js';
import { describeWithService } from '../services.js';

const REDIS_URL = process.env.CONNECTOME_STORAGE_REDIS_URL ?? 'redis://127.0.0.1:6379';

describeWithService('redis')('redis from the environment', () => {
  it('is listed and builds a RedisStorage on the configured prefix', async () => {
    expect(getAvailableBackends().redis).toMatch(/Redis/);
    const prefix = `connectome-factory-test:${randomUUID()}:`;
    const storage = createStorageFromEnv({
      CONNECTOME_STORAGE_TYPE: 'redis',
      CONNECTOME_STORAGE_REDIS_URL: REDIS_URL,
      CONNECTOME_STORAGE_REDIS_PREFIX: prefix,
      CONNECTOME_STORAGE_BASE_DIR: '/ignored/for/redis',
    });
    expect(storage).toBeInstanceOf(RedisStorage);
    await storage.initialize();
    try {
      await storage.storeConversation('conv-1', { title: 'from env ü' });
      expect(await storage.loadConversation('conv-1')).toEqual({ title: 'from env ü' });
      await storage.deleteConversation('conv-1');
      expect(await storage.listAllConversationIds()).toEqual([]);
    } finally {
      await storage.shutdown();
      const raw = quickClient(REDIS_URL);
      await raw.connect();
      await deleteKeysWithPrefix(raw, prefix);
      raw.disconnect();
    }
  });
});

const POSTGRES_URL =
  process.env.CONNECTOME_STORAGE_POSTGRES_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';

describeWithService('postgres')('postgres from the environment', () => {
  it('is listed and builds a PostgresStorage in the configured schema', async () => {
    expect(getAvailableBackends().postgres).toMatch(/PostgreSQL/);
    const schema = `connectome_factory_${process.pid}_${Date.now()}`;
    const storage = createStorageFromEnv({
      CONNECTOME_STORAGE_TYPE: 'postgres',
      CONNECTOME_STORAGE_POSTGRES_URL: POSTGRES_URL,
      CONNECTOME_STORAGE_POSTGRES_SCHEMA: schema,
    });
    expect(storage).toBeInstanceOf(PostgresStorage);
    await storage.initialize();
    try {
      await storage.storeConversation('conv-1', { title: 'from env ü' });
      expect(await storage.loadConversation('conv-1')).toEqual({ title: 'from env ü' });
      expect((await storage.healthCheck()).schema).toBe(schema);
    } finally {
      await storage.shutdown();
      const { Client } = (await import('pg')).default;
      const client = new Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  });
});
