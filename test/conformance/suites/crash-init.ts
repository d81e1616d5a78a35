/**
 * Conformance (crash suite): processes killed inside `initialize()`. Children open a fresh store
 * (a first open: folders, database file, schema, Redis bucket count) and one holding a killed
 * writer's data (the file backend's start-up sweep then runs) and are SIGKILLed at seeded
 * delays from 0 up to about the time an open takes, counted from the moment each announces
 * `initialize()`. The next open must succeed, find every record by the crash suite's rules,
 * complete what a killed open left half done (PostgreSQL: the schema's objects; file: no temp
 * file, lock folder or dead writer's mark), count exactly and take writes of every kind.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import { seededRandom } from '../../../bench/random.js';
import type { SuiteContext } from '../context.js';
import { type ChildRun, leftovers, runCrashChild } from '../crash-runs.js';
import type { ChildStoreSpec } from '../harness.js';
import { withPgClient } from '../harness-postgres.js';
import { checkChains, checkKeys, checkMemories, checkTrims, checkUnfinishedBatches } from './crash-checks.js';
import { expectStatsMatch } from './multi-process-checks.js';

/** The kill delays and the writer's seed derive from this (`CRASH_SEED=n` tries others). */
const SEED = Number(process.env.CRASH_SEED ?? 2300) + 100;

/** Kills inside the first open of a fresh store, then inside opens of the store holding data. */
const FRESH_KILLS = 2;
const DATA_KILLS = 2;

/** The tables, indexes, sequences, views, functions and constraints of a PostgreSQL schema, by name and kind. */
async function schemaObjects(schema: string): Promise<string[]> {
  return withPgClient(async (client) => {
    const result = await client.query<{ name: string }>(
      `SELECT relkind::text || ' ' || relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE nspname = $1
       UNION ALL SELECT 'function ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE nspname = $1
       UNION ALL SELECT 'constraint ' || conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE nspname = $1
       ORDER BY 1`,
      [schema],
    );
    return result.rows.map((row) => row.name);
  });
}

/** Writes one record of every kind through `s` and reads each back. */
async function expectWritable(s: StorageInterface): Promise<void> {
  const before = await s.loadSequencedReasoningChains('chains');
  await s.storeMemories('m0', [{ memoryId: 'after', data: { after: true } }]);
  await s.appendReasoningChains('chains', [{ after: 1 }]);
  await s.storeConversationBatch([{ conversationId: 'o0', conversation: { after: true } }]);
  await s.storeCacheEntries([{ key: 'k0', data: { after: true } }]);
  await s.storeSystemState('s0', { after: true });
  expect((await s.loadMemories('m0')).at(-1)?.memory_id).toBe('after');
  const chains = await s.loadSequencedReasoningChains('chains');
  expect(chains.slice(before.length).map((c) => c.chain.after)).toEqual([1]);
  expect(await s.loadConversation('o0')).toEqual({ after: true });
  expect(await s.loadCacheEntry('k0')).toEqual({ after: true });
  expect(await s.loadSystemState('s0')).toEqual({ after: true });
}

/** Registers the kills inside `initialize()` (within the crash suite's describe). */
export function initKillTests(ctx: SuiteContext): void {
  it('opens killed inside initialize(), fresh and on data: the next open succeeds, data intact, nothing half done', async () => {
    // How long a first open takes here: the kill delays span it.
    const reference = await ctx.newStore();
    const started = Date.now();
    await reference.open();
    const openMs = Date.now() - started;
    const store = await ctx.newStore();
    const spec: ChildStoreSpec | undefined = store.childSpec;
    if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
    const random = seededRandom(SEED);
    // Every child is started at once (start-up is most of a child's time); each opens when the
    // one before it died, the data ones once the writer died.
    let writerDied!: () => void;
    const writerDead = new Promise<void>((resolve) => (writerDied = resolve));
    const starts: Array<Promise<ChildRun>> = [];
    const startKills = (count: number, name: string, first: Promise<unknown>): void => {
      for (let i = 0; i < count; i += 1) {
        // The first at once (mid-open whatever the load), the others up to the whole open.
        const delayMs = i === 0 ? 0 : Math.floor(random() * openMs);
        const openAfter = i === 0 ? first : starts.at(-1)!.catch(() => undefined);
        starts.push(runCrashChild(spec, `${name}${i}`, SEED + i, { at: 'init', delayMs, openAfter }, 'init'));
      }
    };
    startKills(FRESH_KILLS, 'fresh', Promise.resolve());
    const freshKilled = starts.at(-1)!;
    startKills(DATA_KILLS, 'data', writerDead);
    // A writer opens what the killed opens left, writes, and dies mid-write: the next opens
    // find its temp files, locks and mark (the file backend's start-up sweep).
    let writer: ChildRun;
    try {
      await freshKilled;
      const delayMs = 100 + Math.floor(random() * 300);
      writer = await runCrashChild(spec, 'a', SEED, { at: 'write', delayMs });
    } finally {
      writerDied();
    }
    const runs = await Promise.all(starts);
    const inside = runs.filter((run) => !run.ready).length;
    // At least one kill per store state landed inside initialize() (the delay-0 ones).
    expect([ctx.harness.name, 'kills inside initialize()', inside >= 2]).toEqual([
      ctx.harness.name,
      'kills inside initialize()',
      true,
    ]);
    const fresh = await store.open();
    const pids = [...runs, writer].map((run) => run.pid);
    if (spec.backend === 'file') expect(await leftovers(String(spec.config.baseDir), pids)).toEqual([]);
    if (spec.backend === 'postgres') {
      expect(await schemaObjects(String(spec.config.schema))).toEqual(
        await schemaObjects(String(reference.childSpec!.config.schema)),
      );
    }
    const finals = await checkKeys(fresh, [writer.calls]);
    checkUnfinishedBatches(spec, writer.calls, finals);
    await checkMemories(fresh, writer.calls);
    await checkChains(fresh, writer.calls);
    await checkTrims(fresh, writer.calls);
    await expectStatsMatch(fresh);
    await expectWritable(fresh);
    await expectStatsMatch(fresh);
  }, 60_000);
}
