/**
 * `semantic.maxInputChars`: a record longer than an embedding model takes is embedded by its
 * start, so it never fails every write of its conversation (a loopback stub answers like
 * OpenAI does for an input over the model's context: HTTP 400).
 */
import {
  ConfigError,
  createEmbedder,
  createStorageFromEnv,
  createVectorStore,
  SQLiteStorage,
  type StorageInterface,
} from '../../src/index.js';
import { sendJson, startStub, type Stub } from './stub-server.js';

/** What the stub model takes at most, in characters. */
const MODEL_LIMIT = 8100;

let stub: Stub;
const sent: string[] = [];
const opened: StorageInterface[] = [];

beforeAll(async () => {
  stub = await startStub((request, response) => {
    const input = (request.body as { input: string[] }).input;
    sent.push(...input);
    if (input.some((text) => text.length > MODEL_LIMIT)) {
      sendJson(response, 400, { error: { message: "This model's maximum context length is 8192 tokens" } });
      return;
    }
    const data = input.map((_, index) => ({ index, embedding: [1, 2, 3, 4].map((n) => n / (index + 1)) }));
    sendJson(response, 200, { data });
  });
});

afterAll(() => stub.close());

afterEach(async () => {
  sent.length = 0;
  for (const storage of opened.splice(0)) await storage.shutdown();
});

async function open(semantic: Record<string, unknown> = {}): Promise<StorageInterface> {
  const embedder = createEmbedder('openai', { url: stub.url, model: 'm', dimensions: 4, apiKey: 'sk-test' });
  const storage = new SQLiteStorage({
    dbPath: ':memory:',
    semantic: { embedder, vectorStore: createVectorStore('memory'), ...semantic },
  });
  opened.push(storage);
  await storage.initialize();
  return storage;
}

describe('semantic.maxInputChars', () => {
  test('an over-long record is embedded by its first 8000 characters, so its conversation stays writable', async () => {
    const storage = await open();
    const turns = ['user: run the tool', `tool: ${'x '.repeat(10_000)}`];
    await storage.storeRawMessages('c1', turns);
    await storage.storeRawMessages('c1', [...turns, 'assistant: done']);
    expect(await storage.loadRawMessages('c1')).toHaveLength(3);
    expect(sent.map((text) => text.length)).toEqual([18, 8000, 15]);
    const hits = await storage.search({ text: 'x '.repeat(5000), mode: 'vector' });
    expect(hits).toHaveLength(3);
    expect(sent.at(-1)).toHaveLength(8000);
  });

  test('a smaller limit is honoured and never splits a surrogate pair', async () => {
    const storage = await open({ maxInputChars: 5 });
    await storage.storeRawMessages('c1', ['🧠🧠🧠']);
    expect(sent).toEqual(['🧠🧠']);
  });

  test('a bad value is a ConfigError before any I/O', () => {
    const vectorStore = createVectorStore('memory');
    for (const maxInputChars of [0, 1.5, -1, '100', Number.NaN]) {
      expect(
        () => new SQLiteStorage({ dbPath: ':memory:', semantic: { vectorStore, maxInputChars } as never }),
      ).toThrow(ConfigError);
    }
    expect(sent).toEqual([]);
  });

  describe('from CONNECTOME_SEMANTIC_MAX_INPUT_CHARS', () => {
    const env = (chars: string): Record<string, string> => ({
      CONNECTOME_STORAGE_TYPE: 'sqlite',
      CONNECTOME_STORAGE_DB_PATH: ':memory:',
      CONNECTOME_EMBEDDER_TYPE: 'openai',
      CONNECTOME_EMBEDDER_URL: stub.url,
      CONNECTOME_EMBEDDER_MODEL: 'm',
      CONNECTOME_EMBEDDER_DIMENSIONS: '4',
      CONNECTOME_EMBEDDER_API_KEY: 'sk-test',
      CONNECTOME_VECTOR_TYPE: 'memory',
      CONNECTOME_SEMANTIC_MAX_INPUT_CHARS: chars,
    });

    test('a store made from the environment cuts texts to it', async () => {
      const storage = createStorageFromEnv(env('4'));
      opened.push(storage);
      await storage.initialize();
      await storage.storeRawMessages('c1', ['abcdefgh']);
      expect(sent).toEqual(['abcd']);
    });

    test.each(['0', '00', '-1', '1.5', 'abc', ''])(
      '%j is a ConfigError naming the variable, before any I/O',
      (chars) => {
        const make = (): StorageInterface => createStorageFromEnv(env(chars));
        expect(make).toThrow(ConfigError);
        expect(make).toThrow(/CONNECTOME_SEMANTIC_MAX_INPUT_CHARS/);
        expect(make).toThrow(expect.objectContaining({ key: 'CONNECTOME_SEMANTIC_MAX_INPUT_CHARS' }));
        expect(sent).toEqual([]);
      },
    );

    // The variable is checked even when semantic search is off, so a bad value is not
    // accepted quietly today and turned into an error only when search is switched on.
    test.each([
      ['CONNECTOME_SEMANTIC=0', { CONNECTOME_SEMANTIC: '0' }],
      ['no embedder or vector type', {}],
    ])('a bad value is a ConfigError naming it with semantic search off (%s)', (_what, extra) => {
      const make = (): StorageInterface =>
        createStorageFromEnv({
          CONNECTOME_STORAGE_TYPE: 'sqlite',
          CONNECTOME_STORAGE_DB_PATH: ':memory:',
          CONNECTOME_SEMANTIC_MAX_INPUT_CHARS: '0',
          ...extra,
        });
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(expect.objectContaining({ key: 'CONNECTOME_SEMANTIC_MAX_INPUT_CHARS' }));
    });
  });
});
