/**
 * Conformance: a process killed mid-write. Two child processes (`crash.child.ts`, seeded), one
 * after the other on the same store, write continuously and are each killed with SIGKILL at a
 * seeded moment; a fresh instance then checks that every record loads and holds a value some
 * call wrote (a call that had finished, or the one per lane still running at the kill), that
 * batches were all or nothing where the README says so, that the stats count what the loads
 * hold, that chains keep their order and sequences, that a new write works (the dead process's
 * locks are taken over) and, on the file backend, that no temp file or lock folder is left.
 * Runs for every setup whose instances share a store.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import { seededRandom } from '../../../bench/random.js';
import type { SuiteContext } from '../context.js';
import { leftovers, runCrashChild } from '../crash-runs.js';
import {
  checkChains,
  checkKeys,
  checkMemories,
  checkTrims,
  checkUnfinishedBatches,
  type LoggedCall,
} from './crash-checks.js';
import { expectStatsMatch } from './multi-process-checks.js';
import { initKillTests } from './crash-init.js';
import { concurrentKillTests } from './crash-concurrent.js';
import { deleteKillTests } from './crash-deletes.js';

/** The kill delays (and the children's seeds) derive from this (`CRASH_SEED=n` tries others). */
const SEED = Number(process.env.CRASH_SEED ?? 2300);

/** Registers the crash test (skipped where instances do not share a store). */
export function crashTests(ctx: SuiteContext): void {
  const maybe = ctx.harness.sharedStore ? describe : describe.skip;
  maybe('a process killed mid-write', () => {
    it('every record loads a value some call wrote, batches keep their rule, stats match, writes go on', async () => {
      const store = await ctx.newStore();
      const spec = store.childSpec;
      if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
      const random = seededRandom(SEED);
      const calls: LoggedCall[] = [];
      const pids: number[] = [];
      let watcher: StorageInterface | undefined;
      for (const [n, writer] of ['a', 'b'].entries()) {
        // An instance open across the second crash: what it remembers must not hide the crash.
        if (n === 1) watcher = await store.open();
        const delay =
          Number(process.env.CRASH_DELAY_BASE ?? 100) +
          Math.floor(random() * Number(process.env.CRASH_DELAY_SPAN ?? 400));
        const run = await runCrashChild(spec, writer, SEED + n, { at: 'write', delayMs: delay });
        calls.push(...run.calls);
        pids.push(run.pid);
      }
      expect(calls.filter((c) => c.done).length).toBeGreaterThan(0);
      const fresh = await store.open();
      if (spec.backend === 'file') {
        expect(await leftovers(String(spec.config.baseDir), pids)).toEqual([]);
      }
      for (const s of [fresh, watcher!]) {
        const finals = await checkKeys(s, [calls]);
        checkUnfinishedBatches(spec, calls, finals);
        await checkMemories(s, calls);
        await checkChains(s, calls);
        await checkTrims(s, calls);
        await expectStatsMatch(s);
      }
      // The dead processes' locks do not block a new write of every kind.
      const before = await fresh.loadSequencedReasoningChains('chains');
      await fresh.storeMemories('m0', [{ memoryId: 'after', data: { after: true } }]);
      await fresh.appendReasoningChains('chains', [{ after: 1 }, { after: 2 }]);
      await fresh.storeConversationBatch([{ conversationId: 'o0', conversation: { after: true } }]);
      await fresh.storeCacheEntries([{ key: 'k0', data: { after: true } }]);
      await fresh.storeSystemState('s0', { after: true });
      expect((await fresh.loadMemories('m0')).at(-1)?.memory_id).toBe('after');
      const chains = await fresh.loadSequencedReasoningChains('chains');
      expect(chains.slice(before.length).map((c) => c.chain.after)).toEqual([1, 2]);
      expect(chains[before.length]!.sequence).toBeGreaterThan(before.at(-1)?.sequence ?? -1);
      // The next write settles an interrupted trim or delete: the chains keep their numbers.
      const trimmed = await fresh.loadSequencedReasoningChains('trimmed');
      await fresh.appendReasoningChains('trimmed', [{ after: 3 }]);
      const settled = await fresh.loadSequencedReasoningChains('trimmed');
      expect(settled.slice(0, -1)).toEqual(trimmed);
      expect(settled.at(-1)!.sequence).toBeGreaterThan(trimmed.at(-1)?.sequence ?? -1);
      expect(await fresh.loadConversation('o0')).toEqual({ after: true });
      expect(await fresh.loadCacheEntry('k0')).toEqual({ after: true });
      expect(await fresh.loadSystemState('s0')).toEqual({ after: true });
      await expectStatsMatch(fresh);
      await expectStatsMatch(watcher!);
      await watcher!.shutdown();
      await fresh.shutdown();
    }, 60_000);
    initKillTests(ctx);
    concurrentKillTests(ctx);
    deleteKillTests(ctx);
  });
}
