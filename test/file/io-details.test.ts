/**
 * Log and health details of the file backend on real file-system faults: the `error` of a
 * search index segment that could not be removed, and of a `disk_usage` that cannot be read,
 * is the code, the system's words and the call, with no "Error:" pasted in and no path (the
 * entry names its file or folder in its own field); so is the logged refusal of byte-range
 * locks, whose native errors come from Node's realm.
 */
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import fne from 'fs-native-extensions';
import type { FileStorage } from '../../src/backends/file/index.js';
import { recordingLogger } from '../support/recording-logger.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterEach(() => jest.restoreAllMocks());
afterAll(removeTempDirs);

/** Waits for the segments `s` still has to write (a write queues its segment for the background). */
async function flushed(s: FileStorage): Promise<void> {
  await (s as unknown as { textIndex: { flush(): Promise<void> } | null }).textIndex?.flush();
}

describe('file backend log and health details from failed file-system calls', () => {
  it('a search index segment that cannot be removed (EISDIR) logs the segment, then code and words', async () => {
    const { logger, events } = recordingLogger();
    const store = await openStore({ logger });
    await store.storeMemory('c1', 'm1', { text: 'hello world' });
    await flushed(store);
    const dir = path.join(store.baseDir, '.connectome-storage', 'search', 'memories');
    const [name] = fs.readdirSync(dir);
    const segment = path.join(dir, name as string);
    // A folder where the segment file was: its unlink fails with EISDIR.
    fs.rmSync(segment);
    fs.mkdirSync(path.join(segment, 'inside'), { recursive: true });

    await store.deleteConversation('c1');
    await flushed(store);

    const failed = events.filter((event) => event.message.includes('search index segment'));
    expect(failed).toEqual([
      {
        level: 'warn',
        message: 'file storage: could not remove a search index segment; the next search rebuilds it',
        details: { file: segment, error: 'EISDIR, illegal operation on a directory (unlink)' },
      },
    ]);
  });

  it('a disk_usage that cannot be read (base folder gone: ENOENT) reports code and words only', async () => {
    const store = await openStore();
    fs.rmSync(store.baseDir, { recursive: true });
    const report = await store.healthCheck();
    expect(report.base_directory).toBe(store.baseDir);
    expect(report.disk_usage).toEqual({ error: 'ENOENT, no such file or directory (statfs)' });
  });

  it('byte-range locks refused with an error of another realm log its code and words, no "Error:"', async () => {
    const { logger, events } = recordingLogger();
    const store = await openStore({ logger }, { lockKind: 'range' });
    // The native module throws errors made in Node's realm, which fail `instanceof Error` here
    // (no file system at hand refuses range locks: the refusal is the module's answer).
    const refusal = Object.assign(vm.runInNewContext('new Error("no locks available")') as object, {
      code: 'ENOLCK',
    });
    const refused = jest.spyOn(fne, 'tryLock').mockImplementation(() => {
      throw refusal;
    });
    await store.storeMemory('c1', 'm1', { n: 1 });
    expect(refused).toHaveBeenCalledTimes(1);
    expect(await store.loadMemories('c1')).toHaveLength(1);
    const logged = events.filter((event) => event.message.includes('byte-range locks unavailable'));
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'warn',
        details: {
          locks: path.join(store.baseDir, '.connectome-storage', 'locks'),
          error: 'ENOLCK, no locks available',
        },
      }),
    ]);
  });
});
