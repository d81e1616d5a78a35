/**
 * Conformance: cancelling `reindex()` with an `AbortSignal`. It stops between two batches of the
 * native rebuild or two owners of the semantic re-embed, never inside one, and leaves what a
 * rebuild cut short by a crash leaves: searches return what they return before and after, and a
 * later `reindex()` completes.
 */
import {
  OperationAbortedError,
  type SearchQuery,
  type StorageInterface,
  ValidationError,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { hitId } from './hit-ids.js';
import { openSemantic, vectorIds } from './semantic-fixtures.js';

/** Text searches over every kind, scoped and not: their hit sets are compared around aborts. */
const QUERIES: SearchQuery[] = [
  { text: 'password', limit: 100 },
  { text: 'notes', limit: 100 },
  { text: 'reset password', match: 'all', limit: 100 },
  { text: 'chain', agentId: 'a1', limit: 100 },
  { text: 'topic', limit: 100 },
  { text: 'notes', conversationId: 'c2', limit: 100 },
];

async function populate(s: StorageInterface): Promise<void> {
  for (const c of ['c1', 'c2', 'c3', 'c4', 'c5']) {
    await s.storeConversation(c, { title: `${c} topic` });
    await s.storeMemories(c, [
      { memoryId: 'm1', data: { text: `${c} password notes` } },
      { memoryId: 'm2', data: { text: `${c} other notes` } },
    ]);
    await s.storeRawMessages(c, [{ text: `${c} reset my password` }, { text: `${c} notes` }]);
    await s.storeChunkInfo(c, { summary: `${c} topic notes` });
  }
  for (const a of ['a1', 'a2', 'a3']) await s.storeReasoningChain(a, { text: `${a} password chain` });
}

/** Every query's hits as sorted ids (a scan and an index may order equal hits differently). */
async function hitSets(s: StorageInterface): Promise<string[][]> {
  const sets: string[][] = [];
  for (const query of QUERIES) sets.push((await s.search(query)).map(hitId).sort());
  return sets;
}

/** An AbortSignal that has already fired with `reason`. */
function aborted(reason: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

const ABORTED_GETTER = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * A real AbortSignal that fires with `reason` when it is checked for the `at`-th time: a
 * controlled point inside the call (each check is a step boundary), with no timer.
 */
function abortingAtCheck(at: number, reason: unknown): { signal: AbortSignal; checks(): number } {
  const controller = new AbortController();
  let checks = 0;
  Object.defineProperty(controller.signal, 'aborted', {
    get(this: AbortSignal): boolean {
      checks += 1;
      if (checks === at) controller.abort(reason);
      return ABORTED_GETTER?.call(this) as boolean;
    },
  });
  return { signal: controller.signal, checks: () => checks };
}

async function expectAborted(call: Promise<unknown>, reason: unknown): Promise<void> {
  const error: unknown = await call.then(
    () => new Error('reindex() resolved'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OperationAbortedError);
  expect((error as OperationAbortedError).method).toBe('reindex');
  expect((error as OperationAbortedError).cause).toBe(reason);
}

/** Registers the tests of `reindex({ signal })`. */
export function reindexAbortTests(ctx: SuiteContext): void {
  describe('reindex() cancellation', () => {
    it('refuses bad options with a ValidationError', async () => {
      const s = ctx.storage();
      const bad: unknown[] = [{ signal: 'stop' }, { signal: {} }, { limit: 1 }, null, [1], 'signal'];
      for (const options of bad) {
        await expect(s.reindex(options as { signal?: AbortSignal })).rejects.toBeInstanceOf(ValidationError);
      }
      await expect(s.reindex({})).resolves.toEqual(expect.any(Number));
    });

    it('an already-aborted signal rejects before any step and changes nothing', async () => {
      const s = ctx.storage();
      await populate(s);
      const before = await hitSets(s);
      const reason = new Error('stop before');
      await expectAborted(s.reindex({ signal: aborted(reason) }), reason);
      // Fired at its first check: no later step (each checks it before its I/O) was reached.
      const first = abortingAtCheck(1, reason);
      await expectAborted(s.reindex({ signal: first.signal }), reason);
      expect(first.checks()).toBe(1);
      expect(await hitSets(s)).toEqual(before);
    });

    it('aborted at each step of the rebuild, leaves search right, and a later reindex() completes', async () => {
      const s = ctx.storage();
      await populate(s);
      const before = await hitSets(s);
      // How many checks a whole run makes: every step boundary of this backend's rebuild.
      const full = abortingAtCheck(Number.POSITIVE_INFINITY, null);
      const count = await s.reindex({ signal: full.signal });
      const steps = full.checks();
      // It checks its signal before any I/O, and a native index between its steps too.
      expect(steps).toBeGreaterThanOrEqual(count > 0 ? 3 : 1);
      expect(await hitSets(s)).toEqual(before);
      // The first check is before any I/O; abort at every later one (each a different point).
      for (let at = 1; at <= steps; at += 1) {
        const reason = new Error(`stop at check ${at}`);
        const cut = abortingAtCheck(at, reason);
        await expectAborted(s.reindex({ signal: cut.signal }), reason);
        expect({ at, sets: await hitSets(s) }).toEqual({ at, sets: before });
      }
      // Writes after an aborted rebuild are found, and a later reindex() completes.
      if (steps > 1)
        await expectAborted(s.reindex({ signal: abortingAtCheck(steps, 'late').signal }), 'late');
      await s.storeMemory('c1', 'm3', { text: 'fresh password notes' });
      const after = await hitSets(s);
      expect(after[0]).toContain('memories:c1:m3');
      expect(await s.reindex()).toBe(count === 0 ? 0 : count + 1);
      expect(await hitSets(s)).toEqual(after);
    });

    it('aborted inside the semantic re-embed, keeps vector search whole, and a later reindex() completes', async () => {
      const { s, embedder, vectors } = await openSemantic(ctx);
      await populate(s);
      const text = await hitSets(s);
      const vector = await vectorIds(s, 'password notes');
      const stored = await vectors.count();
      // Already aborted: nothing is embedded.
      embedder.documents.length = 0;
      await expectAborted(s.reindex({ signal: aborted('early') }), 'early');
      expect(embedder.documents).toEqual([]);
      // Aborted from inside the second owner's embedding: the pass stops before the third.
      const controller = new AbortController();
      const reason = new Error('stop embedding');
      let calls = 0;
      embedder.eachDocumentCall = () => {
        calls += 1;
        if (calls === 2) controller.abort(reason);
        return Promise.resolve();
      };
      try {
        await expectAborted(s.reindex({ signal: controller.signal }), reason);
      } finally {
        embedder.eachDocumentCall = undefined;
      }
      const embeddedBeforeStop = calls;
      expect(await vectorIds(s, 'password notes')).toEqual(vector);
      expect(await vectors.count()).toBe(stored);
      expect(await hitSets(s)).toEqual(text);
      // A later reindex() embeds every owner again and leaves the same results.
      let fullCalls = 0;
      embedder.eachDocumentCall = () => {
        fullCalls += 1;
        return Promise.resolve();
      };
      try {
        await s.reindex();
      } finally {
        embedder.eachDocumentCall = undefined;
      }
      expect(embeddedBeforeStop).toBeLessThan(fullCalls);
      expect(await vectorIds(s, 'password notes')).toEqual(vector);
      expect(await vectors.count()).toBe(stored);
    });
  });
}
