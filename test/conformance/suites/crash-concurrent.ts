/**
 * Conformance (crash suite): a writer killed while another writes on, and a killed cache batch.
 *
 * - Two children write at once (the same keys, conversations and agents; their own memory ids);
 *   one is SIGKILLed mid-write, the other is then told to make a few more calls per lane and must
 *   end within a deadline (a lock the dead one held may not block it for good). Every call of
 *   the survivor is there (or a later write of either), the dead one's calls follow the crash
 *   suite's rules, stats match and, on the file backend, no lock folder or dead mark is left.
 * - A child storing batches over twelve cache keys in four Redis buckets is killed mid-batch:
 *   each part the README's atomicity table names (the batch; per bucket on a Redis Cluster; per
 *   key on the file backend) landed whole or not at all.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import { seededRandom } from '../../../bench/random.js';
import type { SuiteContext } from '../context.js';
import { cacheBatchKeys } from '../crash-log.js';
import { leftovers, runCrashChild } from '../crash-runs.js';
import {
  checkChains,
  checkKeys,
  checkMemories,
  checkUnfinishedBatches,
  type LoggedCall,
} from './crash-checks.js';
import { expectStatsMatch } from './multi-process-checks.js';

/** The kill delays and the children's seeds derive from this (`CRASH_SEED=n` tries others). */
const SEED = Number(process.env.CRASH_SEED ?? 2300) + 200;

/** Calls per lane the survivor makes after the other writer died, and the time it has for them. */
const SURVIVOR_CALLS = 5;
const SURVIVOR_DEADLINE_MS = 20_000;

/**
 * The `trimmed` agent, trimmed and deleted by both writers at once: sequences increase, no
 * chain twice, each one some append's.
 */
async function checkSharedTrims(s: StorageInterface, calls: LoggedCall[]): Promise<void> {
  const loaded = await s.loadSequencedReasoningChains('trimmed');
  for (let i = 1; i < loaded.length; i += 1)
    expect(loaded[i]!.sequence).toBeGreaterThan(loaded[i - 1]!.sequence);
  const appended = calls.flatMap((c) => c.writes.filter((w) => w.kind === 'chain' && w.id === 'trimmed'));
  const known = new Set(appended.map((w) => JSON.stringify(w.value)));
  const chains = loaded.map((item) => {
    const { writer, i, part } = item.chain;
    return JSON.stringify({ writer, i, part });
  });
  expect(new Set(chains).size).toBe(chains.length);
  expect(chains.filter((c) => !known.has(c))).toEqual([]);
}

/** Registers the concurrent-writer and cache-batch kills (within the crash suite's describe). */
export function concurrentKillTests(ctx: SuiteContext): void {
  it('one of two writers killed: the other finishes every call in time, both keep the crash rules, no lock left', async () => {
    const store = await ctx.newStore();
    const spec = store.childSpec;
    if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
    // Set up first (the multi-process suite races first opens); open across the kill.
    const watcher = await store.open();
    const random = seededRandom(SEED);
    let survivorReady!: () => void;
    const ready = new Promise<void>((resolve) => (survivorReady = resolve));
    let killedDied!: () => void;
    const died = new Promise<void>((resolve) => (killedDied = resolve));
    const plan = {
      at: 'never' as const,
      calls: SURVIVOR_CALLS,
      deadlineMs: SURVIVOR_DEADLINE_MS,
      finishOn: died,
    };
    const survivor = runCrashChild(spec, 'b', SEED + 1, plan, 'mixed', survivorReady);
    void survivor.catch(() => undefined).finally(survivorReady);
    // Killed once the survivor writes too: its locks are held amid the survivor's calls.
    const delayMs = 100 + Math.floor(random() * 300);
    const killed = runCrashChild(spec, 'a', SEED, { at: 'write', delayMs, startAfter: ready });
    void killed.catch(() => undefined).finally(killedDied);
    const [a, b] = await Promise.all([killed, survivor]);
    expect(b.calls.filter((call) => !call.done)).toEqual([]);
    const fresh = await store.open();
    if (spec.backend === 'file')
      expect(await leftovers(String(spec.config.baseDir), [a.pid, b.pid])).toEqual([]);
    for (const s of [fresh, watcher]) {
      const finals = await checkKeys(s, [a.calls, b.calls]);
      checkUnfinishedBatches(spec, a.calls, finals, b.calls);
      await checkMemories(s, a.calls, 'a');
      await checkMemories(s, b.calls, 'b');
      await checkChains(s, a.calls, 'a');
      await checkChains(s, b.calls, 'b');
      await checkSharedTrims(s, [...a.calls, ...b.calls]);
      await expectStatsMatch(s);
    }
  }, 60_000);

  it('a cache batch over four buckets killed mid-write lands by the atomicity table', async () => {
    const store = await ctx.newStore();
    const spec = store.childSpec;
    if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
    const random = seededRandom(SEED + 2);
    const run = await runCrashChild(
      spec,
      'c',
      SEED + 2,
      { at: 'write', delayMs: 300 + Math.floor(random() * 300) },
      'cache',
    );
    const fresh = await store.open();
    const finals = await checkKeys(fresh, [run.calls], [['cache', cacheBatchKeys().flat()]]);
    checkUnfinishedBatches(spec, run.calls, finals);
  }, 60_000);
}
