/**
 * Retries as a store sees them: one rate-limit answer no longer fails a write, and when the
 * service keeps failing the write's error still counts the attempts. Also the wait rules.
 */
import { createEmbedder, createVectorStore, EmbedderError } from '../../src/index.js';
import { backoffMs, requestedDelayMs } from '../../src/semantic/embedders/retry.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { sendJson, startStub, type Stub } from './stub-server.js';

describe('a store writing through an HTTP embedder', () => {
  let stub: Stub;
  let rateLimited: number;
  beforeEach(async () => {
    rateLimited = 1;
    stub = await startStub((request, response) => {
      if (rateLimited-- > 0) {
        response.writeHead(429, { 'retry-after-ms': '10' });
        response.end('{"error":"rate limited"}');
        return;
      }
      const input = (request.body as { input: string[] }).input;
      sendJson(response, 200, { embeddings: input.map((text) => [text.length, 1, 0]) });
    });
  });
  afterEach(() => stub.close());

  const open = async (): Promise<InMemoryStorage> => {
    const embedder = createEmbedder('ollama', { url: stub.url, model: 'm', dimensions: 3 });
    const storage = new InMemoryStorage({ semantic: { embedder, vectorStore: createVectorStore('memory') } });
    await storage.initialize();
    return storage;
  };

  test('one HTTP 429 is waited out and the memory written', async () => {
    const storage = await open();
    await storage.storeMemory('c1', 'm1', { content: 'note' });
    expect(stub.requests).toHaveLength(2);
    expect(await storage.loadMemories('c1')).toHaveLength(1);
    await storage.close();
  });

  test('a service that keeps answering 429: nothing written, the error counts the attempts', async () => {
    rateLimited = Infinity;
    const storage = await open();
    const error: unknown = await storage
      .storeMemory('c1', 'm1', { content: 'note' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).message).toMatch(/memory "m1".*HTTP 429.*3 attempts/);
    expect((error as EmbedderError).attempts).toBe(3);
    expect((error as EmbedderError).status).toBe(429);
    expect(await storage.loadMemories('c1')).toEqual([]);
    await storage.close();
  });
});

describe('the wait before a retry', () => {
  const headers = (values: Record<string, string>): Headers => new Headers(values);
  const now = Date.parse('2026-12-04T12:00:00Z');

  test('retry-after-ms first, then Retry-After in seconds or as an HTTP date', () => {
    expect(requestedDelayMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(requestedDelayMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(requestedDelayMs(headers({ 'retry-after': '1.5' }), now)).toBe(1500);
    expect(requestedDelayMs(headers({ 'retry-after': 'Fri, 04 Dec 2026 12:00:03 GMT' }), now)).toBe(3000);
    expect(requestedDelayMs(headers({ 'retry-after': 'Fri, 04 Dec 2026 11:00:00 GMT' }), now)).toBe(0);
  });

  test('an unreadable or missing header leaves the wait to the backoff', () => {
    expect(requestedDelayMs(headers({}), now)).toBeUndefined();
    for (const value of ['-1', 'soon', '1e3', '']) {
      expect(requestedDelayMs(headers({ 'retry-after': value }), now)).toBeUndefined();
    }
    expect(requestedDelayMs(headers({ 'retry-after-ms': 'x', 'retry-after': '1' }), now)).toBe(1000);
  });

  test('backoff: 0.5 s, 1 s, 2 s ... capped at 8 s, less up to 25 % jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((retry) => backoffMs(retry, () => 0))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
    expect(backoffMs(1, () => 1)).toBe(375);
    expect(backoffMs(3, () => 0.5)).toBe(1750);
  });
});
