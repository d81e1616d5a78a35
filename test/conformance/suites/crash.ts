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
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageInterface } from '../../../src/core/index.js';
import { seededRandom } from '../../../bench/random.js';
import type { SuiteContext } from '../context.js';
import type { ChildStoreSpec } from '../harness.js';
import type { CrashCall, CrashLine, CrashWrite } from '../crash-log.js';
import { expectStatsMatch } from './multi-process-checks.js';

const ROOT = join(__dirname, '..', '..', '..');
const CHILD = join(ROOT, 'test', 'conformance', 'crash.child.ts');

/** The kill delays (and the children's seeds) derive from this (`CRASH_SEED=n` tries others). */
const SEED = Number(process.env.CRASH_SEED ?? 2300);

/** A call of a killed child, and whether it had finished. */
interface LoggedCall extends CrashCall {
  done: boolean;
}

/** Starts a child, lets it write for `delayMs` once it is ready, kills it; resolves with its calls in start order. */
function runAndKill(
  spec: ChildStoreSpec,
  writer: string,
  seed: number,
  delayMs: number,
): Promise<{ pid: number; calls: LoggedCall[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, JSON.stringify(spec), writer, String(seed)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!killed && stdout.includes('"ready":true')) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`crash child ${writer} ended by itself: ${stderr}`));
        return;
      }
      const calls = new Map<number, LoggedCall>();
      // The last line may be cut by the kill; JSON.parse would throw on it.
      for (const text of stdout.split('\n')) {
        let line: CrashLine;
        try {
          line = JSON.parse(text) as CrashLine;
        } catch {
          continue;
        }
        if ('n' in line) calls.set(line.n, { ...line, done: false });
        else if ('done' in line) calls.get(line.done)!.done = true;
      }
      resolve({ pid: child.pid!, calls: [...calls.values()].sort((a, b) => a.n - b.n) });
    });
  });
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const brief = (v: unknown): string => JSON.stringify(v)?.slice(0, 100) ?? 'undefined';

/** The values a key may hold: its last finished write's (or nothing), or any later unfinished one's. */
function candidates(calls: LoggedCall[], kind: CrashWrite['kind'], id: string): unknown[] {
  const writes = calls.flatMap((call) =>
    call.writes
      .filter((w) => w.kind === kind && w.id === id)
      .map((w) => ({ value: w.value, done: call.done })),
  );
  const last = writes.map((w) => w.done).lastIndexOf(true);
  return [last < 0 ? null : writes[last]!.value, ...writes.slice(last + 1).map((w) => w.value)];
}

async function loadKey(s: StorageInterface, kind: CrashWrite['kind'], id: string): Promise<unknown> {
  if (kind === 'conversation') return s.loadConversation(id);
  if (kind === 'chunk') return s.loadChunkInfo(id);
  if (kind === 'cache') return s.loadCacheEntry(id);
  if (kind === 'state') return s.loadSystemState(id);
  const raw = await s.loadRawMessages(id);
  return raw.length === 0 ? null : raw;
}

const KEYS: Array<[CrashWrite['kind'], string[]]> = [
  ['conversation', ['o0', 'o1', 'o2']],
  ['raw', ['o0', 'o1', 'o2']],
  ['chunk', ['o0', 'o1', 'o2']],
  ['cache', ['k0', 'k1', 'k2']],
  ['state', ['s0', 's1', 's2']],
];

async function checkKeys(s: StorageInterface, calls: LoggedCall[]): Promise<Map<string, unknown>> {
  const finals = new Map<string, unknown>();
  for (const [kind, ids] of KEYS) {
    for (const id of ids) {
      const actual = await loadKey(s, kind, id);
      const allowed = candidates(calls, kind, id);
      if (!allowed.some((c) => same(c, actual))) {
        throw new Error(`${kind} ${id}: ${brief(actual)} is none of ${allowed.map(brief).join(', ')}`);
      }
      finals.set(`${kind}/${id}`, actual);
    }
  }
  return finals;
}

/**
 * An unfinished batch's parts that no later call wrote again landed or not by the README's rule
 * for the backend: all or nothing, or (file conversation batches) a prefix.
 */
function checkUnfinishedBatches(
  spec: ChildStoreSpec,
  calls: LoggedCall[],
  finals: Map<string, unknown>,
): void {
  calls.forEach((call, index) => {
    if (call.done || !['storeConversationBatch', 'storeCacheEntries'].includes(call.call)) return;
    const later = calls.slice(index + 1).flatMap((c) => c.writes.map((w) => `${w.kind}/${w.id}`));
    const parts = call.writes.filter((w) => !later.includes(`${w.kind}/${w.id}`));
    if (parts.length < call.writes.length) return; // some part's outcome is hidden by a later write
    const landed = parts.map((w) => same(finals.get(`${w.kind}/${w.id}`), w.value));
    const label = `${call.call} #${call.n} landed ${JSON.stringify(landed)}`;
    if (call.call === 'storeCacheEntries') {
      if (spec.backend === 'file' || spec.clusterNodes) return; // per key / per bucket
      expect([label, new Set(landed).size]).toEqual([label, 1]);
    } else if (spec.backend === 'file') {
      expect([
        label,
        landed.indexOf(false) < 0 || !landed.slice(landed.indexOf(false)).includes(true),
      ]).toEqual([label, true]);
    } else if (spec.backend !== 'redis') {
      expect([label, new Set(landed).size]).toEqual([label, 1]);
    }
  });
}

async function checkMemories(s: StorageInterface, calls: LoggedCall[]): Promise<void> {
  for (const id of ['m0', 'm1', 'm2']) {
    const loaded = await s.loadMemories(id);
    const byId = new Map(loaded.map((m) => [m.memory_id as string, m]));
    expect(byId.size).toBe(loaded.length);
    const expected: string[] = [];
    for (const call of calls) {
      const writes = call.writes.filter((w) => w.kind === 'memory' && w.id === id);
      if (writes.length === 0) continue;
      const present = writes.map((w) => byId.has(w.memoryId!));
      const label = `${call.call} #${call.n} on ${id} (done: ${call.done})`;
      // A finished call is all there; an unfinished one all or nothing (every backend's rule).
      expect([label, present]).toEqual([label, writes.map(() => call.done || present[0]!)]);
      for (const w of writes) {
        const memory = byId.get(w.memoryId!);
        if (!memory) continue;
        expected.push(w.memoryId!);
        const data: Record<string, unknown> = { ...memory };
        delete data.memory_id;
        delete data.created_at;
        expect([w.memoryId, data]).toEqual([w.memoryId, w.value]);
      }
    }
    // Nothing that no call wrote, and in the order the calls stored them.
    expect(loaded.map((m) => m.memory_id)).toEqual(expected);
  }
}

/** A chain's writer, step and part (a stored chain also gains a `stored_at`). */
function label(c: unknown): string {
  const chain = c as Record<string, unknown>;
  return `${String(chain.writer)}/${String(chain.i)}/${String(chain.part)}`;
}

/**
 * The `trimmed` agent's chains, appended, trimmed and deleted by one lane: what loads is the
 * end state of the calls with each unfinished one applied or not (all or nothing, in order),
 * with sequences increasing.
 */
async function checkTrims(s: StorageInterface, calls: LoggedCall[]): Promise<void> {
  const lane = calls.filter((call) => call.writes.some((w) => w.id === 'trimmed'));
  let states: string[][] = [[]];
  for (const call of lane) {
    const apply = (list: string[]): string[] => {
      const first = call.writes[0]!;
      if (first.kind === 'deleteChains') return [];
      if (first.kind === 'trim') return list.slice(Math.max(0, list.length - (first.value as number)));
      return [...list, ...call.writes.map((w) => label(w.value))];
    };
    states = call.done ? states.map(apply) : [...states, ...states.map(apply)];
  }
  const loaded = await s.loadSequencedReasoningChains('trimmed');
  for (let i = 1; i < loaded.length; i += 1)
    expect(loaded[i]!.sequence).toBeGreaterThan(loaded[i - 1]!.sequence);
  const actual = loaded.map((item) => label(item.chain));
  if (!states.some((state) => same(state, actual))) {
    throw new Error(`trimmed chains ${brief(actual)} are none of ${states.map(brief).join(', ')}`);
  }
}

async function checkChains(s: StorageInterface, calls: LoggedCall[]): Promise<void> {
  const loaded = await s.loadSequencedReasoningChains('chains');
  expect(loaded.map((item) => item.chain)).toEqual(await s.loadReasoningChains('chains'));
  for (let i = 1; i < loaded.length; i += 1)
    expect(loaded[i]!.sequence).toBeGreaterThan(loaded[i - 1]!.sequence);
  const actual = loaded.map((item) => label(item.chain));
  let at = 0;
  for (const call of calls) {
    const mine = call.writes
      .filter((w) => w.kind === 'chain' && w.id === 'chains')
      .map((w) => label(w.value));
    if (mine.length === 0) continue;
    const here = same(actual.slice(at, at + mine.length), mine);
    // A finished append is there, in order; an unfinished one entirely or not at all.
    if (here) at += mine.length;
    else
      expect([`${call.call} #${call.n} (done: ${call.done}) at ${at}`, actual.slice(at, at + 3)]).toEqual([
        `${call.call} #${call.n} (done: ${call.done}) at ${at}`,
        call.done ? mine.slice(0, 3) : actual.slice(at, at + 3),
      ]);
  }
  expect(actual.slice(at)).toEqual([]);
}

/** Every writer mark, temp entry and lock folder left under `dir` (the lock file itself stays by design). */
async function leftovers(dir: string, pids: number[]): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const name = entry.name;
    const deadMark = name.endsWith('.writer') && pids.some((pid) => name.includes(`-${pid}-`));
    if (name.endsWith('.tmp') || name.endsWith('.lock') || deadMark) found.push(join(entry.parentPath, name));
  }
  return found;
}

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
      for (const [n, writer] of ['a', 'b'].entries()) {
        const delay =
          Number(process.env.CRASH_DELAY_BASE ?? 100) +
          Math.floor(random() * Number(process.env.CRASH_DELAY_SPAN ?? 400));
        const run = await runAndKill(spec, writer, SEED + n, delay);
        calls.push(...run.calls);
        pids.push(run.pid);
      }
      expect(calls.filter((c) => c.done).length).toBeGreaterThan(0);
      const fresh = await store.open();
      if (spec.backend === 'file') {
        expect(await leftovers(String(spec.config.baseDir), pids)).toEqual([]);
      }
      const finals = await checkKeys(fresh, calls);
      checkUnfinishedBatches(spec, calls, finals);
      await checkMemories(fresh, calls);
      await checkChains(fresh, calls);
      await checkTrims(fresh, calls);
      await expectStatsMatch(fresh);
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
    }, 30_000);
  });
}
