/**
 * Conformance (crash suite): a process killed inside `deleteConversation`. Every backend's
 * conversation delete is one step (the file backend: one rename of the folder; SQLite and
 * PostgreSQL: one transaction; Redis: one script), so a conversation whose delete was cut short
 * is still whole, every kind as stored, or gone, every kind at once; listings and stats agree.
 */
import { isDeepStrictEqual } from 'node:util';
import type { StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { leftovers, runCrashChild } from '../crash-runs.js';
import type { LoggedCall } from './crash-checks.js';
import { expectStatsMatch } from './multi-process-checks.js';

/** The kill delays and the children's seeds derive from this (`CRASH_SEED=n` tries others). */
const SEED = Number(process.env.CRASH_SEED ?? 2300) + 400;

/** Every kind of a conversation, as loads return them (memories without their `created_at`). */
async function conversationState(s: StorageInterface, id: string): Promise<unknown> {
  const memories = (await s.loadMemories(id)).map(({ created_at: _, ...memory }) => memory);
  const state = {
    conversation: await s.loadConversation(id),
    raw: await s.loadRawMessages(id),
    memories,
    chunks: await s.loadChunkInfo(id),
  };
  // Plain objects of this realm: a driver's rows may be made in another (Jest runs tests in a
  // vm context), which isDeepStrictEqual tells apart.
  return JSON.parse(JSON.stringify(state)) as unknown;
}

const ABSENT = { conversation: null, raw: [], memories: [], chunks: null };

/** What a finished `storeConversationBatch` of the child wrote, in {@link conversationState}'s form. */
function storedState(store: LoggedCall): unknown {
  const of = (kind: string) => store.writes.filter((w) => w.kind === kind);
  return {
    conversation: of('conversation')[0]?.value,
    raw: of('raw')[0]?.value,
    memories: of('memory').map((w) => ({ memory_id: w.memoryId, ...(w.value as object) })),
    chunks: of('chunk')[0]?.value,
  };
}

/** Registers the delete kills (within the crash suite's describe). */
export function deleteKillTests(ctx: SuiteContext): void {
  it('a conversation whose delete was killed is whole or gone, every kind at once', async () => {
    const store = await ctx.newStore();
    const spec = store.childSpec!;
    const calls: LoggedCall[] = [];
    const pids: number[] = [];
    for (const [n, writer] of ['a', 'b', 'c'].entries()) {
      // Early, while every lane still deletes what it stored before it was ready (crash.child.ts):
      // killed later (50-300 ms), a fast backend's lanes had moved on to store-then-delete, and a
      // CI run under load cut no delete at all (postgres, 2026-12-05).
      const delayMs = 5 + ((SEED * (n + 1)) % 35);
      const run = await runCrashChild(spec, writer, SEED + n, { at: 'write', delayMs }, 'deletes');
      calls.push(...run.calls);
      pids.push(run.pid);
    }
    const fresh = await store.open();
    if (spec.backend === 'file') expect(await leftovers(String(spec.config.baseDir), pids)).toEqual([]);
    const stored = new Map(
      calls.filter((c) => c.call === 'storeConversationBatch' && c.done).map((c) => [c.writes[0]!.id, c]),
    );
    const deletes = calls.filter((c) => c.call === 'deleteConversation' && stored.has(c.writes[0]!.id));
    const cut = deletes.filter((c) => !c.done);
    // Each lane is mostly inside a delete when the kill comes (crash.child.ts): some are cut.
    expect(cut.length).toBeGreaterThan(0);
    const wrong: string[] = [];
    const whole: string[] = [];
    for (const call of deletes) {
      const id = call.writes[0]!.id;
      const state = await conversationState(fresh, id);
      if (isDeepStrictEqual(state, storedState(stored.get(id)!)) && !call.done) whole.push(id);
      else if (!isDeepStrictEqual(state, ABSENT))
        wrong.push(`${id} (delete ${call.done ? 'done' : 'cut'}): ${JSON.stringify(state)}`);
    }
    expect(wrong).toEqual([]);
    // Of those, listed exactly when whole.
    const deleted = new Set(deletes.map((c) => c.writes[0]!.id));
    const listed = (await fresh.listAllConversationIds()).filter((id) => deleted.has(id));
    expect(listed.sort()).toEqual(whole.sort());
    await expectStatsMatch(fresh);
    // Writes go on where the delete was cut.
    for (const call of cut) await fresh.storeConversation(call.writes[0]!.id, { after: true });
    for (const call of cut) expect(await fresh.loadConversation(call.writes[0]!.id)).toEqual({ after: true });
    await fresh.shutdown();
  }, 60_000);
}
