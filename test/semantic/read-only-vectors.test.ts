/**
 * Read-only opens of vector stores: a read-only file vector store takes no writer lock, so it
 * opens beside a writer (another instance or process), follows what the writer appends (a
 * half-written last frame is ignored), writes nothing and refuses writes; a read-only storage
 * opens its vector store that way.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  createEmbedder,
  FileStorage,
  FileVectorStore,
  ReadOnlyError,
  type SearchHit,
  type StorageInterface,
} from '../../src/index.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import * as files from '../../src/semantic/vector-stores/file/files.js';
import { encodeUpsert } from '../../src/semantic/vector-stores/file/log.js';
import { useTempDir } from '../support/temp-dir.js';
import { dataFiles, signatureOf } from './vector-fixtures.js';

const sig = signatureOf(3);
const CHILD = join('test', 'semantic', 'vector-writer.child.ts');
const readOnly = { readOnly: true };
/** A read-only store cannot reset(): its mismatch says so (until 2026-12-04 it advised reset()). */
const READ_ONLY_MISMATCH = /never mixed\. A read-only open cannot reset\(\) it: read it with /;

describe('read-only file vector store', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  // Registered before the temp dir's removal, which jest runs after it: closed first.
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  const base = useTempDir('connectome-vector-ro-');

  function make(): FileVectorStore {
    const store = new FileVectorStore({ baseDir: base() });
    opened.push(store);
    return store;
  }

  test('opens beside the writer, follows its writes and refuses its own', async () => {
    const writer = make();
    await writer.ensureIndex(sig);
    await writer.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    expect(await reader.count()).toBe(1);

    await writer.upsert([{ id: 'b', vector: [0, 1, 0], kind: 'memory', conversationId: 'c1' }]);
    await writer.delete(['a']);
    expect(await reader.query({ vector: [0, 1, 0], k: 5 })).toEqual([
      expect.objectContaining({ id: 'b', score: expect.closeTo(1, 5) as number }),
    ]);

    for (const refused of [
      reader.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }]),
      reader.delete(['b']),
      reader.reset(sig),
      reader.ensureIndex(sig),
    ]) {
      await expect(refused).rejects.toBeInstanceOf(ReadOnlyError);
      await expect(refused).rejects.toThrow(/open read-only: \w+\(\) refused, nothing was written/);
    }
    // A writer's reset (a new generation) is followed too; one for another embedder is refused.
    await writer.reset(sig);
    expect(await reader.count()).toBe(0);
    await writer.upsert([{ id: 'd', vector: [0, 0, 1], kind: 'memory' }]);
    expect(await reader.count()).toBe(1);
    await writer.reset(signatureOf(3, 'cosine', 'other:v2'));
    await expect(reader.count()).rejects.toBeInstanceOf(ConfigError);
    await expect(reader.count()).rejects.toThrow(READ_ONLY_MISMATCH);
  });

  test('follows the writer through compactions that run while it reads', async () => {
    const writer = make();
    await writer.ensureIndex(sig);
    const items = Array.from({ length: 100 }, (_, i) => ({
      id: `item_${i}`,
      vector: [1, i + 1, 0],
      kind: 'memory',
    }));
    await writer.upsert(items);
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    // Each rewrite of the same 100 records adds 100 dead ones: a compaction every 10 writes.
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 40; i += 1) await writer.upsert(items);
      writing = false;
    })();
    const counts: number[] = [];
    while (writing) counts.push(await reader.count());
    await writes;
    expect(new Set(counts)).toEqual(new Set([100]));
    expect(await dataFiles(writer.dir)).toEqual([
      'items-5.json',
      'log-5.bin',
      'manifest.json',
      'vectors-5.f32',
    ]);
    expect(await reader.count()).toBe(100);
  });

  test('a read that raced the writer replacing the generation is retried on the new one', async () => {
    const writer = make();
    await writer.ensureIndex(sig);
    await writer.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    const stale = await files.readManifest(writer.dir);
    await writer.reset(sig);
    await writer.upsert([{ id: 'b', vector: [0, 1, 0], kind: 'memory' }]);
    await writer.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }]);
    // The manifest as read just before the writer's switch: it names generation 1, now removed.
    const spy = jest.spyOn(files, 'readManifest').mockResolvedValueOnce(stale);
    try {
      expect(await reader.count()).toBe(2);
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
  });

  test('a half-written last frame is not read yet, and is no corruption', async () => {
    const writer = make();
    await writer.ensureIndex(sig);
    await writer.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    const log = join(writer.dir, 'log-1.bin');
    const committed = (await stat(log)).size;
    // What a reader sees while the writer's append is under way: the start of its frame.
    const frame = encodeUpsert(
      [{ id: 'b', kind: 'memory', agentId: null, conversationId: null, vector: Float32Array.of(0, 1, 0) }],
      3,
    );
    await appendFile(log, frame.subarray(0, 20));
    expect(await reader.count()).toBe(1);
    await appendFile(log, frame.subarray(20));
    expect(await reader.count()).toBe(2);
    // A fresh read-only open of the torn log reads it too, and cuts nothing.
    await truncate(log, committed + 20);
    const another = make();
    await another.ensureIndex(sig, readOnly);
    expect(await another.count()).toBe(1);
    expect((await stat(log)).size).toBe(committed + 20);
  });

  test('an empty folder stays empty; an index a writer makes later is found', async () => {
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    expect(await reader.count()).toBe(0);
    expect(await reader.query({ vector: [1, 0, 0], k: 3 })).toEqual([]);
    expect(existsSync(reader.dir)).toBe(false);
    const writer = make();
    await writer.ensureIndex(sig);
    await writer.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    expect(await reader.count()).toBe(1);
    expect(await dataFiles(writer.dir)).toEqual([
      'items-1.json',
      'log-1.bin',
      'manifest.json',
      'vectors-1.f32',
    ]);
  });

  test('reads beside a writer in another process, seeing its batches grow', async () => {
    const dir = base();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      });
      const reader = make();
      await reader.ensureIndex(signatureOf(32), readOnly);
      const counts: number[] = [];
      const query = { vector: Float32Array.from({ length: 32 }, (_, d) => d + 1), k: 5 };
      // At least 40 reads, and on until a batch committed after the first read shows (while the
      // writer lives): a writer starved on a loaded machine may commit none within 40 reads.
      const notGrownYet = () => counts.at(-1) === counts[0] && child.exitCode === null;
      for (let i = 0; i < 40 || notGrownYet(); i += 1) {
        counts.push(await reader.count());
        expect(await reader.query(query)).toHaveLength(5);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Whole batches of 10 only, never fewer than before, and more by the end.
      expect(counts.every((count, i) => count % 10 === 0 && count >= (counts[i - 1] ?? 0))).toBe(true);
      expect(counts[counts.length - 1]).toBeGreaterThan(counts[0]!);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});

describe('read-only storage with file vectors', () => {
  const opened: StorageInterface[] = [];
  // Shut down before the temp dir is removed (jest runs afterEach hooks in the order they were
  // registered): an open store still adds entries under .connectome-storage meanwhile, and the
  // removal then fails with ENOTEMPTY.
  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
  });
  const base = useTempDir('connectome-storage-ro-');

  function make(options: { readOnly?: boolean; vectorStore?: FileVectorStore } = {}): FileStorage {
    const storage = new FileStorage({
      baseDir: base(),
      readOnly: options.readOnly ?? false,
      semantic: {
        embedder: createEmbedder('hashing'),
        vectorStore: options.vectorStore ?? new FileVectorStore({ baseDir: base() }),
      },
    });
    opened.push(storage);
    return storage;
  }

  const ids = (hits: SearchHit[]): string[] =>
    hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : '?'));

  test('searches beside an open writer and sees its new records; its writes are refused', async () => {
    const writer = make();
    await writer.initialize();
    await writer.storeMemory('c1', 'm1', { summary: 'Steps to recover a forgotten password' });
    const reader = make({ readOnly: true });
    await reader.initialize();
    const query = { text: 'reset my password', mode: 'vector' as const };
    expect(ids(await reader.search(query))).toEqual(['m1']);
    await writer.storeMemory('c1', 'm2', { summary: 'password rules for new accounts' });
    expect(ids(await reader.search({ ...query, mode: 'hybrid' })).sort()).toEqual(['m1', 'm2']);
    await expect(reader.storeMemory('c1', 'm3', { summary: 'x' })).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(reader.reindex()).rejects.toBeInstanceOf(ReadOnlyError);
  });
});

describe('read-only sqlite-vec store', () => {
  const opened: SqliteVecStore[] = [];
  // Closed before the temp dir is removed.
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });
  const base = useTempDir('connectome-sqlite-vec-ro-');

  function make(): SqliteVecStore {
    const store = new SqliteVecStore({ path: join(base(), 'v', 'vectors.db'), connectionTimeout: 5 });
    opened.push(store);
    return store;
  }

  test('creates nothing, reads beside a writer (WAL) and refuses writes', async () => {
    const reader = make();
    await reader.ensureIndex(sig, readOnly);
    expect(await reader.count()).toBe(0);
    expect(existsSync(join(base(), 'v'))).toBe(false);
    const writer = make();
    await writer.ensureIndex(sig);
    await writer.upsert([{ id: 'a', vector: [1, 0, 0], kind: 'memory' }]);
    // The index appeared after the reader's open: it is found at the next read.
    expect(await reader.query({ vector: [1, 0, 0], k: 2 })).toEqual([expect.objectContaining({ id: 'a' })]);
    await writer.upsert([{ id: 'b', vector: [0, 1, 0], kind: 'memory' }]);
    expect(await reader.count()).toBe(2);
    await expect(reader.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }])).rejects.toBeInstanceOf(
      ReadOnlyError,
    );
    await expect(reader.delete(['a'])).rejects.toBeInstanceOf(ReadOnlyError);
    const another = make();
    await another.ensureIndex(sig, readOnly);
    expect(await another.count()).toBe(2);
    await expect(make().ensureIndex(signatureOf(4), readOnly)).rejects.toBeInstanceOf(ConfigError);
    await expect(make().ensureIndex(signatureOf(4), readOnly)).rejects.toThrow(READ_ONLY_MISMATCH);
    // Once the writer has closed (and SQLite removed its WAL files), a reader still opens.
    await writer.close();
    const switching = make();
    await switching.reset(signatureOf(3, 'cosine', 'other:v2'));
    await expect(reader.query({ vector: [1, 0, 0], k: 1 })).rejects.toThrow(READ_ONLY_MISMATCH);
    await switching.reset(sig);
    await switching.upsert([
      { id: 'a', vector: [1, 0, 0], kind: 'memory' },
      { id: 'b', vector: [0, 1, 0], kind: 'memory' },
    ]);
    await switching.close();
    const later = make();
    await later.ensureIndex(sig, readOnly);
    expect(await later.count()).toBe(2);
  });
});
