/**
 * `search --env` with semantic search on (file vectors) opens the vector store read-only, so
 * it runs beside a process that has the same folder open for writing (the writer lock).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from './run-cli.js';
import { createEmbedder, FileStorage, FileVectorStore } from '../../src/index.js';
import { useTempDir } from '../support/temp-dir.js';

describe('search beside a writer', () => {
  const dir = useTempDir('connectome-cli-search-ro-');

  it('search --env --mode hybrid finds what a running writer stored', async () => {
    const baseDir = join(dir(), 'data');
    const writer = new FileStorage({
      baseDir,
      semantic: { embedder: createEmbedder('hashing'), vectorStore: new FileVectorStore({ baseDir }) },
    });
    await writer.initialize();
    try {
      await writer.storeMemory('c1', 'm1', { summary: 'Steps to recover a forgotten password' });
      const env = join(dir(), 'app.env');
      await writeFile(
        env,
        `CONNECTOME_STORAGE_TYPE=file\nCONNECTOME_STORAGE_BASE_DIR=${baseDir}\nCONNECTOME_SEMANTIC=1\n`,
      );
      for (const mode of ['vector', 'hybrid']) {
        const result = await cli('search', '--env', env, 'reset my password', '--mode', mode, '--json');
        expect({ mode, code: result.code, stderr: result.stderr }).toEqual({ mode, code: 0, stderr: '' });
        expect(JSON.parse(result.stdout)).toMatchObject({ hits: [{ memoryId: 'm1' }] });
      }
      // The writer still holds its folder and writes on.
      await writer.storeMemory('c1', 'm2', { summary: 'password rules' });
    } finally {
      await writer.shutdown();
    }
  });
});
