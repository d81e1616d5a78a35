/**
 * Conformance: long random sequences of calls checked against a model (fast-check
 * `fc.commands` + `fc.asyncModelRun`, seeded and bounded). Every read in a sequence is compared
 * with the model of `model-state.ts`, and the whole store once more at the end. Runs share one
 * store per configuration (creating a PostgreSQL schema per run would cost more than the run),
 * emptied through the public API between runs. One test also closes and reopens the store
 * mid-sequence and switches between two instances on it, on backends whose instances share a
 * persistent store.
 */
import fc from 'fast-check';
import { EMPTY_COUNTS, type SuiteContext } from '../context.js';
import type { HarnessStore } from '../harness.js';
import { assertAsync } from '../../support/assert-async.js';
import { KEYS, type RealStore } from './model-arbitraries.js';
import { commandsOf } from './model-commands.js';
import { expectWhole } from './model-reads.js';
import { StoreModel } from './model-state.js';

/**
 * Same seed every run; a few dozen runs, capped in time so a slow backend stays within budget.
 * `MODEL_RUNS=n` (and `MODEL_SEED=s`) explores further by hand: n runs of seed s, no time cap.
 */
function runParams<T>(seed: number, numRuns: number, capMs: number): fc.Parameters<T> {
  const explore = Number(process.env.MODEL_RUNS ?? 0);
  if (explore > 0) return { seed: Number(process.env.MODEL_SEED ?? seed), numRuns: explore };
  return { seed, numRuns, interruptAfterTimeLimit: capMs };
}
/** A test's own timeout: room for the capped runs and one shrink, or none to speak of when exploring. */
const TIMEOUT_MS = process.env.MODEL_RUNS ? 3_600_000 : 120_000;
/** Chains kept per agent in runs that set `maxReasoningChainsPerAgent` (small, so trims happen). */
const CHAIN_LIMIT = 3;
const chainLimits = fc.constantFrom<number | null>(null, CHAIN_LIMIT);

/** A store of one configuration, reused by the runs, with the sequence numbers its agents ever had. */
interface SharedStore {
  store: HarnessStore;
  config: Record<string, unknown>;
  maxSequence: Map<string, number>;
}

/** Deletes everything listed (and purges expired cache records), then checks that nothing is left. */
async function empty(real: RealStore): Promise<void> {
  const { s } = real;
  for (const id of await s.listAllConversationIds()) await s.deleteConversation(id);
  for (const id of await s.listAgents()) await s.deleteReasoningChains(id);
  for (const key of await s.listCacheKeys()) await s.deleteCacheEntry(key);
  for (const key of await s.listSystemStateKeys()) await s.deleteSystemState(key);
  await s.purgeExpiredCache();
  expect(await s.getStorageStats()).toMatchObject(EMPTY_COUNTS);
}

/** Registers the model-based sequence tests. */
export function modelSequenceTests(ctx: SuiteContext): void {
  /** Property of one test: runs a sequence on the (emptied) store of its chain limit, then compares all. */
  const property = (reopen: boolean) => {
    const stores = new Map<number | null, SharedStore>();
    return async (chainLimit: number | null, sequence: Iterable<fc.AsyncCommand<StoreModel, RealStore>>) => {
      let shared = stores.get(chainLimit);
      if (shared === undefined) {
        const config = chainLimit === null ? {} : { maxReasoningChainsPerAgent: chainLimit };
        shared = { store: await ctx.newStore(), config, maxSequence: new Map() };
        stores.set(chainLimit, shared);
      }
      const { store, config } = shared;
      const real: RealStore = {
        s: await store.open(config),
        passTime: async (ms) => {
          await ctx.passTime(ms, []); // the library's clock (until the test ends)
          await store.passServerTime?.(ms, KEYS);
        },
        exactPurgeCount: store.passServerTime === undefined,
      };
      if (reopen) {
        real.other = await store.open(config);
        real.reopen = async () => {
          await real.s.shutdown();
          real.s = await store.open(config);
        };
      }
      try {
        await empty(real);
        // Where each open is a new, empty store (SQLite :memory:, the user backend), numbering starts over.
        const model = new StoreModel(chainLimit, ctx.harness.sharedStore ? shared.maxSequence : new Map());
        await fc.asyncModelRun(() => ({ model, real }), sequence);
        // A reopen at the end too, so every such run compares a reopened store.
        await real.reopen?.();
        await expectWhole(model, real.s);
      } finally {
        await real.s.shutdown();
        await real.other?.shutdown();
      }
    };
  };

  describe('random call sequences against a model (fast-check)', () => {
    it(
      'every read matches the model of the calls before it',
      async () => {
        const sequences = fc.commands(commandsOf(false), { maxCommands: 60, size: 'max' });
        await assertAsync([chainLimits, sequences], property(false), runParams(20261203, 25, 15_000));
      },
      TIMEOUT_MS,
    );

    (ctx.harness.sharedStore ? it : it.skip)(
      'a store closed and reopened mid-sequence, and a second instance on it, read as the model',
      async () => {
        const sequences = fc.commands(commandsOf(true), { maxCommands: 40, size: 'max' });
        await assertAsync([chainLimits, sequences], property(true), runParams(20261204, 10, 8_000));
      },
      TIMEOUT_MS,
    );
  });
}
