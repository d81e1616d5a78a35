/** The file backend's `logger`: crash leftovers and stale locks recovered at start-up are reported. */
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { StoreLayout } from '../../src/backends/file/layout.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import type { StorageLogger } from '../../src/core/index.js';
import { recordingLogger } from '../support/recording-logger.js';
import { useTempDir } from '../support/temp-dir.js';
import { markCrashedWriter } from './helpers.js';

/** An hour ago: past every "abandoned" and "stale" age. */
const longAgo = () => new Date(Date.now() - 60 * 60 * 1000);

/** Creates a store, writes one conversation and leaves what a writer killed mid-write leaves. */
async function storeWithCrashLeftovers(baseDir: string): Promise<{ leftover: string; staleLock: string }> {
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  await storage.storeConversation('conv_1', { title: 'kept' });
  await storage.shutdown();
  await markCrashedWriter(baseDir);
  const layout = new StoreLayout(baseDir);
  const folder = path.join(layout.conversationsDir, 'conv_1');
  // A temp file written before the rename that never came (see temp-files.ts).
  const leftover = path.join(folder, tempEntryName('conversation.json'));
  await writeFile(leftover, '{"title": "half');
  await utimes(leftover, longAgo(), longAgo());
  // A lock folder whose owner died: never refreshed since.
  const staleLock = path.join(layout.locksDir, `${'a'.repeat(32)}.lock`);
  await mkdir(staleLock, { recursive: true });
  await utimes(staleLock, longAgo(), longAgo());
  return { leftover: folder, staleLock };
}

describe('file backend logger', () => {
  const tempDir = useTempDir('connectome-file-logger-');

  it('reports crash leftovers and a stale lock taken over at start-up', async () => {
    const { leftover, staleLock } = await storeWithCrashLeftovers(tempDir());
    const { logger, events } = recordingLogger();
    await using storage = new FileStorage({ baseDir: tempDir(), logger });
    await storage.initialize();
    expect(events).toEqual(
      expect.arrayContaining([
        {
          level: 'warn',
          message: expect.stringContaining('leftovers of a crashed writer'),
          details: { folder: leftover, removed: 1 },
        },
        {
          level: 'warn',
          message: expect.stringContaining('stale lock'),
          details: { lock: staleLock },
        },
      ]),
    );
    expect(events).toHaveLength(2);
    expect(await storage.loadConversation('conv_1')).toEqual({ title: 'kept' });
  });

  it('is silent on a clean start', async () => {
    const { logger, events } = recordingLogger();
    await using storage = new FileStorage({ baseDir: tempDir(), logger });
    await storage.initialize();
    await storage.storeConversation('conv_1', { title: 'x' });
    expect(events).toEqual([]);
  });

  it('a logger that throws breaks nothing', async () => {
    await storeWithCrashLeftovers(tempDir());
    const boom = () => {
      throw new Error('logger broke');
    };
    const logger: StorageLogger = { debug: boom, info: boom, warn: boom, error: boom };
    await using storage = new FileStorage({ baseDir: tempDir(), logger });
    await expect(storage.initialize()).resolves.toBe(true);
    expect(await storage.loadConversation('conv_1')).toEqual({ title: 'kept' });
  });
});
