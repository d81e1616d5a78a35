/**
 * Semantic search beyond one store: a migration target with the `semantic` option embeds the
 * batches it receives, and `connectome-storage search --mode` works on a store from an env file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SearchHit } from '../../src/core/index.js';
import { createStorageFromEnv } from '../../src/factory/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { createEmbedder, MemoryVectorStore } from '../../src/semantic/index.js';
import { cli } from '../cli/run-cli.js';
import { populate } from '../migration/support.js';
import { useTempDir } from '../support/temp-dir.js';

describe('semantic search after a migration, and from the CLI', () => {
  const dir = useTempDir();

  it('a target with the semantic option embeds every migrated memory, chain and raw message', async () => {
    const source = new FileStorage({ baseDir: join(dir(), 'data') });
    const vectors = new MemoryVectorStore();
    const target = new SQLiteStorage({
      dbPath: join(dir(), 'copy.db'),
      semantic: { embedder: createEmbedder('hashing'), vectorStore: vectors },
    });
    await source.initialize();
    try {
      await populate(source);
      await migrateStorage(source, target);
      // The same vectors a reindex() of the target computes from its records.
      const migrated = await vectors.count();
      expect(migrated).toBeGreaterThan(0);
      await target.reindex();
      expect(await vectors.count()).toBe(migrated);
      // Every migrated memory is found by a vector query scoped to its conversation.
      for (const conversationId of await source.listConversations()) {
        const memories = await source.loadMemories(conversationId);
        const hits = await target.search({
          text: 'memory',
          mode: 'vector',
          kinds: ['memories'],
          conversationId,
          limit: 1000,
        });
        expect(hits).toHaveLength(memories.length);
      }
    } finally {
      await source.shutdown();
      await target.shutdown();
    }
  });

  it('search --mode vector|hybrid on a store from an env file; a store without semantic search exits 2', async () => {
    const dbPath = join(dir(), 'cli.db');
    const env = {
      CONNECTOME_STORAGE_TYPE: 'sqlite',
      CONNECTOME_STORAGE_DB_PATH: dbPath,
      CONNECTOME_VECTOR_TYPE: 'sqlite-vec',
      CONNECTOME_VECTOR_DB_PATH: dbPath,
    };
    const store = createStorageFromEnv(env);
    await store.initialize();
    await store.storeMemory('c1', 'm1', { summary: 'Steps to recover a forgotten password' });
    await store.storeMemory('c1', 'm2', { summary: 'Quarterly revenue grew by four percent' });
    await store.shutdown();
    const envFile = join(dir(), 'semantic.env');
    await writeFile(
      envFile,
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );

    const vector = await cli('search', '--env', envFile, 'resetting passwords', '--mode', 'vector', '--json');
    expect(vector.code).toBe(0);
    const hits = (JSON.parse(vector.stdout) as { hits: SearchHit[] }).hits;
    expect(hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : '?'))).toEqual(['m1', 'm2']);
    // Full-text search finds nothing: no note says "resetting" or "passwords".
    expect((await cli('search', '--env', envFile, 'resetting passwords')).stdout).toContain('No records');
    const hybrid = await cli(
      'search',
      '--env',
      envFile,
      'resetting passwords',
      '--mode',
      'hybrid',
      '--limit',
      '1',
    );
    expect(hybrid.stdout).toMatch(/memories c1\/m1/);

    const plain = await cli('search', `sqlite:${dbPath}`, 'password', '--mode', 'vector');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/semantic/);
    expect((await cli('search', `sqlite:${dbPath}`, 'password', '--mode', 'fuzzy')).code).toBe(2);
  });
});
