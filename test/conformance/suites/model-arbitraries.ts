/**
 * Building blocks of the model-based sequence suite: the command class fast-check runs, and the
 * pools and values its calls draw from. Ids and keys come from small pools (so overwrites,
 * deletes of existing records and re-creation after a delete happen often), with a few
 * odd-but-valid ones from the property suite's arbitraries.
 */
import fc from 'fast-check';
import type { JsonObject, JsonValue, StorageInterface } from '../../../src/core/index.js';
import type { StoreModel } from './model-state.js';
import { validId, validKey } from './property-arbitraries.js';

/**
 * The store under test: `s` takes the calls. Where the store persists and is shared, `reopen`
 * shuts `s` down and opens it again, and `other` is a second instance on the same store that
 * `switchInstance()` swaps in (so a cache kept by one instance meets the other's writes).
 */
export interface RealStore {
  s: StorageInterface;
  /** Lets `ms` pass for cache expiry (the library's clock and, where it owns expiry, the server's). */
  passTime: (ms: number) => Promise<void>;
  /** False where the server expires entries itself (Redis): `purgeExpiredCache` counts index entries. */
  exactPurgeCount: boolean;
  reopen?: () => Promise<void>;
  other?: StorageInterface;
}

type Exec = (model: StoreModel, real: RealStore) => Promise<void>;

/** One call: its label (fast-check prints the failing sequence with it) and what it does. */
export class Call implements fc.AsyncCommand<StoreModel, RealStore> {
  constructor(
    private readonly label: string,
    private readonly exec: Exec,
  ) {}
  check(): boolean {
    return true;
  }
  run(model: StoreModel, real: RealStore): Promise<void> {
    return this.exec(model, real);
  }
  toString(): string {
    return this.label;
  }
}

const show = (name: string, ...args: unknown[]): string =>
  `${name}(${args.map((a) => (a === undefined ? 'undefined' : JSON.stringify(a))).join(', ')})`;
/** An arbitrary of calls: `args` drawn, then `exec` made from them. */
export const call = <T extends unknown[]>(
  name: string,
  args: { [K in keyof T]: fc.Arbitrary<T[K]> },
  exec: (...values: T) => Exec,
): fc.Arbitrary<Call> =>
  (fc.tuple as (...a: unknown[]) => fc.Arbitrary<T>)(...args).map(
    (values) => new Call(show(name, ...values), exec(...values)),
  );

// ----- pools -----------------------------------------------------------------------------

/** A few odd-but-valid ids and keys of the property suite, the same every run. */
const sampled = <T>(arb: fc.Arbitrary<T>, seed: number, n: number): T[] =>
  fc.sample(arb, { seed, numRuns: n });
/** Conversation ids of a run. */
export const CONVERSATION = fc.constantFrom(
  'café', // NFC and NFD spellings: two distinct ids
  'cafe\u0301',
  'c1',
  'c2',
  '會話-ü',
  'support-ticket.42',
  ...sampled(validId, 11, 1),
);
/** Memory ids of a run. */
export const MEMORY = fc.constantFrom('m1', 'm2', 'm 3', ...sampled(validId, 12, 1));
/** Agent ids of a run. */
export const AGENT = fc.constantFrom('agent', 'ägent two', ...sampled(validId, 13, 1));
/** `a/b` and `a_b`, `chunk:aa/bb` and `chunk:aa_bb` share a sanitized file name in the reference (D3). */
export const KEYS = [
  'a/b',
  'a_b',
  'x.json',
  'k1',
  'chunk:aa/bb',
  'chunk:aa_bb',
  'K1',
  ...sampled(validKey, 14, 1),
];
/** A cache or state key of a run. */
export const KEY = fc.constantFrom(...KEYS);

/** A caller's own `created_at` / `stored_at`: kept as given, whatever it is (D8). */
const CALLER_TIMES: JsonValue[] = [
  '2001-01-01T00:00:00+00:00',
  '2001-06-15T12:30:00.250000+00:00',
  '',
  7,
  null,
];
const scalar = fc.nat(99);
/** A record's value: small, sometimes with NUL, Unicode, quotes and a backslash, or keys out of order. */
export const value: fc.Arbitrary<JsonObject> = fc.oneof(
  { weight: 4, arbitrary: scalar.map((v): JsonObject => ({ v })) },
  { weight: 1, arbitrary: scalar.map((v): JsonObject => ({ z: 'first', a: v })) },
  // Field names the formats use (file envelopes, memory and chain records), nested or where the kind has no such field.
  {
    weight: 1,
    arbitrary: scalar.map((v): JsonObject => ({
      v,
      nested: { _metadata: v, _storage_metadata: 1 },
      memory_id: 'x',
      stored_at: 1,
      created_at: 2,
      cache_key: 'k',
      state_key: 's',
      data: v,
    })),
  },
  { weight: 1, arbitrary: scalar.map((v): JsonObject => ({ v, s: 'nul\u0000 會 🧠 "q" \\ end' })) },
);
/** A raw-message list, empty included (an empty list is no stored data). */
export const messages: fc.Arbitrary<JsonValue[]> = fc.array(
  fc.oneof(
    scalar.map((n): JsonValue => ({ n })),
    fc.constant<JsonValue>('text'),
    fc.constant<JsonValue>(null),
  ),
  { maxLength: 4 },
);
/** Memory data: sometimes a caller's `created_at` (kept, D8), sometimes a `memory_id` the argument overrides (D7). */
export const memoryData: fc.Arbitrary<JsonObject> = fc
  .record(
    { v: scalar, created_at: fc.constantFrom(...CALLER_TIMES), memory_id: fc.constant('other') },
    { requiredKeys: ['v'] },
  )
  .map((d): JsonObject => ({ ...d }));
/** Chain data: sometimes a caller's `stored_at` (kept, D8). */
export const chainData: fc.Arbitrary<JsonObject> = fc
  .record({ t: scalar, stored_at: fc.constantFrom(...CALLER_TIMES) }, { requiredKeys: ['t'] })
  .map((d): JsonObject => ({ ...d }));
/** No expiry, 30 s (expires after a `passTime`), or a year. */
export const TTL = fc.constantFrom<number | null | undefined>(undefined, null, 30, 31_536_000);
/** The items of a memory batch (an id may repeat). */
export const memoryItems = fc.array(fc.record({ memoryId: MEMORY, data: memoryData }), { maxLength: 4 });
/** A window of `loadRawMessages` / `loadMemories`, or none. */
export const window = fc.option(
  fc.record({ offset: fc.nat(3), limit: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: [] }),
  {
    nil: undefined,
  },
);
