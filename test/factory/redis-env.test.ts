/** The factory builds a working Redis backend from the environment (real server). */
import { randomUUID } from 'node:crypto';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { createStorageFromEnv, getAvailableBackends } from '../../src/index.js';
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
    }
  });
});
