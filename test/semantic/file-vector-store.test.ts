/** The file vector store's own guarantees: its file layout, appends, crash leftovers, failed writes, damaged files. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptDataError, FileVectorStore, StorageError } from '../../src/index.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import { useTempDir } from '../support/temp-dir.js';
import { writerLockEntry } from '../../src/semantic/vector-stores/file/writer-lock.js';
import { dataFiles, randomVector, seededRandom } from './vector-fixtures.js';

const sig = { embedderId: 'test:v1', dimensions: 3, metric: 'cosine' } as const;

/** Size of one log frame holding these records of `sig` (header, type, count, strings, vectors). */
function frameBytes(...records: [string, string, string | null, string | null][]): number {
  const text = (value: string | null): number => 2 + (value === null ? 0 : Buffer.byteLength(value));
  return records.reduce((sum, record) => sum + record.map(text).reduce((a, b) => a + b, 0) + 3 * 4, 12 + 5);
}

describe('file vector store', () => {
  const base = useTempDir('connectome-file-vectors-');
  let store: FileVectorStore | undefined;
  /** FIFOs a test made: a read that waits in their `open` (the bug) is let go after the test. */
  const fifos: string[] = [];
  afterEach(async () => {
    for (const fifo of fifos.splice(0)) {
      try {
        fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      } catch {
        // ENXIO: no read waits for a writer.
      }
    }
    jest.restoreAllMocks();
    await store?.close();
    store = undefined;
  });

  async function filled(): Promise<FileVectorStore> {
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    await store.upsert([
      { id: 'a', vector: [1, 0, 0], kind: 'memory', conversationId: 'conv_1' },
      { id: 'b', vector: [0, 0.5, 0], kind: 'reasoning_chain', agentId: 'agent_1' },
    ]);
    return store;
  }

  test('lives in <baseDir>/.connectome-storage/vectors: a manifest, a snapshot (float32 + items) and a log', async () => {
    const opened = await filled();
    expect(opened.dir).toBe(join(base(), '.connectome-storage', 'vectors'));
    const names = (await readdir(opened.dir)).sort();
    // Beside the data files, the writer lock (held while the store is open).
    expect(names).toEqual(
      ['items-1.json', 'log-1.bin', 'manifest.json', 'vectors-1.f32', writerLockEntry()].sort(),
    );
    const manifest = JSON.parse(await readFile(join(opened.dir, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // The snapshot is the empty index ensureIndex() created; the upsert went to the log.
    expect(manifest).toEqual({
      format: 'connectome-vectors',
      version: 2,
      signature: sig,
      count: 0,
      generation: 1,
    });
    expect((await readFile(join(opened.dir, 'vectors-1.f32'))).byteLength).toBe(0);
    expect(JSON.parse(await readFile(join(opened.dir, 'items-1.json'), 'utf8'))).toEqual([]);
    const log = await readFile(join(opened.dir, 'log-1.bin'));
    expect(log.byteLength).toBe(
      frameBytes(['a', 'memory', null, 'conv_1'], ['b', 'reasoning_chain', 'agent_1', null]),
    );
    // The vectors are in the frame as float32, after the record's strings.
    expect(log.readFloatLE(log.byteLength - 8)).toBe(0.5);
  });

  test('one upsert appends one frame and leaves the snapshot alone, however large the index', async () => {
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex({ ...sig, dimensions: 64 });
    const random = seededRandom(5);
    const items = Array.from({ length: 3000 }, (_, i) => ({
      id: `m${i}`,
      vector: randomVector(random, 64),
      kind: 'memory',
    }));
    await store.upsert(items);
    await store.close();
    // Reopened after a compaction-free fill: the records are in log-1.bin.
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex({ ...sig, dimensions: 64 });
    const dir = store.dir;
    const before = await stat(join(dir, 'vectors-1.f32'));
    const logBefore = (await stat(join(dir, 'log-1.bin'))).size;
    await store.upsert([{ id: 'one-more', vector: randomVector(random, 64), kind: 'memory' }]);
    expect(await dataFiles(dir)).toEqual(['items-1.json', 'log-1.bin', 'manifest.json', 'vectors-1.f32']);
    const after = await stat(join(dir, 'vectors-1.f32'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect((await stat(join(dir, 'log-1.bin'))).size - logBefore).toBe(
      12 + 5 + 2 + 8 + 2 + 6 + 2 + 2 + 64 * 4,
    );
    expect(await store.count()).toBe(3001);
  });

  test('leftovers of a crashed write (an uncommitted generation, a dead temp file) are removed at open', async () => {
    const dir = (await filled()).dir;
    await store?.close();
    await writeFile(join(dir, 'vectors-2.f32'), Buffer.alloc(12));
    await writeFile(join(dir, 'items-2.json'), '[["ghost", "memory", null, null]]');
    await writeFile(join(dir, 'log-2.bin'), '');
    const temp = join(dir, tempEntryName('manifest.json'));
    await writeFile(temp, '{"half":');
    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(temp, old, old);
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    expect(await store.count()).toBe(2);
    expect((await store.query({ vector: [0, 1, 0], k: 5 })).map((m) => m.id)).toEqual(['b', 'a']);
    expect(await dataFiles(dir)).toEqual(['items-1.json', 'log-1.bin', 'manifest.json', 'vectors-1.f32']);
  });

  test('a write whose append fails halfway changes nothing, in memory or on disk, and the next write lands', async () => {
    const opened = await filled();
    const logPath = join(opened.dir, 'log-1.bin');
    const committed = (await stat(logPath)).size;
    const write = fs.write.bind(fs) as (...args: unknown[]) => void;
    jest.spyOn(fs, 'write').mockImplementationOnce(((...args: unknown[]) => {
      // A torn write: half the frame reaches the file, then the disk is full.
      const [fd, buffer, offset, length, position, callback] = args as [
        number,
        Uint8Array,
        number,
        number,
        number,
        (error: Error | null, written?: number) => void,
      ];
      write(fd, buffer, offset, Math.floor(length / 2), position, () =>
        callback(Object.assign(new Error('disk full'), { code: 'ENOSPC' })),
      );
    }) as never);
    const error = await opened
      .upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/disk full/);
    jest
      .spyOn(fs, 'fdatasync')
      .mockImplementationOnce(((_fd: number, callback: (error: Error) => void) =>
        callback(Object.assign(new Error('I/O error'), { code: 'EIO' }))) as never);
    await expect(opened.delete(['a'])).rejects.toThrow(/I\/O error/);
    jest.restoreAllMocks();
    expect((await stat(logPath)).size).toBe(committed);
    expect(await opened.count()).toBe(2);
    expect((await opened.query({ vector: [1, 0, 0], k: 1 })).map((m) => m.id)).toEqual(['a']);
    await opened.upsert([{ id: 'd', vector: [0, 0, 1], kind: 'memory' }]);
    await opened.close();
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    expect(await store.count()).toBe(3);
    expect((await store.query({ vector: [0, 0, 1], k: 1 })).map((m) => m.id)).toEqual(['d']);
  });

  test('damaged files are a CorruptDataError naming the file; reset() starts over', async () => {
    const dir = (await filled()).dir;
    await store?.close();
    await writeFile(join(dir, 'vectors-1.f32'), Buffer.alloc(10));
    store = new FileVectorStore({ baseDir: base() });
    const error = await store.ensureIndex(sig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('vectors-1.f32');
    await writeFile(join(dir, 'manifest.json'), '{ not json');
    await expect(store.ensureIndex(sig)).rejects.toBeInstanceOf(CorruptDataError);
    await store.reset(sig);
    expect(await store.count()).toBe(0);
    await store.upsert([{ id: 'new', vector: [1, 1, 1], kind: 'memory' }]);
    await store.close();
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    expect(await store.count()).toBe(1);
  });

  // An open of a FIFO waits for a writer: `readFile` never settled (and held a pool thread).
  (process.platform === 'win32' ? test.skip : test).each(['vectors-1.f32', 'log-1.bin'])(
    'a FIFO in place of %s is a CorruptDataError naming it, and no read waits for a writer',
    async (name) => {
      const dir = (await filled()).dir;
      await store?.close();
      const file = join(dir, name);
      fs.rmSync(file);
      execFileSync('mkfifo', [file]);
      fifos.push(file);
      store = new FileVectorStore({ baseDir: base() });
      const error = await store.ensureIndex(sig).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as Error).message).toBe(`Corrupt data at ${file}: is not a regular file`);
    },
  );
});
