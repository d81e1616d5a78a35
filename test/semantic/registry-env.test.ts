/** Embedder and vector-store registries, and configuration from CONNECTOME_EMBEDDER_* / CONNECTOME_VECTOR_* variables. */
import { join } from 'node:path';
import {
  ConfigError,
  createEmbedder,
  createEmbedderFromEnv,
  createStorage,
  createVectorStore,
  createVectorStoreFromEnv,
  EmbedderError,
  FileVectorStore,
  registerEmbedder,
  registerVectorStore,
} from '../../src/index.js';
import { getAvailableEmbedders, getAvailableVectorStores } from '../../src/semantic/registry.js';
import { MemoryVectorStore } from '../../src/semantic/vector-stores/memory.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';
import { vectorDirOf } from '../../src/semantic/vector-stores/file/file-vector-store.js';
import { thrown } from '../factory/support.js';
import { useTempDir } from '../support/temp-dir.js';
import { sendJson, startStub } from './stub-server.js';

describe('embedder registry', () => {
  test('a user registers an embedder by name (no model runtime in this library)', async () => {
    // Stands in for e.g. a transformers.js pipeline loaded from a local model folder.
    registerEmbedder('local-test-model', (config) => {
      const { scale } = config as { scale: number };
      return {
        id: 'local:test',
        dimensions: 2,
        embed: async (texts) => texts.map((t) => new Float32Array([t.length * scale, 1])),
      };
    });
    expect(getAvailableEmbedders()).toEqual(
      expect.arrayContaining(['hashing', 'openai', 'ollama', 'local-test-model']),
    );
    const embedder = createEmbedder('local-test-model', { scale: 2 });
    expect(Array.from((await embedder.embed(['abc'], { purpose: 'query' }))[0] as Float32Array)).toEqual([
      6, 1,
    ]);
  });

  test('what a registered embedder returns is checked: wrong sizes, NaN, wrong counts, throws → EmbedderError', async () => {
    const outputs: Record<string, () => unknown> = {
      wide: () => [[1, 2, 3]],
      nan: () => [[Number.NaN, 1]],
      none: () => [],
      throws: () => {
        throw new Error('model file missing');
      },
    };
    for (const [name, output] of Object.entries(outputs)) {
      registerEmbedder(`bad-${name}`, () => ({
        id: `bad:${name}`,
        dimensions: 2,
        embed: async () => output() as Float32Array[],
      }));
      const error = await createEmbedder(`bad-${name}`)
        .embed(['a'], { purpose: 'document' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbedderError);
      expect((error as EmbedderError).embedderId).toBe(`bad:${name}`);
    }
  });

  test('unknown names, built-in names and bad factories are ConfigErrors', () => {
    expect(() => createEmbedder('nope')).toThrow(/Unknown embedder "nope". Known: .*hashing/);
    expect(() => registerEmbedder('hashing', () => createEmbedder())).toThrow(ConfigError);
    expect(() => registerEmbedder('has space', () => createEmbedder())).toThrow(ConfigError);
    expect(() => registerEmbedder('x', 'factory' as never)).toThrow(ConfigError);
    expect(() => createVectorStore('nope')).toThrow(/Unknown vector store "nope"/);
    expect(() => createVectorStore('memory', { path: 'x' })).toThrow(ConfigError);
    expect(() => createVectorStore('sqlite-vec', { dbPath: 'x' })).toThrow(/Unknown.*"dbPath"/);
  });

  test('a user registers a vector store by name', () => {
    registerVectorStore('test-store', () => new MemoryVectorStore());
    expect(getAvailableVectorStores()).toEqual(['file', 'memory', 'sqlite-vec', 'test-store']);
    expect(createVectorStore('test-store')).toBeInstanceOf(MemoryVectorStore);
  });
});

describe('configuration from the environment', () => {
  const dir = useTempDir('connectome-semantic-env-');

  test('defaults: the hashing embedder and a file vector store beside the main file store', () => {
    expect(createEmbedderFromEnv({}).id).toBe('hashing:v1');
    expect(createEmbedderFromEnv({ CONNECTOME_EMBEDDER_DIMENSIONS: '64' }).dimensions).toBe(64);
    const store = createVectorStoreFromEnv({ CONNECTOME_STORAGE_BASE_DIR: dir() });
    expect(store).toBeInstanceOf(FileVectorStore);
    expect((store as FileVectorStore).dir).toBe(vectorDirOf(dir()));
    expect(
      (createVectorStoreFromEnv({ CONNECTOME_VECTOR_BASE_DIR: join(dir(), 'v') }) as FileVectorStore).dir,
    ).toBe(join(dir(), 'v', '.connectome-storage', 'vectors'));
  });

  test('mix and match: SQLite vectors chosen apart from the main store', async () => {
    const store = createVectorStoreFromEnv({
      CONNECTOME_STORAGE_TYPE: 'postgres',
      CONNECTOME_VECTOR_TYPE: 'sqlite-vec',
      CONNECTOME_VECTOR_DB_PATH: join(dir(), 'vectors.db'),
      CONNECTOME_VECTOR_TIMEOUT: '5',
    });
    expect(store).toBeInstanceOf(SqliteVecStore);
    await store.ensureIndex({ embedderId: 'hashing:v1', dimensions: 4, metric: 'cosine' });
    await store.upsert([{ id: 'a', vector: [1, 0, 0, 0], kind: 'memory' }]);
    expect(await store.count()).toBe(1);
    await store.close();
    expect(createVectorStoreFromEnv({ CONNECTOME_VECTOR_TYPE: 'memory' })).toBeInstanceOf(MemoryVectorStore);
  });

  test('one SQLite file holds the main store and the vectors, each working beside the other', async () => {
    const file = join(dir(), 'all.db');
    const storage = createStorage('sqlite', { dbPath: file });
    await storage.initialize();
    await storage.storeMemory('conv_1', 'mem_0', { summary: 'hello' });
    const vectors = createVectorStoreFromEnv({
      CONNECTOME_VECTOR_TYPE: 'sqlite-vec',
      CONNECTOME_VECTOR_DB_PATH: file,
    });
    await vectors.ensureIndex({ embedderId: 'hashing:v1', dimensions: 2, metric: 'cosine' });
    await vectors.upsert([
      { id: 'memory:conv_1:mem_0', vector: [1, 0], kind: 'memory', conversationId: 'conv_1' },
    ]);
    await storage.storeMemory('conv_1', 'mem_1', { summary: 'again' });
    expect((await storage.healthCheck()).status).toBe('healthy');
    await storage.shutdown();
    await vectors.close();
    const reopened = createStorage('sqlite', { dbPath: file });
    await reopened.initialize();
    expect(await reopened.loadMemories('conv_1')).toHaveLength(2);
    await reopened.shutdown();
    const again = createVectorStore('sqlite-vec', { path: file });
    await again.ensureIndex({ embedderId: 'hashing:v1', dimensions: 2, metric: 'cosine' });
    expect(await again.count()).toBe(1);
    await again.close();
  });

  test('an OpenAI-compatible embedder from CONNECTOME_EMBEDDER_* variables', async () => {
    const stub = await startStub((request, response) => {
      const input = (request.body as { input: string[] }).input;
      sendJson(response, 200, { data: input.map((_, index) => ({ index, embedding: [1, 2] })) });
    });
    try {
      const embedder = createEmbedderFromEnv({
        CONNECTOME_EMBEDDER_TYPE: 'openai',
        CONNECTOME_EMBEDDER_URL: `${stub.url}/v1`,
        CONNECTOME_EMBEDDER_MODEL: 'tiny',
        CONNECTOME_EMBEDDER_API_KEY: 'sk-env-secret',
        CONNECTOME_EMBEDDER_DIMENSIONS: '2',
        CONNECTOME_EMBEDDER_TIMEOUT_MS: '2000',
        CONNECTOME_EMBEDDER_MAX_BATCH_SIZE: '1',
      });
      expect(embedder.id).toBe('openai:tiny');
      await embedder.embed(['a', 'b'], { purpose: 'document' });
      expect(stub.requests).toHaveLength(2);
      expect(stub.requests[0]?.headers.authorization).toBe('Bearer sk-env-secret');
    } finally {
      await stub.close();
    }
  });

  test('bad values name the variable; the API key is never shown', () => {
    const base = {
      CONNECTOME_EMBEDDER_TYPE: 'ollama',
      CONNECTOME_EMBEDDER_MODEL: 'm',
      CONNECTOME_EMBEDDER_API_KEY: 'sk-hidden-value',
    };
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...base, CONNECTOME_EMBEDDER_DIMENSIONS: 'many' }, /CONNECTOME_EMBEDDER_DIMENSIONS/],
      [{ ...base, CONNECTOME_EMBEDDER_DIMENSIONS: '99999' }, /CONNECTOME_EMBEDDER_DIMENSIONS="99999"/],
      [
        { ...base, CONNECTOME_EMBEDDER_DIMENSIONS: '8', CONNECTOME_EMBEDDER_URL: 'nope' },
        /CONNECTOME_EMBEDDER_URL/,
      ],
      [
        { ...base, CONNECTOME_EMBEDDER_DIMENSIONS: '8', CONNECTOME_EMBEDDER_TIMEOUT_MS: '0' },
        /CONNECTOME_EMBEDDER_TIMEOUT_MS/,
      ],
      [{ ...base }, /dimensions/],
      [{ CONNECTOME_EMBEDDER_TYPE: '' }, /CONNECTOME_EMBEDDER_TYPE is set but empty/],
      [{ CONNECTOME_EMBEDDER_TYPE: 'nope' }, /Unknown embedder "nope"/],
    ];
    for (const [env, message] of cases) {
      let error: unknown;
      try {
        createEmbedderFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('sk-hidden-value');
    }
    expect(() =>
      createVectorStoreFromEnv({ CONNECTOME_VECTOR_TYPE: 'sqlite-vec', CONNECTOME_VECTOR_TIMEOUT: 'soon' }),
    ).toThrow(/CONNECTOME_VECTOR_TIMEOUT/);
    expect(() =>
      createVectorStoreFromEnv({ CONNECTOME_VECTOR_TYPE: 'sqlite-vec', CONNECTOME_VECTOR_TIMEOUT: '-1' }),
    ).toThrow(/CONNECTOME_VECTOR_TIMEOUT="-1"/);
  });

  test('a required key left out names its variable; an unknown type names the type variable', () => {
    const cases: [Record<string, string>, string, string][] = [
      [
        { CONNECTOME_EMBEDDER_TYPE: 'openai' },
        'CONNECTOME_EMBEDDER_MODEL',
        'CONNECTOME_EMBEDDER_MODEL is not set',
      ],
      [
        { CONNECTOME_EMBEDDER_TYPE: 'ollama', CONNECTOME_EMBEDDER_MODEL: 'm' },
        'CONNECTOME_EMBEDDER_DIMENSIONS',
        'CONNECTOME_EMBEDDER_DIMENSIONS is not set',
      ],
      [
        { CONNECTOME_EMBEDDER_TYPE: 'nope' },
        'CONNECTOME_EMBEDDER_TYPE',
        'Invalid CONNECTOME_EMBEDDER_TYPE="nope"',
      ],
    ];
    for (const [env, key, message] of cases) {
      const error = thrown(() => createEmbedderFromEnv(env));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ key });
      expect(error.message).toContain(message);
    }
    const store = thrown(() => createVectorStoreFromEnv({ CONNECTOME_VECTOR_TYPE: 'nope' }));
    expect(store).toMatchObject({ key: 'CONNECTOME_VECTOR_TYPE' });
  });

  test.each(['ftp://models.example/v1', 'javascript:alert(1)', 'file:///etc/passwd'])(
    'CONNECTOME_EMBEDDER_URL=%s is refused before any request: only http and https',
    (url) => {
      const env = {
        CONNECTOME_EMBEDDER_TYPE: 'openai',
        CONNECTOME_EMBEDDER_MODEL: 'm',
        CONNECTOME_EMBEDDER_DIMENSIONS: '8',
        CONNECTOME_EMBEDDER_URL: url,
      };
      const error = thrown(() => createEmbedderFromEnv(env));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ key: 'CONNECTOME_EMBEDDER_URL' });
      expect(error.message).toMatch(/http:\/\/ or https:\/\//);
      expect(() => createEmbedder('ollama', { url, model: 'm', dimensions: 8 })).toThrow(ConfigError);
      expect(createEmbedderFromEnv({ ...env, CONNECTOME_EMBEDDER_URL: 'HTTPS://models.example/v1' }).id).toBe(
        'openai:m',
      );
    },
  );
});
