/** How the storage names what an embedder failed on (`namedEmbedderError`). */
import { namedEmbedderError } from '../../src/core/semantic/embed-errors.js';
import { EmbedderError } from '../../src/semantic/index.js';

const names = ['memory "a"', 'memory "b"', 'memory "c"', 'memory "d"'];
const name = (index: number): string => names[index] ?? `no text ${index}`;

describe('namedEmbedderError', () => {
  it('names the text whose vector was wrong, counted from the call, and keeps failure and cause', () => {
    const inner = new EmbedderError('m', 'dimensions', 'vector 1 has 2 dimensions', { index: 1 });
    const named = namedEmbedderError(inner, 2, 2, name);
    expect(named.message).toBe('Embedder m: embedding memory "d": vector 1 has 2 dimensions');
    expect(named.failure).toBe('dimensions');
    expect(named.cause).toBe(inner);
  });

  it("names a failed call's texts by the first, and keeps the HTTP status", () => {
    const inner = new EmbedderError('m', 'http', 'answered HTTP 429', { status: 429 });
    expect(namedEmbedderError(inner, 1, 3, name).message).toBe(
      'Embedder m: embedding 3 texts, the first memory "b": answered HTTP 429',
    );
    expect(namedEmbedderError(inner, 1, 3, name).status).toBe(429);
    const retried = new EmbedderError('m', 'http', 'answered HTTP 503', { status: 503, attempts: 3 });
    expect(namedEmbedderError(retried, 0, 1, name).attempts).toBe(3);
    expect(namedEmbedderError(inner, 3, 1, name).message).toBe(
      'Embedder m: embedding memory "d": answered HTTP 429',
    );
  });

  it("names the texts of a split call's failed request, when they lie within the call", () => {
    const inner = new EmbedderError('m', 'http', 'answered HTTP 400', {
      status: 400,
      texts: { start: 1, count: 2 },
    });
    expect(namedEmbedderError(inner, 1, 3, name).message).toBe(
      'Embedder m: embedding 2 texts, the first memory "c": answered HTTP 400',
    );
    const last = new EmbedderError('m', 'timeout', 'timed out', { texts: { start: 2, count: 1 } });
    expect(namedEmbedderError(last, 1, 3, name).message).toBe('Embedder m: embedding memory "d": timed out');
    // Texts outside the call (an embedder of your own) name the call's texts.
    for (const texts of [
      { start: 2, count: 5 },
      { start: -1, count: 1 },
      { start: 0, count: 0 },
    ]) {
      const odd = new EmbedderError('m', 'http', 'bad', { texts });
      expect(namedEmbedderError(odd, 0, 3, name).message).toBe(
        'Embedder m: embedding 3 texts, the first memory "a": bad',
      );
    }
  });

  it("an index outside the call (an embedder of your own) names the call's texts", () => {
    for (const index of [5, -1, 0.5]) {
      const inner = new EmbedderError('m', 'malformed', 'bad', { index });
      expect(namedEmbedderError(inner, 0, 2, name).message).toBe(
        'Embedder m: embedding 2 texts, the first memory "a": bad',
      );
    }
  });
});
