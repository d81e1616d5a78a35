/**
 * A FIFO (or any file whose `open` would wait) where a data file belongs is bad data, as a file
 * that does not parse is: a read of it is a `CorruptDataError` naming its path, listings and
 * stats skip it (stats list it under `corrupt_files`), and no read blocks. The synchronous
 * reads of listings and batches used to freeze the whole process in `open`, and the single
 * reads never settled; the reads run in a child process so such a freeze fails the test.
 */
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterAll(async () => {
  await shutdownAll();
  await removeTempDirs();
});

const CHILD = path.join('test', 'file', 'special-files.child.ts');
const TSX = path.join('node_modules', '.bin', 'tsx');

interface Line {
  op: string;
  value?: unknown;
  error?: string;
  message?: string;
}

/** The child's lines, up to the first it could not print in `timeoutMs` (a frozen read). */
function runChild(baseDir: string, timeoutMs: number): Promise<Line[]> {
  return new Promise((resolve) => {
    execFile(TSX, [CHILD, baseDir], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (_error, stdout) => {
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      resolve(lines.map((line) => JSON.parse(line) as Line));
    });
  });
}

const describeFifo = process.platform === 'win32' ? describe.skip : describe;

describeFifo('file backend: a FIFO in place of a data file', () => {
  it('is a CorruptDataError naming its path in every read; listings and stats skip it; nothing blocks', async () => {
    const storage = await openStore();
    const { baseDir } = storage;
    await storage.storeCacheEntry('kept', { n: 1 });
    await storage.storeSystemState('kept', { n: 2 });
    await storage.storeConversation('conv', { title: 't' });
    await storage.shutdown();
    const fifos = {
      cache: path.join(baseDir, 'cache', 'fifo.json'),
      system: path.join(baseDir, 'system', 'fifo.json'),
      memories: path.join(baseDir, 'conversations', 'conv', 'memories.json'),
    };
    execFileSync('mkfifo', Object.values(fifos));

    const lines = await runChild(baseDir, 30_000);
    const byOp = Object.fromEntries(lines.map((line) => [line.op, line]));
    const corrupt = (file: string) => ({
      error: 'CorruptDataError',
      message: expect.stringContaining(`${file}: is not a regular file`) as unknown,
    });
    expect(byOp).toEqual({
      loadCacheEntry: { op: 'loadCacheEntry', ...corrupt(fifos.cache) },
      loadCacheEntries: { op: 'loadCacheEntries', ...corrupt(fifos.cache) },
      'loadCacheEntries:others': { op: 'loadCacheEntries:others', value: [{ n: 1 }] },
      listCacheKeys: { op: 'listCacheKeys', value: ['kept'] },
      purgeExpiredCache: { op: 'purgeExpiredCache', value: 0 },
      loadSystemState: { op: 'loadSystemState', ...corrupt(fifos.system) },
      listSystemStateKeys: { op: 'listSystemStateKeys', value: ['kept'] },
      loadMemories: { op: 'loadMemories', ...corrupt(fifos.memories) },
      loadConversationBatch: { op: 'loadConversationBatch', ...corrupt(fifos.memories) },
      getStorageStats: {
        op: 'getStorageStats',
        value: ['cache/fifo.json', 'conversations/conv/memories.json', 'system/fifo.json'],
      },
    });
  });
});
