/**
 * Semantic search with the main store and the vector store chosen independently: a file main
 * store with sqlite-vec vectors, a SQLite main store with its vectors in the same file, the
 * same built from the environment, and an embedder switch (refused, then reset + reindex).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  createEmbedder,
  createStorageFromEnv,
  createVectorStore,
  FileStorage,
  type SearchHit,
  SQLiteStorage,
  type StorageInterface,
} from '../../src/index.js';
import { MemoryVectorStore } from '../../src/semantic/vector-stores/memory.js';

let dir: string;
const opened: StorageInterface[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-mix-'));
});

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.shutdown();
  await rm(dir, { recursive: true, force: true });
});

async function open(storage: StorageInterface): Promise<StorageInterface> {
  opened.push(storage);
  await storage.initialize();
  return storage;
}

/** Writes a few records, checks vector search finds them, closes, reopens with `reopen` and checks again. */
async function roundTrip(first: StorageInterface, reopen: () => StorageInterface): Promise<void> {
  await first.storeMemory('c1', 'm1', { summary: 'Steps to recover a forgotten password' });
  await first.storeMemory('c1', 'm2', { summary: 'Quarterly revenue grew by four percent' });
  await first.appendReasoningChains('a1', [{ thought: 'password reset email' }]);
  const query = {
    text: 'How do I reset my password?',
    mode: 'vector' as const,
    kinds: ['memories' as const],
  };
  const ids = (hits: SearchHit[]): string[] =>
    hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : '?'));
  expect(ids(await first.search(query))).toEqual(['m1', 'm2']);
  await first.shutdown();
  const second = await open(reopen());
  expect(ids(await second.search(query))).toEqual(['m1', 'm2']);
  expect(await second.search({ text: 'password', mode: 'vector', agentId: 'a1' })).toHaveLength(1);
}

describe('mix and match', () => {
  it('file main store + sqlite-vec vectors', async () => {
    const make = (): StorageInterface =>
      new FileStorage({
        baseDir: join(dir, 'data'),
        semantic: {
          embedder: createEmbedder('hashing'),
          vectorStore: createVectorStore('sqlite-vec', { path: join(dir, 'vectors.db') }),
        },
      });
    await roundTrip(await open(make()), make);
  });

  it('SQLite main store + sqlite-vec in the same file', async () => {
    const dbPath = join(dir, 'all.db');
    const make = (): StorageInterface =>
      new SQLiteStorage({
        dbPath,
        semantic: {
          embedder: createEmbedder('hashing'),
          vectorStore: createVectorStore('sqlite-vec', { path: dbPath }),
        },
      });
    await roundTrip(await open(make()), make);
  });

  it('from the environment: CONNECTOME_VECTOR_TYPE turns it on, CONNECTOME_SEMANTIC=0 off', async () => {
    const env = {
      CONNECTOME_STORAGE_TYPE: 'file',
      CONNECTOME_STORAGE_BASE_DIR: join(dir, 'data'),
      CONNECTOME_VECTOR_TYPE: 'sqlite-vec',
      CONNECTOME_VECTOR_DB_PATH: join(dir, 'vectors.db'),
    };
    const make = (): StorageInterface => createStorageFromEnv(env);
    const storage = make();
    expect(storage.hasSemanticSearch).toBe(true);
    await roundTrip(await open(storage), make);
    expect(createStorageFromEnv({ ...env, CONNECTOME_SEMANTIC: '0' }).hasSemanticSearch).toBe(false);
    expect(createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'file' }).hasSemanticSearch).toBe(false);
    const fileVectors = createStorageFromEnv({
      ...env,
      CONNECTOME_VECTOR_TYPE: undefined,
      CONNECTOME_SEMANTIC: 'yes',
    });
    expect(fileVectors.hasSemanticSearch).toBe(true);
    expect(() => createStorageFromEnv({ ...env, CONNECTOME_SEMANTIC: 'maybe' })).toThrow(
      /CONNECTOME_SEMANTIC/,
    );
  });

  it('another embedder is refused at initialize() until the vectors are reset and reindexed', async () => {
    const vectorPath = join(dir, 'vectors.db');
    const make = (dimensions: number): StorageInterface =>
      new FileStorage({
        baseDir: join(dir, 'data'),
        semantic: {
          embedder: createEmbedder('hashing', { dimensions }),
          vectorStore: createVectorStore('sqlite-vec', { path: vectorPath }),
        },
      });
    const first = await open(make(256));
    await first.storeMemory('c1', 'm1', { summary: 'password recovery' });
    await first.shutdown();

    const switched = make(128);
    opened.push(switched);
    const refusal = switched.initialize();
    await expect(refusal).rejects.toThrow(ConfigError);
    await expect(refusal).rejects.toThrow(/reindex\(\)/);
    expect(switched.isInitialized).toBe(false);

    const embedder = createEmbedder('hashing', { dimensions: 128 });
    const vectors = createVectorStore('sqlite-vec', { path: vectorPath });
    await vectors.reset({ embedderId: embedder.id, dimensions: 128, metric: 'cosine' });
    await vectors.close();
    const reset = await open(make(128));
    expect(await reset.search({ text: 'password', mode: 'vector' })).toEqual([]);
    await reset.reindex();
    expect(await reset.search({ text: 'password', mode: 'vector' })).toHaveLength(1);
  });

  it('the embedder defaults to hashing; a semantic option of the wrong shape is a ConfigError', async () => {
    const vectors = new MemoryVectorStore();
    const storage = await open(new SQLiteStorage({ dbPath: ':memory:', semantic: { vectorStore: vectors } }));
    await storage.storeMemory('c1', 'm1', { text: 'hello world' });
    expect(await vectors.count()).toBe(1);
    expect(await vectors.signature()).toEqual({
      embedderId: 'hashing:v1',
      dimensions: 256,
      metric: 'cosine',
    });
    expect(() => new SQLiteStorage({ dbPath: ':memory:', semantic: { vectorStore: {} } as never })).toThrow(
      ConfigError,
    );
    expect(
      () => new FileStorage({ semantic: { vectorStore: vectors, embedder: { id: 'x' } } as never }),
    ).toThrow(/semantic\.embedder/);
  });
});
