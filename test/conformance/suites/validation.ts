/** Conformance: hostile ids and keys, unserialisable values, wrong shapes — refused before any I/O. */
import {
  InvalidIdError,
  SerializationError,
  StorageError,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import { EMPTY_COUNTS, type SuiteContext } from '../context.js';
import { NODE_CLASS_VALUES } from './node-class-values.js';

const HOSTILE_IDS: unknown[] = [
  '',
  '.',
  '..',
  '../escape',
  '../../etc/passwd',
  'a/b',
  'a\\b',
  'nul\u0000byte',
  'line\nbreak',
  'tab\there',
  'del\u007f',
  'é'.repeat(128), // 256 UTF-8 bytes
  'x'.repeat(300),
  'lone\ud800surrogate',
  123,
  null,
  undefined,
  {},
];

const HOSTILE_KEYS: unknown[] = ['', 'nul\u0000byte', 'lone\udc00surrogate', 42, null, undefined, ['k']];

type Call = (s: StorageInterface, bad: unknown) => Promise<unknown>;

const ID_CALLS: Record<string, Call> = {
  storeConversation: (s, id) => s.storeConversation(id as string, { a: 1 }),
  loadConversation: (s, id) => s.loadConversation(id as string),
  deleteConversation: (s, id) => s.deleteConversation(id as string),
  storeRawMessages: (s, id) => s.storeRawMessages(id as string, [{ a: 1 }]),
  loadRawMessages: (s, id) => s.loadRawMessages(id as string),
  'storeMemory (conversationId)': (s, id) => s.storeMemory(id as string, 'm1', { a: 1 }),
  'storeMemory (memoryId)': (s, id) => s.storeMemory('c1', id as string, { a: 1 }),
  loadMemories: (s, id) => s.loadMemories(id as string),
  'deleteMemory (conversationId)': (s, id) => s.deleteMemory(id as string, 'm1'),
  'deleteMemory (memoryId)': (s, id) => s.deleteMemory('c1', id as string),
  deleteReasoningChains: (s, id) => s.deleteReasoningChains(id as string),
  storeChunkInfo: (s, id) => s.storeChunkInfo(id as string, { a: 1 }),
  loadChunkInfo: (s, id) => s.loadChunkInfo(id as string),
  storeReasoningChain: (s, id) => s.storeReasoningChain(id as string, { a: 1 }),
  loadReasoningChains: (s, id) => s.loadReasoningChains(id as string),
  loadSequencedReasoningChains: (s, id) => s.loadSequencedReasoningChains(id as string),
  trimReasoningChains: (s, id) => s.trimReasoningChains(id as string, 1),
};

const KEY_CALLS: Record<string, Call> = {
  storeCacheEntry: (s, key) => s.storeCacheEntry(key as string, { a: 1 }),
  loadCacheEntry: (s, key) => s.loadCacheEntry(key as string),
  loadCacheRecord: (s, key) => s.loadCacheRecord(key as string),
  deleteCacheEntry: (s, key) => s.deleteCacheEntry(key as string),
  storeSystemState: (s, key) => s.storeSystemState(key as string, { a: 1 }),
  loadSystemState: (s, key) => s.loadSystemState(key as string),
  deleteSystemState: (s, key) => s.deleteSystemState(key as string),
};

function circular(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = { back: value };
  return value;
}

const UNSERIALISABLE: Record<string, () => unknown> = {
  BigInt: () => ({ n: BigInt(1) }),
  NaN: () => ({ n: Number.NaN }),
  Infinity: () => ({ deep: [{ n: Number.POSITIVE_INFINITY }] }),
  '-Infinity': () => ({ n: Number.NEGATIVE_INFINITY }),
  circular,
  function: () => ({ f: () => 1 }),
  symbol: () => ({ s: Symbol('x') }),
  Map: () => ({ m: new Map([['a', 1]]) }),
  'undefined in array': () => ({ list: [1, undefined] }),
  'invalid Date': () => ({ when: new Date('nope') }),
  // JSON.stringify writes an Error as {} (message and stack are not enumerable); until 2026-12-03
  // it was stored so, silently. One with its own fields kept them and lost its message.
  Error: () => ({ error: new Error('boom') }),
  'Error with own fields': () => ({ error: Object.assign(new TypeError('boom'), { code: 'E_BOOM' }) }),
};

/**
 * Built-ins JSON.stringify writes as `{}` (their data is in internal slots), each refused with the
 * path of the value; until 2026-12-03 they were stored as `{}`. URL and Buffer have a toJSON and
 * are kept (test/core/json-conversion.test.ts); typed arrays, Map, Error and the like are in UNSERIALISABLE above.
 */
const EMPTIED_BUILT_INS: Record<string, () => unknown> = {
  'boxed symbol': () => Object(Symbol('x')),
  DataView: () => new DataView(new ArrayBuffer(2)),
  SharedArrayBuffer: () => new SharedArrayBuffer(2),
  generator: () =>
    (function* steps() {
      yield 1;
    })(),
  'async generator': () =>
    (async function* steps() {
      yield 1;
    })(),
  'array iterator': () => [1, 2].values(),
  'Map iterator': () => new Map([['a', 1]]).entries(),
  'Intl.NumberFormat': () => new Intl.NumberFormat('en', { style: 'percent' }),
  'Intl.Locale': () => new Intl.Locale('en-GB'),
  'Intl segments': () => new Intl.Segmenter('en').segment('a b'),
  FinalizationRegistry: () => new FinalizationRegistry(() => undefined),
  Blob: () => new Blob(['text']),
  File: () => new File(['text'], 'notes.txt'),
  AbortSignal: () => AbortSignal.abort('stop'),
  URLSearchParams: () => new URLSearchParams('q=1'),
  Headers: () => new Headers({ accept: 'text/plain' }),
  Event: () => new Event('done'),
  ReadableStream: () => new ReadableStream(),
  TextDecoder: () => new TextDecoder('utf-16le'),
  Response: () => new Response('body'),
};

async function expectEmpty(s: StorageInterface): Promise<void> {
  expect(await s.listAllConversationIds()).toEqual([]);
  expect(await s.listAgents()).toEqual([]);
  expect(await s.listCacheKeys()).toEqual([]);
  expect(await s.listSystemStateKeys()).toEqual([]);
  expect(await s.getStorageStats()).toMatchObject(EMPTY_COUNTS);
}

/** Stores `make()` nested in three kinds of value: each is refused with SerializationError naming its path, and nothing is written. */
async function expectRefusedAtItsPath(s: StorageInterface, make: () => unknown): Promise<void> {
  const attempts: Array<[() => Promise<unknown>, string]> = [
    [() => s.storeMemory('c1', 'm1', { v: make() } as never), '$.v'],
    [() => s.storeConversation('c1', { turns: [{ v: make() }] } as never), '$.turns[0].v'],
    [() => s.storeCacheEntry('k1', { v: make() } as never), '$.v'],
  ];
  for (const [attempt, path] of attempts) {
    const error: unknown = await attempt().then(
      () => new Error('accepted'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).path).toBe(path);
  }
  await expectEmpty(s);
}

export function validationTests(ctx: SuiteContext): void {
  describe('validation', () => {
    it.each(Object.entries(ID_CALLS))(
      '%s refuses hostile ids with InvalidIdError, writing nothing',
      async (_, call) => {
        const s = ctx.storage();
        for (const bad of HOSTILE_IDS) {
          const error: unknown = await call(s, bad).then(
            () => new Error(`accepted ${JSON.stringify(bad)}`),
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(InvalidIdError);
          expect((error as InvalidIdError).code).toBe('INVALID_ID');
          if (typeof bad === 'string' && bad.length > 0 && bad.length < 60 && bad.isWellFormed()) {
            // Quoted as JSON, DEL escaped too (until 2026-12-06 shown raw, as nothing).
            expect((error as Error).message).toContain(JSON.stringify(bad).replace('\u007f', '\\u007f'));
          }
        }
        await expectEmpty(s);
      },
    );

    it.each(Object.entries(KEY_CALLS))('%s refuses bad keys with InvalidIdError', async (_, call) => {
      const s = ctx.storage();
      for (const bad of HOSTILE_KEYS) await expect(call(s, bad)).rejects.toBeInstanceOf(InvalidIdError);
      await expectEmpty(s);
    });

    it.each(Object.entries(UNSERIALISABLE))(
      'refuses %s values with SerializationError, writing nothing',
      async (_, make) => {
        const s = ctx.storage();
        const attempts: Array<() => Promise<unknown>> = [
          () => s.storeConversation('c1', make() as never),
          () => s.storeRawMessages('c1', [make()] as never),
          () => s.storeMemory('c1', 'm1', make() as never),
          () => s.storeReasoningChain('a1', make() as never),
          () => s.storeChunkInfo('c1', make() as never),
          () => s.storeCacheEntry('k1', make() as never),
          () => s.storeSystemState('k1', make() as never),
        ];
        for (const attempt of attempts) await expect(attempt()).rejects.toBeInstanceOf(SerializationError);
        await expectEmpty(s);
      },
    );

    it.each(Object.entries(EMPTIED_BUILT_INS))(
      'refuses a %s (JSON would store it emptied) with SerializationError naming its path',
      async (_, make) => {
        await expectRefusedAtItsPath(ctx.storage(), make);
      },
    );

    it.each(Object.entries(NODE_CLASS_VALUES))(
      'refuses a %s (JSON would store it emptied or as its internals) with SerializationError naming its path',
      async (_, make) => {
        const { value, release } = await make();
        try {
          await expectRefusedAtItsPath(ctx.storage(), () => value);
        } finally {
          await release?.();
        }
      },
    );

    it('leaves the stored value untouched when a replacement is refused', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { v: 1 });
      await s.storeMemory('c1', 'm1', { v: 1 });
      await expect(s.storeConversation('c1', { v: Number.NaN })).rejects.toBeInstanceOf(SerializationError);
      await expect(s.storeMemory('c1', 'm1', circular() as never)).rejects.toBeInstanceOf(SerializationError);
      expect(await s.loadConversation('c1')).toEqual({ v: 1 });
      expect((await s.loadMemories('c1')).map((m) => m.v)).toEqual([1]);
    });

    it('refuses values of the wrong shape with ValidationError', async () => {
      const s = ctx.storage();
      for (const bad of [null, [], 'text', 5]) {
        await expect(s.storeConversation('c1', bad as never)).rejects.toBeInstanceOf(ValidationError);
        await expect(s.storeMemory('c1', 'm', bad as never)).rejects.toBeInstanceOf(ValidationError);
        await expect(s.storeCacheEntry('k', bad as never)).rejects.toBeInstanceOf(ValidationError);
      }
      await expect(s.storeRawMessages('c1', { not: 'an array' } as never)).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expectEmpty(s);
    });

    // The single writes name their record only when they refuse it (the name is built lazily,
    // 2026-12-05): each refusal still says which record, whatever step refused it.
    it('names the record in every refusal of a single conversation, memory or cache write', async () => {
      const s = ctx.storage();
      const refusals: Array<[() => Promise<unknown>, RegExp]> = [
        [() => s.storeConversation('c1', 5 as never), /^Invalid conversation "c1": must be/],
        [() => s.storeConversation('c1', new Date() as never), /^Invalid conversation "c1": must be/],
        [() => s.storeConversation('c1', { v: 1n } as never), /^Cannot store conversation "c1": BigInt/],
        [
          () => s.storeConversation('c1', { _storage_metadata: {} }),
          /^Invalid conversation "c1": the top-level/,
        ],
        [() => s.storeMemory('c1', 'm1', [] as never), /^Invalid memory "m1": must be/],
        [() => s.storeMemory('c1', 'm1', { v: Number.NaN }), /^Cannot store memory "m1": NaN/],
        [() => s.storeCacheEntry('k1', null as never), /^Invalid cache entry "k1": must be/],
        [
          () => s.storeCacheEntry('k1', { v: () => 1 } as never),
          /^Cannot store cache entry "k1": a function/,
        ],
        [() => s.storeCacheEntry('k1', { v: 1 }, -1), /^Invalid ttlSeconds: cache entry "k1": must be/],
      ];
      for (const [call, message] of refusals) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toMatch(message);
      }
      await expectEmpty(s);
    });

    it('throws errors that extend StorageError and carry a code', async () => {
      const error: unknown = await ctx
        .storage()
        .loadConversation('../x')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toBeInstanceOf(Error);
      expect((error as StorageError).code).toBe('INVALID_ID');
      expect((error as Error).message).toContain('conversationId');
    });
  });
}
