/** The offline hashing embedder: deterministic, normalised, lexical ranking that works on plain examples. */
import { ConfigError, createEmbedder, ValidationError } from '../../src/index.js';
import { DEFAULT_HASHING_DIMENSIONS, HashingEmbedder } from '../../src/semantic/embedders/hashing.js';
import { MemoryVectorStore } from '../../src/semantic/vector-stores/memory.js';

const cosine = (a: Float32Array, b: Float32Array): number =>
  a.reduce((sum, x, i) => sum + x * (b[i] as number), 0);

describe('hashing embedder', () => {
  const embedder = createEmbedder();

  test('is the default: id hashing:v1, 256 dimensions, unit-length vectors, deterministic', async () => {
    expect(embedder.id).toBe('hashing:v1');
    expect(embedder.dimensions).toBe(DEFAULT_HASHING_DIMENSIONS);
    const [a, b, empty] = await embedder.embed(['Hello, world!', 'Hello, world!', ''], {
      purpose: 'document',
    });
    expect(Array.from(a as Float32Array)).toEqual(Array.from(b as Float32Array));
    for (const vector of [a, empty] as Float32Array[])
      expect(Math.sqrt(cosine(vector, vector))).toBeCloseTo(1, 5);
    const [again] = await new HashingEmbedder().embed(['Hello, world!'], { purpose: 'query' });
    expect(Array.from(again as Float32Array)).toEqual(Array.from(a as Float32Array));
  });

  test('"How do I reset my password?" ranks the password text above the revenue text', async () => {
    const documents = ['Quarterly revenue grew by four percent', 'Steps to recover a forgotten password'];
    const vectors = await embedder.embed(documents, { purpose: 'document' });
    const [query] = await embedder.embed(['How do I reset my password?'], { purpose: 'query' });
    const store = new MemoryVectorStore();
    await store.ensureIndex({ embedderId: embedder.id, dimensions: embedder.dimensions, metric: 'cosine' });
    await store.upsert(
      documents.map((_, i) => ({
        id: documents[i] as string,
        vector: vectors[i] as Float32Array,
        kind: 'memory',
      })),
    );
    const ranked = await store.query({ vector: query as Float32Array, k: 2 });
    expect(ranked.map((m) => m.id)).toEqual([
      'Steps to recover a forgotten password',
      'Quarterly revenue grew by four percent',
    ]);
    expect((ranked[0]?.score ?? 0) - (ranked[1]?.score ?? 0)).toBeGreaterThan(0.1);
  });

  test('word pieces bring inflections together; unrelated words stay apart', async () => {
    const [passwords, password, invoice] = await embedder.embed(['passwords', 'password', 'invoice'], {
      purpose: 'document',
    });
    expect(cosine(passwords as Float32Array, password as Float32Array)).toBeGreaterThan(0.3);
    expect(cosine(passwords as Float32Array, password as Float32Array)).toBeGreaterThan(
      cosine(password as Float32Array, invoice as Float32Array) + 0.2,
    );
  });

  test('it is lexical: synonyms without shared letters are not near (documented limit)', async () => {
    const [car, automobile] = await embedder.embed(['car', 'automobile'], { purpose: 'document' });
    expect(cosine(car as Float32Array, automobile as Float32Array)).toBeLessThan(0.3);
  });

  test('dimensions are configurable; bad config is a ConfigError', async () => {
    const small = createEmbedder('hashing', { dimensions: 64 });
    expect((await small.embed(['x'], { purpose: 'query' }))[0]).toHaveLength(64);
    expect(() => createEmbedder('hashing', { dimensions: 0 })).toThrow(ConfigError);
    expect(() => createEmbedder('hashing', { dimensions: 9000 })).toThrow(ConfigError);
    expect(() => createEmbedder('hashing', { size: 3 })).toThrow(/Unknown.*"size"/);
    await expect(new HashingEmbedder().embed([1] as never, { purpose: 'query' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(new HashingEmbedder().embed(['a'], {} as never)).rejects.toBeInstanceOf(ValidationError);
  });

  test('texts or options that throw while read (a revoked Proxy, a getter) are a ValidationError', async () => {
    const { proxy: revoked, revoke } = Proxy.revocable([], {});
    revoke();
    const throwingLength = new Proxy(['a'], {
      get: (target, key) => {
        if (key === 'length') throw new Error('boom');
        return Reflect.get(target, key);
      },
    });
    const throwingPurpose = Object.defineProperty({}, 'purpose', {
      get: () => {
        throw new Error('boom');
      },
    });
    // createEmbedder's (the checked wrapper every store puts around an embedder) and one made directly.
    for (const e of [embedder, new HashingEmbedder()]) {
      for (const [texts, options] of [
        [revoked, { purpose: 'query' }],
        [throwingLength, { purpose: 'query' }],
        [['a'], throwingPurpose],
      ] as const) {
        await expect(e.embed(texts as never, options as never)).rejects.toBeInstanceOf(ValidationError);
      }
    }
  });
});

describe('hashing embedder: features that cancel out', () => {
  // "e" and "ⱥ" hash their word and 3-gram features into the same buckets with opposite signs
  // (as "d" and "t" do at 16 dimensions): the sum is all zeros, which once gave 0 / 0 = NaN.
  test.each([
    ['e ⱥ', DEFAULT_HASHING_DIMENSIONS],
    ['d t', 16],
  ])('%p at %p dimensions gets the direction of a text without words', async (text, dimensions) => {
    const embedder = createEmbedder('hashing', { dimensions });
    const [vector, empty] = (await embedder.embed([text, ''], { purpose: 'document' })) as Float32Array[];
    expect(Array.from(vector as Float32Array).every(Number.isFinite)).toBe(true);
    expect(Array.from(vector as Float32Array)).toEqual(Array.from(empty as Float32Array));
    const store = new MemoryVectorStore();
    await store.ensureIndex({ embedderId: embedder.id, dimensions, metric: 'cosine' });
    await store.upsert([{ id: 'x', vector: vector as Float32Array, kind: 'memory' }]);
    expect(await store.count()).toBe(1);
  });
});
