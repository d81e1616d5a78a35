/** Memories the Python reference stored twice under one id (it appends where this library replaces, D7). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import type { JsonObject } from '../../src/core/index.js';
import { useTempDir } from '../support/temp-dir.js';

const tempDir = useTempDir('connectome-file-duplicates-');

const memory = (id: string, second: number, text: string) => ({
  memory_id: id,
  created_at: `2025-03-06T10:00:0${second}.000000+00:00`,
  text,
});

async function referenceStore(): Promise<{ storage: FileStorage; file: string }> {
  const folder = join(tempDir(), 'conversations', 'c1');
  await mkdir(folder, { recursive: true });
  const file = join(folder, 'memories.json');
  await writeFile(
    file,
    JSON.stringify({
      memories: [memory('a', 1, 'first'), memory('b', 2, 'other'), memory('a', 3, 'updated')],
      _metadata: { last_updated: '2025-03-06T10:00:03.000000+00:00', memory_count: 3, conversation_id: 'c1' },
    }),
  );
  const storage = new FileStorage({ baseDir: tempDir() });
  await storage.initialize();
  return { storage, file };
}

it('deleteMemory removes every record the reference wrote under that id, and keeps the others', async () => {
  const { storage, file } = await referenceStore();
  try {
    expect(await storage.loadMemories('c1')).toHaveLength(3);
    expect(await storage.deleteMemory('c1', 'a')).toBe(true);
    expect(await storage.loadMemories('c1')).toEqual([memory('b', 2, 'other')]);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { memories: unknown[]; _metadata: object };
    expect(onDisk.memories).toEqual([memory('b', 2, 'other')]);
    expect(onDisk._metadata).toMatchObject({ memory_count: 1, conversation_id: 'c1' });
  } finally {
    await storage.shutdown();
  }
});

/** The memories file's records and count as on disk. */
async function onDisk(file: string): Promise<{ memories: unknown[]; count: unknown }> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { memories: unknown[]; _metadata: JsonObject };
  return { memories: parsed.memories, count: parsed._metadata.memory_count };
}

it('storeMemory of an id the reference wrote twice leaves one record, at its first position', async () => {
  // Until 2026-12-06 only the first record was replaced: the stale later one kept loading.
  const { storage, file } = await referenceStore();
  const staleHits = async () => (await storage.search({ text: 'updated' })).map((hit) => hit.kind);
  try {
    expect(await staleHits()).toEqual(['memories']);
    await storage.storeMemory('c1', 'a', { text: 'newest' });
    // created_at is the first record's, as any replace keeps it (D7).
    const expected = [memory('a', 1, 'newest'), memory('b', 2, 'other')];
    expect(await storage.loadMemories('c1')).toEqual(expected);
    expect(await storage.loadMemories('c1', { offset: 1 })).toEqual([memory('b', 2, 'other')]);
    expect(await onDisk(file)).toEqual({ memories: expected, count: 2 });
    expect((await storage.getStorageStats()).memory_count).toBe(2);
    expect(await staleHits()).toEqual([]);
  } finally {
    await storage.shutdown();
  }
});

it('storeMemories of such an id does the same, created_at given or kept', async () => {
  const { storage, file } = await referenceStore();
  try {
    const created = '2025-03-06T10:00:09.000000+00:00';
    await storage.storeMemories('c1', [
      { memoryId: 'c', data: { text: 'new' } },
      { memoryId: 'a', data: { text: 'newest', created_at: created } },
    ]);
    const expected = [{ memory_id: 'a', created_at: created, text: 'newest' }, memory('b', 2, 'other')];
    expect((await storage.loadMemories('c1')).slice(0, 2)).toEqual(expected);
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['a', 'b', 'c']);
    expect((await onDisk(file)).count).toBe(3);
  } finally {
    await storage.shutdown();
  }
});

it('a migration after such a write copies the newest value', async () => {
  // Until 2026-12-06 the stale later record was the last value the migration kept: the write was lost.
  const { storage } = await referenceStore();
  await storage.storeMemory('c1', 'a', { text: 'newest' });
  await storage.shutdown();
  const source = new FileStorage({ baseDir: tempDir(), readOnly: true });
  const target = new SQLiteStorage({ dbPath: join(tempDir(), 'copy.db') });
  try {
    const summary = await migrateStorage(source, target);
    expect(summary).toMatchObject({ ok: true, conflicts: [], warnings: [] });
    expect(await target.loadMemories('c1')).toEqual([memory('a', 1, 'newest'), memory('b', 2, 'other')]);
  } finally {
    await Promise.all([source.shutdown(), target.shutdown()]);
  }
});
