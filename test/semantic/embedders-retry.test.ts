/**
 * Retries of the HTTP embedders against a stub service on loopback: a transient failure (408,
 * 409, 429, 5xx, a refused or reset connection) is asked again after the wait the service asks
 * for or a backoff; anything else fails at once. Waits are kept short with `retry-after-ms`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import {
  ConfigError,
  createEmbedder,
  createEmbedderFromEnv,
  EmbedderError,
  type Embedder,
} from '../../src/index.js';
import { embedderFailure } from './embedder-failure.js';
import { sendJson, startStub, type Stub, type StubRequest } from './stub-server.js';

const KEY = 'sk-retry-SECRET-42';
/** Waits the client 10 ms before it retries. */
const SOON = { 'retry-after-ms': '10' };

type Step = (response: ServerResponse) => void;

/** An error answer with `status` and `headers`; its body echoes the key, which must never show. */
const status =
  (code: number, headers: Record<string, string> = SOON): Step =>
  (response) => {
    response.writeHead(code, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify({ error: { message: `status ${code} for key ${KEY}` } }));
  };

/** Closes the connection without answering. */
const reset: Step = (response) => response.socket?.destroy();

const vectorsOf = (request: StubRequest): number[][] =>
  (request.body as { input: string[] }).input.map((text) => [text.length, 1, 0]);

const flavours = [
  {
    name: 'openai',
    url: (stub: Stub) => `${stub.url}/v1`,
    answer: (request: StubRequest) => ({
      data: vectorsOf(request).map((embedding, index) => ({ index, embedding })),
    }),
  },
  {
    name: 'ollama',
    url: (stub: Stub) => stub.url,
    answer: (request: StubRequest) => ({ embeddings: vectorsOf(request) }),
  },
] as const;

const failure = embedderFailure;

describe.each(flavours)('$name embedder retries', (flavour) => {
  let stub: Stub;
  /** Answers with `steps` in turn, then with vectors. */
  const script = (...steps: Step[]): void => {
    stub.handle = (request, response) => {
      const step = steps[stub.requests.length - 1];
      if (step) step(response);
      else sendJson(response, 200, flavour.answer(request));
    };
  };
  beforeEach(async () => {
    stub = await startStub((request, response) => sendJson(response, 200, flavour.answer(request)));
  });
  afterEach(() => stub.close());

  const make = (extra: Record<string, unknown> = {}): Embedder =>
    createEmbedder(flavour.name, {
      url: flavour.url(stub),
      model: 'm',
      dimensions: 3,
      apiKey: KEY,
      ...extra,
    });
  const embed = (embedder: Embedder, signal?: AbortSignal) =>
    embedder.embed(['a', 'bb'], { purpose: 'document', ...(signal ? { signal } : {}) });

  test('HTTP 429 with Retry-After: 1, then success: waits at least the second asked', async () => {
    script(status(429, { 'retry-after': '1' }));
    const started = Date.now();
    const vectors = await embed(make());
    expect(vectors.map((v) => v[0])).toEqual([1, 2]);
    expect(stub.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  test('HTTP 503 twice, then success', async () => {
    script(status(503), status(503));
    expect((await embed(make())).map((v) => v[0])).toEqual([1, 2]);
    expect(stub.requests).toHaveLength(3);
    expect(stub.requests[2]?.body).toEqual(stub.requests[0]?.body);
  });

  test.each([408, 409, 429, 500, 502, 503, 504])('HTTP %i is retried', async (code) => {
    script(status(code));
    await embed(make());
    expect(stub.requests).toHaveLength(2);
  });

  test('without a Retry-After header the retry waits a backoff', async () => {
    script(status(503, {}));
    const started = Date.now();
    await embed(make());
    expect(stub.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350); // 0.5 s less at most 25 % jitter
  });

  test('a service that keeps failing: the error counts the attempts, keeps the status, the last as cause', async () => {
    script(status(500), status(502), status(503));
    const error = await failure(embed(make()));
    expect(stub.requests).toHaveLength(3);
    expect(error.failure).toBe('http');
    expect(error.status).toBe(503);
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(/HTTP 503.*3 attempts \(HTTP 500, HTTP 502, HTTP 503\)/s);
    expect(error.cause).toBeInstanceOf(EmbedderError);
    expect((error.cause as EmbedderError).status).toBe(503);
    expect(inspect(error, { depth: 10 })).not.toContain(KEY);
    expect(error.message).not.toContain(KEY);
  });

  test.each([400, 401, 404, 422])('HTTP %i is not retried', async (code) => {
    script(status(code));
    const error = await failure(embed(make()));
    expect(stub.requests).toHaveLength(1);
    expect(error.status).toBe(code);
    expect(error.attempts).toBe(1);
    expect(error.message).not.toMatch(/attempts/);
  });

  test('a malformed answer and a vector of the wrong size are not retried', async () => {
    stub.handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('<html>busy</html>');
    };
    expect((await failure(embed(make()))).failure).toBe('malformed');
    stub.handle = (_request, response) =>
      sendJson(response, 200, flavour.answer({ body: { input: ['a'] } } as StubRequest));
    expect((await failure(embed(make()))).failure).toBe('malformed');
    expect(stub.requests).toHaveLength(2);
  });

  test('a retryable failure, then one that is not: the last decides, the attempts are counted', async () => {
    script(status(503), status(400));
    const error = await failure(embed(make()));
    expect(stub.requests).toHaveLength(2);
    expect(error.status).toBe(400);
    expect(error.attempts).toBe(2);
    expect(error.message).toMatch(/2 attempts \(HTTP 503, HTTP 400\)/);
  });

  test('maxRetries 0 asks once; maxRetries 4 five times', async () => {
    script(status(503), status(503), status(503), status(503), status(503), status(503));
    const once = await failure(embed(make({ maxRetries: 0 })));
    expect(stub.requests).toHaveLength(1);
    expect(once.status).toBe(503);
    expect(once.attempts).toBe(1);
    const error = await failure(embed(make({ maxRetries: 4 })));
    expect(stub.requests).toHaveLength(6);
    expect(error.attempts).toBe(5);
  });

  test("the caller's signal stops the wait at once (aborted), the service's error as cause", async () => {
    script(status(429, { 'retry-after-ms': '30000' }));
    const controller = new AbortController();
    const onDone = (message: unknown): void => {
      // The 429 has arrived: 300 ms later the embedder has read it and waits 30 s to retry.
      if ((message as { request: { origin: unknown } }).request.origin !== stub.url) return;
      setTimeout(() => controller.abort(), 300);
    };
    subscribe('undici:request:trailers', onDone);
    const started = Date.now();
    try {
      const error = await failure(embed(make(), controller.signal));
      expect(error.failure).toBe('aborted');
      expect(error.message).toMatch(/cancelled by the caller/);
      expect((error.cause as EmbedderError).status).toBe(429);
      expect(stub.requests).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(20_000); // did not sit out the 30 s
    } finally {
      unsubscribe('undici:request:trailers', onDone);
    }
  });

  test.each([
    ['Retry-After: 120', { 'retry-after': '120' }, /120 s/],
    ['retry-after-ms: 61000', { 'retry-after-ms': '61000' }, /61 s/],
    [
      'Retry-After: a date an hour away',
      { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() },
      /\d{4} s/,
    ],
  ])('%s, more than the 60 s cap, fails now saying so', async (_label, headers, wait) => {
    script(status(429, headers));
    const error = await failure(embed(make()));
    expect(stub.requests).toHaveLength(1);
    expect(error.status).toBe(429);
    expect(error.message).toMatch(wait);
    expect(error.message).toMatch(/60 s/);
  });

  test('Retry-After: a date already past retries at once', async () => {
    script(status(503, { 'retry-after': new Date(Date.now() - 5000).toUTCString() }));
    await embed(make());
    expect(stub.requests).toHaveLength(2);
  });

  test('a connection closed before an answer is retried', async () => {
    script(reset);
    expect((await embed(make())).map((v) => v[0])).toEqual([1, 2]);
    expect(stub.requests).toHaveLength(2);
  });

  test('a refused connection is retried: the service comes up meanwhile', async () => {
    const { port } = new URL(stub.url);
    const url = flavour.url(stub);
    await stub.close();
    let refused = 0;
    let up: Promise<Stub> | undefined;
    const onRefused = (message: unknown): void => {
      const { connectParams, error } = message as {
        connectParams: { port: string };
        error: { code?: string };
      };
      if (String(connectParams.port) !== port || error.code !== 'ECONNREFUSED') return;
      refused += 1;
      up ??= startStub((request, response) => sendJson(response, 200, flavour.answer(request)), Number(port));
    };
    subscribe('undici:client:connectError', onRefused);
    try {
      const embedder = createEmbedder(flavour.name, { url, model: 'm', dimensions: 3 });
      expect((await embed(embedder)).map((v) => v[0])).toEqual([1, 2]);
      expect(refused).toBe(1);
      stub = await (up as Promise<Stub>);
      expect(stub.requests).toHaveLength(1);
    } finally {
      unsubscribe('undici:client:connectError', onRefused);
    }
  });

  test('a timeout is not retried: timeoutMs bounds the attempt', async () => {
    stub.handle = () => undefined;
    const error = await failure(embed(make({ timeoutMs: 200 })));
    expect(error.failure).toBe('timeout');
    expect(stub.requests).toHaveLength(1);
  });
});

describe('maxRetries config', () => {
  test.each([-1, 11, 1.5, '2', null])('maxRetries %p is a ConfigError naming it', (value) => {
    for (const type of ['openai', 'ollama']) {
      expect(() => createEmbedder(type, { model: 'm', dimensions: 3, maxRetries: value })).toThrow(
        ConfigError,
      );
      expect(() => createEmbedder(type, { model: 'm', dimensions: 3, maxRetries: value })).toThrow(
        /maxRetries/,
      );
    }
  });

  test('CONNECTOME_EMBEDDER_MAX_RETRIES sets it; a bad value names the variable', async () => {
    const stub = await startStub((_request, response) => status(503)(response));
    try {
      const env = {
        CONNECTOME_EMBEDDER_TYPE: 'ollama',
        CONNECTOME_EMBEDDER_URL: stub.url,
        CONNECTOME_EMBEDDER_MODEL: 'm',
        CONNECTOME_EMBEDDER_DIMENSIONS: '3',
      };
      const embedder = createEmbedderFromEnv({ ...env, CONNECTOME_EMBEDDER_MAX_RETRIES: '1' });
      expect((await failure(embedder.embed(['a'], { purpose: 'query' }))).attempts).toBe(2);
      expect(stub.requests).toHaveLength(2);
      for (const bad of ['11', 'two', '-1', '']) {
        expect(() => createEmbedderFromEnv({ ...env, CONNECTOME_EMBEDDER_MAX_RETRIES: bad })).toThrow(
          /CONNECTOME_EMBEDDER_MAX_RETRIES/,
        );
      }
    } finally {
      await stub.close();
    }
  });
});
