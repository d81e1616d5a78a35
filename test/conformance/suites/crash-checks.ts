/** End-state checks of the crash suite: every record is some call's write, batches keep their rule. */
import type { StorageInterface } from '../../../src/core/index.js';
import type { ChildStoreSpec } from '../harness.js';
import { bucketOf } from '../../../src/backends/redis/keys.js';
import type { CrashCall, CrashWrite } from '../crash-log.js';

/** A call of a killed child, and whether it had finished. */
export interface LoggedCall extends CrashCall {
  done: boolean;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const brief = (v: unknown): string => JSON.stringify(v)?.slice(0, 100) ?? 'undefined';

/**
 * The values a key may hold, given each writer's calls (in start order): any writer's last
 * finished write or a later unfinished one of it; nothing only while no writer finished one.
 */
function candidates(writers: LoggedCall[][], kind: CrashWrite['kind'], id: string): unknown[] {
  const found: unknown[] = [];
  let finished = false;
  for (const calls of writers) {
    const writes = calls.flatMap((call) =>
      call.writes
        .filter((w) => w.kind === kind && w.id === id)
        .map((w) => ({ value: w.value, done: call.done })),
    );
    const last = writes.map((w) => w.done).lastIndexOf(true);
    if (last >= 0) finished = true;
    found.push(...writes.slice(Math.max(last, 0)).map((w) => w.value));
  }
  return finished ? found : [null, ...found];
}

async function loadKey(s: StorageInterface, kind: CrashWrite['kind'], id: string): Promise<unknown> {
  if (kind === 'conversation') return s.loadConversation(id);
  if (kind === 'chunk') return s.loadChunkInfo(id);
  if (kind === 'cache') return s.loadCacheEntry(id);
  if (kind === 'state') return s.loadSystemState(id);
  const raw = await s.loadRawMessages(id);
  return raw.length === 0 ? null : raw;
}

/** The keys the mixed workload writes, by kind. */
export const KEYS: Array<[CrashWrite['kind'], string[]]> = [
  ['conversation', ['o0', 'o1', 'o2']],
  ['raw', ['o0', 'o1', 'o2']],
  ['chunk', ['o0', 'o1', 'o2']],
  ['cache', ['k0', 'k1', 'k2']],
  ['state', ['s0', 's1', 's2']],
];

/**
 * Every keyed record holds some writer's last finished write, or a later unfinished one (or
 * nothing); `writers` holds each concurrent writer's calls (one list for writers one after another).
 */
export async function checkKeys(
  s: StorageInterface,
  writers: LoggedCall[][],
  keys = KEYS,
): Promise<Map<string, unknown>> {
  const finals = new Map<string, unknown>();
  for (const [kind, ids] of keys) {
    for (const id of ids) {
      const actual = await loadKey(s, kind, id);
      const allowed = candidates(writers, kind, id);
      if (!allowed.some((c) => same(c, actual))) {
        throw new Error(`${kind} ${id}: ${brief(actual)} is none of ${allowed.map(brief).join(', ')}`);
      }
      finals.set(`${kind}/${id}`, actual);
    }
  }
  return finals;
}

/** The parts of a cache batch that land all or nothing (README atomicity table): the key, the bucket, the batch. */
function cacheGroup(spec: ChildStoreSpec, key: string): string {
  if (spec.backend === 'file') return key; // per key
  if (spec.clusterNodes) return String(bucketOf('k', key)); // per bucket: one script per slot
  return 'batch';
}

/**
 * An unfinished batch's parts that no later call (nor any call of `others`, concurrent writers)
 * wrote again landed or not by the README's rule for the backend: all or nothing (a cache batch:
 * per {@link cacheGroup}), or (file conversation batches) a prefix.
 */
export function checkUnfinishedBatches(
  spec: ChildStoreSpec,
  calls: LoggedCall[],
  finals: Map<string, unknown>,
  others: LoggedCall[] = [],
): void {
  calls.forEach((call, index) => {
    if (call.done || !['storeConversationBatch', 'storeCacheEntries'].includes(call.call)) return;
    const later = [...calls.slice(index + 1), ...others].flatMap((c) =>
      c.writes.map((w) => `${w.kind}/${w.id}`),
    );
    const parts = call.writes.filter((w) => !later.includes(`${w.kind}/${w.id}`));
    if (parts.length < call.writes.length) return; // some part's outcome is hidden by a later write
    const landed = parts.map((w) => same(finals.get(`${w.kind}/${w.id}`), w.value));
    const label = `${call.call} #${call.n} landed ${JSON.stringify(landed)}`;
    if (call.call === 'storeCacheEntries') {
      const groups = new Map<string, boolean[]>();
      parts.forEach((w, i) => {
        const group = cacheGroup(spec, w.id);
        groups.set(group, [...(groups.get(group) ?? []), landed[i]!]);
      });
      for (const [group, part] of groups) {
        expect([label, group, new Set(part).size]).toEqual([label, group, 1]);
      }
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

/**
 * Every memory is some call's, in call order; finished calls all there, unfinished all or
 * nothing. With `writer`, only that writer's memories (ids `<writer>-…`) are looked at.
 */
export async function checkMemories(
  s: StorageInterface,
  calls: LoggedCall[],
  writer?: string,
): Promise<void> {
  for (const id of ['m0', 'm1', 'm2']) {
    const all = await s.loadMemories(id);
    const loaded =
      writer === undefined ? all : all.filter((m) => String(m.memory_id).startsWith(`${writer}-`));
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
export async function checkTrims(s: StorageInterface, calls: LoggedCall[]): Promise<void> {
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

/**
 * The `chains` agent: finished appends in order, unfinished ones whole or absent, sequences
 * increasing. With `writer`, only that writer's chains are matched against its calls.
 */
export async function checkChains(s: StorageInterface, calls: LoggedCall[], writer?: string): Promise<void> {
  const loaded = await s.loadSequencedReasoningChains('chains');
  expect(loaded.map((item) => item.chain)).toEqual(await s.loadReasoningChains('chains'));
  for (let i = 1; i < loaded.length; i += 1)
    expect(loaded[i]!.sequence).toBeGreaterThan(loaded[i - 1]!.sequence);
  const actual = loaded
    .map((item) => label(item.chain))
    .filter((l) => writer === undefined || l.startsWith(`${writer}/`));
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
