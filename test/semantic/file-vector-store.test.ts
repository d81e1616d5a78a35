/** The file vector store's own guarantees: its file layout, crash leftovers, failed writes, damaged files. */
import fs from 'node:fs';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CorruptDataError, FileVectorStore, StorageError } from '../../src/index.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';
import { useTempDir } from '../support/temp-dir.js';

const sig = { embedderId: 'test:v1', dimensions: 3, metric: 'cosine' } as const;

describe('file vector store', () => {
  const base = useTempDir('connectome-file-vectors-');
  let store: FileVectorStore | undefined;
  afterEach(async () => {
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

  test('lives in <baseDir>/.connectome-storage/vectors: a manifest, one float32 file, one items file', async () => {
    const opened = await filled();
    expect(opened.dir).toBe(join(base(), '.connectome-storage', 'vectors'));
    const names = (await readdir(opened.dir)).sort();
    expect(names).toEqual(['items-2.json', 'manifest.json', 'vectors-2.f32']);
    const manifest = JSON.parse(await readFile(join(opened.dir, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toEqual({
      format: 'connectome-vectors',
      version: 1,
      signature: sig,
      count: 2,
      generation: 2,
    });
    const bytes = await readFile(join(opened.dir, 'vectors-2.f32'));
    expect(bytes.byteLength).toBe(2 * 3 * 4);
    expect([0, 1, 2, 3, 4, 5].map((i) => bytes.readFloatLE(i * 4))).toEqual([1, 0, 0, 0, 0.5, 0]);
    expect(JSON.parse(await readFile(join(opened.dir, 'items-2.json'), 'utf8'))).toEqual([
      ['a', 'memory', null, 'conv_1'],
      ['b', 'reasoning_chain', 'agent_1', null],
    ]);
  });

  test('leftovers of a crashed write (an uncommitted generation, a dead temp file) are removed at open', async () => {
    const dir = (await filled()).dir;
    await store?.close();
    await writeFile(join(dir, 'vectors-3.f32'), Buffer.alloc(12));
    await writeFile(join(dir, 'items-3.json'), '[["ghost", "memory", null, null]]');
    const temp = join(dir, tempEntryName('manifest.json'));
    await writeFile(temp, '{"half":');
    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(temp, old, old);
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    expect(await store.count()).toBe(2);
    expect((await store.query({ vector: [0, 1, 0], k: 5 })).map((m) => m.id)).toEqual(['b', 'a']);
    expect((await readdir(dir)).sort()).toEqual(['items-2.json', 'manifest.json', 'vectors-2.f32']);
  });

  test('a write that fails before its manifest is committed changes nothing, in memory or on disk', async () => {
    const opened = await filled();
    const rename = fs.promises.rename.bind(fs.promises);
    jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      if (String(to).endsWith('manifest.json'))
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      return rename(from, to);
    });
    await expect(opened.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }])).rejects.toBeInstanceOf(
      StorageError,
    );
    await expect(opened.delete(['a'])).rejects.toThrow(/disk full/);
    jest.restoreAllMocks();
    expect(await opened.count()).toBe(2);
    expect((await opened.query({ vector: [1, 0, 0], k: 1 })).map((m) => m.id)).toEqual(['a']);
    await opened.close();
    store = new FileVectorStore({ baseDir: base() });
    await store.ensureIndex(sig);
    expect(await store.count()).toBe(2);
    await store.upsert([{ id: 'c', vector: [0, 0, 1], kind: 'memory' }]);
    expect(await store.count()).toBe(3);
  });

  test('damaged files are a CorruptDataError naming the file; reset() starts over', async () => {
    const dir = (await filled()).dir;
    await store?.close();
    await writeFile(join(dir, 'vectors-2.f32'), Buffer.alloc(10));
    store = new FileVectorStore({ baseDir: base() });
    const error = await store.ensureIndex(sig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain('vectors-2.f32');
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
});
