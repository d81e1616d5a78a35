/**
 * The writes `read-only-midway.child.ts` runs while its disk turns read-only, the seed they
 * start from, and what each may leave: a write that resolved is there; one that rejected left
 * the old record or (failing after its rename) the new one, never anything else.
 */
import type { StorageInterface } from '../../src/core/index.js';

/** How one write ended in the child: `error` is `null` when it resolved. */
export interface Outcome {
  name: string;
  error: string | null;
}

/** One write of the child, and the check of what it left. */
export interface MidwayWrite {
  name: string;
  /** What its error must name (a record's id). */
  id: string;
  run(store: StorageInterface): Promise<unknown>;
  /** Problems with what is stored after the write `resolved` or not (`[]`: none). */
  check(store: StorageInterface, resolved: boolean): Promise<string[]>;
}

/** Writes of each kind: the trip lands among them. */
const ROUNDS = 24;

/** Stores what the writes overwrite or delete. */
export async function seedMidway(store: StorageInterface): Promise<void> {
  for (let i = 0; i < ROUNDS; i += 1) {
    await store.storeConversation(`c${i}`, { v: 0 });
    await store.storeSystemState(`s${i}`, { v: 0 });
    await store.storeCacheEntry(`d${i}`, { v: 0 });
  }
}

/** `value` when the write resolved; either of two when it did not. */
function expectOne(name: string, got: unknown, resolved: boolean, old: unknown, now: unknown): string[] {
  const text = JSON.stringify(got);
  if (text === JSON.stringify(now)) return [];
  if (!resolved && text === JSON.stringify(old)) return [];
  return [`${name} (${resolved ? 'resolved' : 'rejected'}): found ${text}`];
}

/** The writes, interleaved by kind. */
export function midwayWrites(): MidwayWrite[] {
  const out: MidwayWrite[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const conversation = `shared${i % 3}`;
    const agent = `a${i % 3}`;
    out.push(
      {
        name: `storeConversation c${i}`,
        id: `c${i}`,
        run: (s) => s.storeConversation(`c${i}`, { v: 1 }),
        check: async (s, ok) => expectOne(`c${i}`, await s.loadConversation(`c${i}`), ok, { v: 0 }, { v: 1 }),
      },
      {
        name: `storeMemory ${conversation} m${i}`,
        id: conversation,
        run: (s) => s.storeMemory(conversation, `m${i}`, { v: i }),
        check: async (s, ok) => {
          const found = (await s.loadMemories(conversation)).filter((m) => m.memory_id === `m${i}`);
          return expectOne(
            `m${i}`,
            found.map((m) => m['v']),
            ok,
            [],
            [i],
          );
        },
      },
      {
        name: `storeCacheEntry k${i}`,
        id: `k${i}`,
        run: (s) => s.storeCacheEntry(`k${i}`, { v: i }),
        check: async (s, ok) => expectOne(`k${i}`, await s.loadCacheEntry(`k${i}`), ok, null, { v: i }),
      },
      {
        name: `storeSystemState s${i}`,
        id: `s${i}`,
        run: (s) => s.storeSystemState(`s${i}`, { v: 1 }),
        check: async (s, ok) => expectOne(`s${i}`, await s.loadSystemState(`s${i}`), ok, { v: 0 }, { v: 1 }),
      },
      {
        name: `storeReasoningChain ${agent} ${i}`,
        id: agent,
        run: (s) => s.storeReasoningChain(agent, { v: i }),
        check: async (s, ok) => {
          const found = (await s.loadReasoningChains(agent)).filter((c) => c['v'] === i);
          return expectOne(`chain ${i}`, found.length, ok, 0, 1);
        },
      },
      {
        name: `deleteCacheEntry d${i}`,
        id: `d${i}`,
        run: (s) => s.deleteCacheEntry(`d${i}`),
        check: async (s, ok) => expectOne(`d${i}`, await s.loadCacheEntry(`d${i}`), ok, { v: 0 }, null),
      },
    );
  }
  return out;
}
