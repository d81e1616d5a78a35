/**
 * Conformance: whatever a caller passes to any public method (wrong types, symbols, Proxies
 * that throw, getters or toJSON that throw), the method resolves or rejects with a
 * StorageError, never with a TypeError or RangeError from inside the library.
 */
import { StorageError, type StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const boom = (): never => {
  throw new Error('boom');
};

/** Values of the wrong type or with hostile behaviour, by name. */
function hostileValues(): Record<string, unknown> {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const selfReplacing = {
    toJSON(): unknown {
      return { toJSON: this.toJSON };
    },
  };
  return {
    number: 42,
    NaN: Number.NaN,
    'negative number': -1,
    bigint: BigInt(7),
    boolean: true,
    null: null,
    undefined,
    symbol: Symbol('hostile'),
    function: () => 1,
    'empty object': {},
    array: ['x'],
    'null-prototype object': Object.create(null) as unknown,
    'throwing toString': { toString: boom, valueOf: boom },
    'throwing Symbol.toPrimitive': { [Symbol.toPrimitive]: boom },
    'throwing getter': Object.defineProperty({}, 'x', { get: boom, enumerable: true }),
    'throwing toJSON': { toJSON: boom },
    'toJSON returning a toJSON object': selfReplacing,
    'Proxy with throwing traps': new Proxy(
      {},
      { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom, has: boom },
    ),
    'revoked Proxy': revoked,
    'array with a throwing index getter': Object.defineProperty([{ a: 1 }], 1, {
      get: boom,
      enumerable: true,
    }),
    'array Proxy whose length throws': new Proxy(['x'], {
      get: (target, key) => (key === 'length' ? boom() : Reflect.get(target, key)),
    }),
    'string instead of number': '5',
  };
}

type Method = (s: StorageInterface, args: unknown[]) => Promise<unknown>;

/** Every public method with valid arguments; each argument is replaced by each hostile value in turn. */
const METHODS: Record<string, { args: unknown[]; call: Method }> = {
  storeConversation: {
    args: ['c1', { a: 1 }],
    call: (s, a) => s.storeConversation(...(a as [never, never])),
  },
  loadConversation: { args: ['c1'], call: (s, a) => s.loadConversation(...(a as [never])) },
  deleteConversation: { args: ['c1'], call: (s, a) => s.deleteConversation(...(a as [never])) },
  storeRawMessages: {
    args: ['c1', [{ a: 1 }]],
    call: (s, a) => s.storeRawMessages(...(a as [never, never])),
  },
  loadRawMessages: { args: ['c1'], call: (s, a) => s.loadRawMessages(...(a as [never])) },
  storeMemory: {
    args: ['c1', 'm1', { a: 1 }],
    call: (s, a) => s.storeMemory(...(a as [never, never, never])),
  },
  loadMemories: { args: ['c1'], call: (s, a) => s.loadMemories(...(a as [never])) },
  deleteMemory: { args: ['c1', 'm1'], call: (s, a) => s.deleteMemory(...(a as [never, never])) },
  deleteReasoningChains: { args: ['a1'], call: (s, a) => s.deleteReasoningChains(...(a as [never])) },
  storeReasoningChain: {
    args: ['a1', { a: 1 }],
    call: (s, a) => s.storeReasoningChain(...(a as [never, never])),
  },
  loadReasoningChains: { args: ['a1', 2], call: (s, a) => s.loadReasoningChains(...(a as [never, never])) },
  loadSequencedReasoningChains: {
    args: ['a1', { afterSequence: 0, limit: 2 }],
    call: (s, a) => s.loadSequencedReasoningChains(...(a as [never, never])),
  },
  trimReasoningChains: { args: ['a1', 2], call: (s, a) => s.trimReasoningChains(...(a as [never, never])) },
  storeChunkInfo: { args: ['c1', { a: 1 }], call: (s, a) => s.storeChunkInfo(...(a as [never, never])) },
  loadChunkInfo: { args: ['c1'], call: (s, a) => s.loadChunkInfo(...(a as [never])) },
  storeCacheEntry: {
    args: ['k1', { a: 1 }, 60],
    call: (s, a) => s.storeCacheEntry(...(a as [never, never, never])),
  },
  storeCacheRecord: {
    args: ['k1', { data: { a: 1 }, storedAt: '2025-01-01T00:00:00.000000+00:00', expiresAt: null }],
    call: (s, a) => s.storeCacheRecord(...(a as [never, never])),
  },
  loadCacheEntry: { args: ['k1'], call: (s, a) => s.loadCacheEntry(...(a as [never])) },
  loadCacheRecord: { args: ['k1'], call: (s, a) => s.loadCacheRecord(...(a as [never])) },
  deleteCacheEntry: { args: ['k1'], call: (s, a) => s.deleteCacheEntry(...(a as [never])) },
  storeSystemState: { args: ['k1', { a: 1 }], call: (s, a) => s.storeSystemState(...(a as [never, never])) },
  loadSystemState: { args: ['k1'], call: (s, a) => s.loadSystemState(...(a as [never])) },
  deleteSystemState: { args: ['k1'], call: (s, a) => s.deleteSystemState(...(a as [never])) },
  loadMemoriesWindow: {
    args: ['c1', { offset: 0 }],
    call: (s, a) => s.loadMemories(...(a as [never, never])),
  },
  loadRawMessagesWindow: {
    args: ['c1', { offset: 0 }],
    call: (s, a) => s.loadRawMessages(...(a as [never, never])),
  },
  listConversations: { args: [{ limit: 2 }], call: (s, a) => s.listConversations(...(a as [never])) },
  listAllConversationIds: {
    args: [{ limit: 2 }],
    call: (s, a) => s.listAllConversationIds(...(a as [never])),
  },
  listAgents: { args: [{ limit: 2 }], call: (s, a) => s.listAgents(...(a as [never])) },
  listCacheKeys: { args: [{ limit: 2 }], call: (s, a) => s.listCacheKeys(...(a as [never])) },
  listSystemStateKeys: { args: [{ limit: 2 }], call: (s, a) => s.listSystemStateKeys(...(a as [never])) },
  iterate: {
    args: ['conversations', { pageSize: 2 }],
    // A sync throw (bad arguments) is caught by the loop below like a rejection.
    call: (s, a) => s.iterate(...(a as [never, never])).next(),
  },
  getStorageStats: { args: [{}], call: (s, a) => s.getStorageStats(...(a as [never])) },
  purgeExpiredCache: { args: [{}], call: (s, a) => s.purgeExpiredCache(...(a as [never])) },
  reindex: { args: [{}], call: (s, a) => s.reindex(...(a as [never])) },
  search: { args: [{ text: 'x' }], call: (s, a) => s.search(...(a as [never])) },
  storeMemories: {
    args: ['c1', [{ memoryId: 'm1', data: { a: 1 } }]],
    call: (s, a) => s.storeMemories(...(a as [never, never])),
  },
  deleteMemories: { args: ['c1', ['m1']], call: (s, a) => s.deleteMemories(...(a as [never, never])) },
  appendReasoningChains: {
    args: ['a1', [{ a: 1 }]],
    call: (s, a) => s.appendReasoningChains(...(a as [never, never])),
  },
  storeCacheEntries: {
    args: [[{ key: 'k1', data: { a: 1 }, ttlSeconds: 60 }]],
    call: (s, a) => s.storeCacheEntries(...(a as [never])),
  },
  storeCacheRecords: {
    args: [[{ key: 'k1', data: { a: 1 }, storedAt: '2025-01-01T00:00:00.000000+00:00', expiresAt: null }]],
    call: (s, a) => s.storeCacheRecords(...(a as [never])),
  },
  loadCacheEntries: { args: [['k1']], call: (s, a) => s.loadCacheEntries(...(a as [never])) },
  deleteCacheEntries: { args: [['k1']], call: (s, a) => s.deleteCacheEntries(...(a as [never])) },
  loadConversationBatch: { args: [['c1']], call: (s, a) => s.loadConversationBatch(...(a as [never])) },
  storeConversationBatch: {
    args: [
      [{ conversationId: 'c1', conversation: { a: 1 }, memories: [{ memoryId: 'm1', data: { a: 1 } }] }],
    ],
    call: (s, a) => s.storeConversationBatch(...(a as [never])),
  },
};

/** Short name of what a call produced, for the failure list. */
function describeOutcome(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}: ${error.message.slice(0, 120)}`;
  return `non-Error ${typeof error}`;
}

export function hostileInputTests(ctx: SuiteContext): void {
  describe('hostile inputs', () => {
    it.each(Object.keys(METHODS))(
      '%s rejects only with StorageError, whatever each argument is',
      async (name) => {
        const s = ctx.storage();
        const { args, call } = METHODS[name] as { args: unknown[]; call: Method };
        const escaped: string[] = [];
        for (let position = 0; position < args.length; position += 1) {
          for (const [label, hostile] of Object.entries(hostileValues())) {
            const actual = args.slice();
            actual[position] = hostile;
            let outcome: unknown;
            try {
              outcome = await call(s, actual).then(
                () => undefined,
                (e: unknown) => e,
              );
            } catch (syncError) {
              outcome = syncError; // a public method must never throw synchronously either
            }
            if (outcome !== undefined && !(outcome instanceof StorageError)) {
              escaped.push(`argument ${position} = ${label}: ${describeOutcome(outcome)}`);
            }
          }
        }
        expect(escaped).toEqual([]);
      },
    );
  });
}
