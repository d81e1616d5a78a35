/**
 * Where fs-native-extensions cannot load (no native build for the platform), the file backend
 * still loads and writes, with lock folders, and says so once.
 */
import lockfile from 'proper-lockfile';
import { recordingLogger } from '../support/recording-logger.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

jest.mock('fs-native-extensions', () => {
  throw new Error('no native build for this platform');
});

afterAll(async () => {
  await shutdownAll();
  await removeTempDirs();
});

it('uses lock folders, logged once, when byte-range locking cannot be loaded', async () => {
  const { logger, events } = recordingLogger();
  const storage = await openStore({ logger }, { lockKind: 'range' });
  const folders = jest.spyOn(lockfile, 'lock');
  await Promise.all([storage.storeMemory('c1', 'm0', { n: 0 }), storage.storeCacheEntry('k', { n: 1 })]);
  await storage.storeReasoningChain('a1', { n: 2 });
  expect(folders).toHaveBeenCalledTimes(3);
  expect(await storage.loadMemories('c1')).toHaveLength(1);
  expect(await storage.loadCacheEntry('k')).toEqual({ n: 1 });
  expect(events.filter((event) => event.message.includes('byte-range locks unavailable'))).toEqual([
    expect.objectContaining({
      level: 'warn',
      details: expect.objectContaining({ error: 'no native build for this platform' }),
    }),
  ]);
});
