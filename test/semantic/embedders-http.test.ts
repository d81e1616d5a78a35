/** The OpenAI-compatible and Ollama embedders against a stub service on loopback. */
import { inspect } from 'node:util';
import { ConfigError, createEmbedder, type Embedder, ValidationError } from '../../src/index.js';
import { embedderFailure } from './embedder-failure.js';
import { sendJson, startStub, type Stub, type StubRequest } from './stub-server.js';

const KEY = 'sk-test-SECRET-0123456789';

interface Flavour {
  name: 'openai' | 'ollama';
  path: string;
  baseUrl(stub: Stub): string;
  /** A correct answer carrying `vectors`. */
  answer(vectors: number[][]): unknown;
  inputs(request: StubRequest): string[];
}

const flavours: Flavour[] = [
  {
    name: 'openai',
    path: '/v1/embeddings',
    baseUrl: (stub) => `${stub.url}/v1`,
    answer: (vectors) => ({
      object: 'list',
      data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    }),
    inputs: (request) => (request.body as { input: string[] }).input,
  },
  {
    name: 'ollama',
    path: '/api/embed',
    baseUrl: (stub) => stub.url,
    answer: (vectors) => ({ model: 'm', embeddings: vectors }),
    inputs: (request) => (request.body as { input: string[] }).input,
  },
];

/** A fake model: the vector of a text is [length, 1, 0]. */
const fakeVector = (text: string): number[] => [text.length, 1, 0];

const failure = embedderFailure;

function expectNoKey(error: unknown): void {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    expect(e.message).not.toContain(KEY);
    expect(e.stack ?? '').not.toContain(KEY);
  }
  expect(inspect(error, { depth: 10 })).not.toContain(KEY);
}

describe.each(flavours)('$name embedder', (flavour) => {
  let stub: Stub;
  beforeEach(async () => {
    stub = await startStub((request, response) =>
      sendJson(response, 200, flavour.answer(flavour.inputs(request).map(fakeVector))),
    );
  });
  afterEach(() => stub.close());

  const make = (extra: Record<string, unknown> = {}): Embedder =>
    createEmbedder(flavour.name, {
      url: flavour.baseUrl(stub),
      model: 'test-model',
      dimensions: 3,
      apiKey: KEY,
      ...extra,
    });

  test('embeds in batches of maxBatchSize, in order, with the key, model and purpose prefix', async () => {
    const embedder = make({ maxBatchSize: 2, queryPrefix: 'q: ', documentPrefix: 'd: ' });
    expect(embedder.id).toBe(`${flavour.name}:test-model`);
    expect(embedder.dimensions).toBe(3);
    const vectors = await embedder.embed(['a', 'bb', 'ccc', 'dddd', 'eeeee'], { purpose: 'document' });
    expect(vectors.map((v) => Array.from(v))).toEqual([4, 5, 6, 7, 8].map((n) => [n, 1, 0]));
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(stub.requests.map((r) => flavour.inputs(r))).toEqual([
      ['d: a', 'd: bb'],
      ['d: ccc', 'd: dddd'],
      ['d: eeeee'],
    ]);
    for (const request of stub.requests) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe(flavour.path);
      expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
      expect((request.body as { model: string }).model).toBe('test-model');
    }
    await embedder.embed(['x'], { purpose: 'query' });
    expect(flavour.inputs(stub.requests[3] as StubRequest)).toEqual(['q: x']);
    expect(await embedder.embed([], { purpose: 'query' })).toEqual([]);
  });

  test.each([500, 401, 429])(
    'HTTP %i is an EmbedderError with the status, and the key never shows',
    async (status) => {
      stub.handle = (_request, response) =>
        sendJson(response, status, { error: { message: `bad key ${KEY} for http://u:${KEY}@x` } });
      const error = await failure(make().embed(['a'], { purpose: 'document' }));
      expect(error.failure).toBe('http');
      expect(error.status).toBe(status);
      expect(error.embedderId).toBe(`${flavour.name}:test-model`);
      expect(error.message).toContain(`HTTP ${status}`);
      expectNoKey(error);
    },
  );

  test('no answer within timeoutMs is an EmbedderError (timeout)', async () => {
    stub.handle = () => undefined; // never answers
    const started = Date.now();
    const error = await failure(make({ timeoutMs: 300 }).embed(['a'], { purpose: 'query' }));
    expect(error.failure).toBe('timeout');
    expect(error.message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a cancelled signal stops the call (aborted)', async () => {
    stub.handle = () => undefined;
    const controller = new AbortController();
    const pending = make().embed(['a'], { purpose: 'query', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await failure(pending)).failure).toBe('aborted');
    expect(
      (await failure(make().embed(['a'], { purpose: 'query', signal: controller.signal }))).failure,
    ).toBe('aborted');
  });

  test.each([
    ['a body that is not JSON', 'not json at all', 'malformed'],
    ['JSON of the wrong shape', { hello: 'world' }, 'malformed'],
    ['too few vectors', 'few', 'malformed'],
    ['a non-number inside a vector', 'nan', 'malformed'],
    ['vectors of the wrong size', 'wide', 'dimensions'],
  ] as const)('%s is an EmbedderError', async (_label, kind, expected) => {
    stub.handle = (request, response) => {
      const inputs = flavour.inputs(request);
      if (kind === 'not json at all') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('<html>oops</html>');
      } else if (typeof kind === 'object') sendJson(response, 200, kind);
      else if (kind === 'few') sendJson(response, 200, flavour.answer(inputs.slice(1).map(fakeVector)));
      else if (kind === 'nan')
        sendJson(response, 200, flavour.answer(inputs.map(() => [1, 'x', 0] as never)));
      else sendJson(response, 200, flavour.answer(inputs.map(() => [1, 2, 3, 4])));
    };
    const error = await failure(make().embed(['a', 'b'], { purpose: 'document' }));
    expect(error.failure).toBe(expected);
    if (expected === 'dimensions') expect(error.message).toMatch(/4 dimensions, expected 3/);
  });

  test("a wrong vector in a later batch is named by its text's position in the call", async () => {
    // Batches of 2: 'bad' is text 3 of the call, the second of its batch.
    stub.handle = (request, response) =>
      sendJson(
        response,
        200,
        flavour.answer(flavour.inputs(request).map((text) => (text === 'bad' ? [1, 2] : fakeVector(text)))),
      );
    const error = await failure(
      make({ maxBatchSize: 2 }).embed(['a', 'b', 'c', 'bad', 'e'], { purpose: 'document' }),
    );
    expect(error.failure).toBe('dimensions');
    expect(error.index).toBe(3);
    expect(error.message).toMatch(/vector 3 has 2 dimensions/);
  });

  test('a failed request of a split call names its texts (texts: start and count)', async () => {
    // Batches of 2: the second request ('c', 'd') is refused; until 2026-12-06 the error named the whole call.
    stub.handle = (request, response) =>
      flavour.inputs(request).includes('c')
        ? sendJson(response, 400, { error: 'bad input' })
        : sendJson(response, 200, flavour.answer(flavour.inputs(request).map(fakeVector)));
    const error = await failure(
      make({ maxBatchSize: 2, maxRetries: 0 }).embed(['a', 'b', 'c', 'd', 'e'], { purpose: 'document' }),
    );
    expect(error).toMatchObject({ failure: 'http', status: 400, texts: { start: 2, count: 2 } });
    expectNoKey(error);
    // A call sent in one request has nothing to add to its own texts.
    const whole = await failure(make({ maxRetries: 0 }).embed(['c', 'd'], { purpose: 'document' }));
    expect(whole.texts).toBeUndefined();
  });

  test('a service that is not listening is an EmbedderError (network)', async () => {
    const url = flavour.baseUrl(stub);
    await stub.close();
    const embedder = createEmbedder(flavour.name, { url, model: 'm', dimensions: 3, apiKey: KEY });
    const error = await failure(embedder.embed(['a'], { purpose: 'query' }));
    expect(error.failure).toBe('network');
    // The reason, not only fetch's "fetch failed".
    expect(error.message).toMatch(/ECONNREFUSED/);
    expectNoKey(error);
  });

  test('bad arguments are refused before any request', async () => {
    const embedder = make();
    await expect(embedder.embed('text' as never, { purpose: 'query' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(embedder.embed([42] as never, { purpose: 'query' })).rejects.toBeInstanceOf(ValidationError);
    await expect(embedder.embed(['\ud800'], { purpose: 'query' })).rejects.toBeInstanceOf(ValidationError);
    await expect(embedder.embed(['a'], { purpose: 'search' } as never)).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(stub.requests).toHaveLength(0);
  });

  test('config: model and dimensions are required, unknown keys refused; the key is never printed', () => {
    expect(() => createEmbedder(flavour.name, { model: 'm' })).toThrow(ConfigError);
    expect(() => createEmbedder(flavour.name, { dimensions: 3 })).toThrow(ConfigError);
    expect(() => createEmbedder(flavour.name, { model: 'm', dimensions: 3, color: 'red' })).toThrow(
      /Unknown.*"color"/,
    );
    expect(() => createEmbedder(flavour.name, { model: 'm', dimensions: 3, url: 'not a url' })).toThrow(
      ConfigError,
    );
    const embedder = make();
    expect(inspect(embedder, { depth: 10, showHidden: true })).not.toContain(KEY);
    expect(JSON.stringify(embedder)).not.toContain(KEY);
    expect(String(embedder)).not.toContain(KEY);
  });
});

test('openai: answers out of index order are put back in input order', async () => {
  const stub = await startStub((request, response) => {
    const inputs = (request.body as { input: string[] }).input;
    const data = inputs.map((text, index) => ({ index, embedding: [text.length, 0, 1] })).reverse();
    sendJson(response, 200, { data });
  });
  try {
    const embedder = createEmbedder('openai', {
      url: `${stub.url}/v1`,
      model: 'm',
      dimensions: 3,
      requestDimensions: true,
    });
    const vectors = await embedder.embed(['a', 'bb', 'ccc'], { purpose: 'document' });
    expect(vectors.map((v) => v[0])).toEqual([1, 2, 3]);
    expect((stub.requests[0]?.body as { dimensions?: number }).dimensions).toBe(3);
    expect(stub.requests[0]?.headers.authorization).toBeUndefined();
  } finally {
    await stub.close();
  }
});
