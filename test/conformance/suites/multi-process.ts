/**
 * Conformance: several processes on one store at once. Three child processes
 * (`multi-process.child.ts`, run with tsx) write, overwrite and delete the same ids in the same
 * store; a fresh instance then checks that the end state is one the spec allows and that the
 * stats count exactly what the listings and loads hold. Runs for every setup whose instances
 * share a store.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import { sleep, type SuiteContext } from '../context.js';
import { readChildReport, startChildWriter } from '../child-writer.js';
import type { ChildStoreSpec } from '../harness.js';
import { type ChildReport, KEPT_CHAINS, type LoggedOp, SHORT_TTL_SECONDS } from '../multi-process-log.js';
import { expectPossibleFinal, expectStatsMatch } from './multi-process-checks.js';

/** Runs one child to its end; resolves with its report, rejects with its stderr. */
function runChild(spec: ChildStoreSpec, writer: string, seed: number): Promise<ChildReport> {
  return readChildReport(startChildWriter('multi-process.child.ts', spec, writer, seed), `child ${writer}`);
}

const WRITERS = ['a', 'b', 'c'];

/** The children's seeds are this and the next two (`MULTI_PROCESS_SEED=n` explores others by hand). */
const SEED = Number(process.env.MULTI_PROCESS_SEED ?? 1000);

/** Every writer's calls of one lane as [writer, call] pairs, each writer's in log order. */
function memoryOps(reports: ChildReport[], lane: LoggedOp['lane']): Array<[string, LoggedOp]> {
  return reports.flatMap((r) =>
    r.ops.filter((op) => op.lane === lane).map((op): [string, LoggedOp] => [r.writer, op]),
  );
}

async function checkMemories(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  const written = memoryOps(reports, 'memories');
  for (const id of ['m0', 'm1', 'm2']) {
    const loaded = await s.loadMemories(id);
    const ids = loaded.map((m) => m.memory_id as string);
    const usedIds = new Set(written.filter(([, op]) => op.id === id).map(([, op]) => op.memoryId!));
    expect(new Set(ids).size).toBe(ids.length); // each id once
    expect(ids.filter((m) => !usedIds.has(m))).toEqual([]);
    for (const memoryId of usedIds) {
      const memory = loaded.find((m) => m.memory_id === memoryId);
      let data: Record<string, unknown> | null = null;
      if (memory) {
        expect(typeof memory.created_at).toBe('string');
        data = { ...memory };
        delete data.memory_id;
        delete data.created_at;
      }
      const sameId = reports.map((r) => ({
        writer: r.writer,
        ops: r.ops.filter((op) => op.lane === 'memories' && op.id === id && op.memoryId === memoryId),
      }));
      expectPossibleFinal(`memory ${id}/${memoryId}`, data, sameId);
    }
    // Each writer's own ids keep the order it stored them in.
    for (const writer of WRITERS) {
      const mine = written
        .filter(([w, op]) => w === writer && op.id === id && op.memoryId?.startsWith(`${writer}-`))
        .map(([, op]) => op.memoryId);
      expect(ids.filter((m) => m.startsWith(`${writer}-`))).toEqual(mine);
    }
  }
}

async function checkChains(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  for (const agent of ['chains', 'kept'] as const) {
    const loaded = await s.loadSequencedReasoningChains(agent);
    expect(loaded.map((item) => item.chain)).toEqual(await s.loadReasoningChains(agent));
    const sequences = loaded.map((item) => item.sequence);
    for (let i = 1; i < sequences.length; i += 1) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
    const label = (c: Record<string, unknown>): string =>
      `${String(c.writer)}/${String(c.i)}/${String(c.part)}`;
    const labels = loaded.map((item) => label(item.chain));
    expect(new Set(labels).size).toBe(labels.length);
    const total = reports.reduce((n, r) => n + r.ops.filter((op) => op.lane === agent).length, 0);
    expect(loaded).toHaveLength(agent === 'kept' ? Math.min(total, KEPT_CHAINS) : total);
    for (const report of reports) {
      const mine = report.ops
        .filter((op) => op.lane === agent)
        .map((op) => label(op.value as Record<string, unknown>));
      const kept = labels.filter((l) => l.startsWith(`${report.writer}/`));
      // All of them in order; with retention, the most recent ones (a suffix), in order.
      expect(kept).toEqual(agent === 'kept' ? mine.slice(mine.length - kept.length) : mine);
    }
  }
}

async function checkOverwrites(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  const lane = (kind: LoggedOp['kind'], id: string, deletes: LoggedOp['kind']) =>
    reports.map((r) => ({
      writer: r.writer,
      ops: r.ops.filter(
        (op) =>
          op.lane === 'overwrites' &&
          op.id === id &&
          (op.kind === kind ? true : op.op === 'delete' && op.kind === deletes),
      ),
    }));
  for (const id of ['o0', 'o1', 'o2']) {
    expectPossibleFinal(
      `conversation ${id}`,
      await s.loadConversation(id),
      lane('conversation', id, 'conversation'),
    );
    expectPossibleFinal(`chunk info ${id}`, await s.loadChunkInfo(id), lane('chunk', id, 'conversation'));
    const raw = await s.loadRawMessages(id);
    expectPossibleFinal(`raw messages ${id}`, raw.length === 0 ? null : raw, lane('raw', id, 'conversation'));
  }
  for (const id of ['k0', 'k1', 'k2']) {
    expectPossibleFinal(`cache ${id}`, await s.loadCacheEntry(id), lane('cache', id, 'cache'));
  }
  for (const id of ['s0', 's1', 's2']) {
    expectPossibleFinal(`state ${id}`, await s.loadSystemState(id), lane('state', id, 'state'));
  }
}

/**
 * Appends, trims and deletes of one agent's chains: sequences increase, nothing is doubled, and
 * what is left of each writer is the end of what it appended after its own last delete, in order
 * (a trim takes the oldest, a delete all; each writer's appends get increasing sequences).
 */
async function checkTrims(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  const loaded = await s.loadSequencedReasoningChains('trimmed');
  const sequences = loaded.map((item) => item.sequence);
  for (let i = 1; i < sequences.length; i += 1) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
  const label = (c: unknown): string => {
    const chain = c as Record<string, unknown>;
    return `${String(chain.writer)}/${String(chain.i)}/${String(chain.part)}`;
  };
  const labels = loaded.map((item) => label(item.chain));
  expect(new Set(labels).size).toBe(labels.length);
  for (const report of reports) {
    const ops = report.ops.filter((op) => op.lane === 'trims');
    const lastDelete = ops.map((op) => op.op).lastIndexOf('delete');
    const after = ops.slice(lastDelete + 1).map((op) => label(op.value));
    const mine = labels.filter((l) => l.startsWith(`${report.writer}/`));
    expect(mine).toEqual(after.slice(after.length - mine.length));
  }
}

/**
 * The search index, written by all the processes, finds exactly what the loads hold: every
 * memory and chain of a writer (its name is a word of each), none that was deleted or trimmed.
 */
async function checkSearch(s: StorageInterface): Promise<void> {
  for (const writer of WRITERS) {
    for (const conversationId of ['d', 'm0', 'm1', 'm2']) {
      const hits = await s.search({ text: writer, kinds: ['memories'], conversationId, limit: 1000 });
      const loaded = (await s.loadMemories(conversationId)).filter((m) => m.writer === writer);
      expect([
        conversationId,
        hits.map((hit) => (hit.kind === 'memories' ? hit.memoryId : hit.kind)).sort(),
      ]).toEqual([conversationId, loaded.map((m) => m.memory_id).sort()]);
    }
    const hits = await s.search({
      text: writer,
      kinds: ['reasoning_chains'],
      agentId: 'trimmed',
      limit: 1000,
    });
    const loaded = (await s.loadSequencedReasoningChains('trimmed')).filter((c) => c.chain.writer === writer);
    expect(hits.map((hit) => (hit.kind === 'reasoning_chains' ? hit.sequence : -1)).sort()).toEqual(
      loaded.map((c) => c.sequence).sort(),
    );
  }
}

/** A purge removes only what expired: a key whose last write had no TTL keeps some writer's last value. */
async function checkExpiry(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  for (const id of ['e0', 'e1']) {
    const writers = reports.map((r) => ({
      writer: r.writer,
      // An entry with the short TTL has expired by now: as if it were deleted.
      ops: r.ops
        .filter((op) => op.lane === 'expiry' && op.id === id)
        .map((op): LoggedOp => (op.ttlSeconds === undefined ? op : { ...op, op: 'delete' })),
    }));
    expectPossibleFinal(`expiring cache ${id}`, await s.loadCacheEntry(id), writers);
  }
}

async function checkDeleteRace(s: StorageInterface, reports: ChildReport[]): Promise<void> {
  const ids = (await s.loadMemories('d')).map((m) => m.memory_id as string);
  expect(new Set(ids).size).toBe(ids.length);
  for (const report of reports) {
    const ops = report.ops.filter((op) => op.lane === 'deletes');
    const lastDelete = ops.map((op) => op.op).lastIndexOf('delete');
    const after = ops.slice(lastDelete + 1).map((op) => op.memoryId);
    const mine = ids.filter((id) => id.startsWith(`${report.writer}-d`));
    // A delete takes all or nothing: what survives of a writer is the end of what it stored
    // after its own last delete, in order.
    expect(mine).toEqual(after.slice(after.length - mine.length));
  }
}

/** Registers the multi-process tests (skipped where instances do not share a store). */
export function multiProcessTests(ctx: SuiteContext): void {
  const maybe = ctx.harness.sharedStore ? describe : describe.skip;
  maybe('several processes on one store', () => {
    it('three processes writing, overwriting and deleting the same ids leave a state the spec allows', async () => {
      // A store no instance has opened yet: the children also race to set it up.
      const store = await ctx.newStore();
      const spec = store.childSpec;
      if (!spec) throw new Error(`${ctx.harness.name}: a shared store needs a childSpec`);
      // Every child is waited for, so none still writes when the store is removed.
      const children = Promise.allSettled(WRITERS.map((writer, n) => runChild(spec, writer, SEED + n)));
      let running = true;
      void children.then(() => (running = false));
      // An instance of this process reads all along (once the children are likely set up): no
      // read may fail on what another process is writing, and its stats, kept across all those
      // changes, must be as exact as a fresh instance's.
      await sleep(1500);
      const watcher = await store.open();
      try {
        for (let reads = 0; running || reads === 0; reads += 1) {
          await watcher.getStorageStats();
          await watcher.loadMemories('m0');
          await watcher.loadConversation('o0');
          await watcher.loadRawMessages('o1');
          await watcher.listCacheKeys();
          await watcher.loadSequencedReasoningChains('trimmed');
        }
      } finally {
        await children; // before the store is removed
      }
      const reports = (await children).map((result) => {
        if (result.status === 'rejected') throw result.reason;
        return result.value;
      });
      const fresh = await store.open();
      await checkMemories(fresh, reports);
      await checkChains(fresh, reports);
      await checkOverwrites(fresh, reports);
      await checkDeleteRace(fresh, reports);
      await checkTrims(fresh, reports);
      await checkSearch(fresh);
      await sleep(SHORT_TTL_SECONDS * 1000 * 2);
      await checkExpiry(fresh, reports);
      await expectStatsMatch(fresh);
      await expectStatsMatch(watcher);
    }, 120_000);
  });
}
