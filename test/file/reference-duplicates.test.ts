/** Memories the Python reference stored twice under one id (it appends where this library replaces, D7). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
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
