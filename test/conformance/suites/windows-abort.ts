/**
 * Conformance: windowed loads of raw messages and memories, and cancellation with an
 * `AbortSignal` (issue 12, paging and cancellation).
 */
import { getEventListeners } from 'node:events';
import {
  MAX_PAGE_SIZE,
  OperationAbortedError,
  type StorageInterface,
  ValidationError,
  type WindowOptions,
} from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const MESSAGES = Array.from({ length: 10 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', n: i }));

/** An AbortSignal that has already fired with `reason`. */
function aborted(reason: unknown = new Error('stop now')): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

const BAD_WINDOWS: Array<[unknown, string]> = [
  [{ offset: -1 }, 'offset'],
  [{ offset: 1.5 }, 'offset'],
  [{ offset: '2' }, 'offset'],
  [{ offset: Number.MAX_SAFE_INTEGER + 2 }, 'offset'],
  [{ limit: 0 }, 'limit'],
  [{ limit: -3 }, 'limit'],
  [{ limit: 2.5 }, 'limit'],
  [{ limit: MAX_PAGE_SIZE + 1 }, 'limit'],
  [{ limit: Infinity }, 'limit'],
  [{ start: 1 }, 'options'],
  [[1, 2], 'options'],
  [null, 'options'],
];

export function windowAndAbortTests(ctx: SuiteContext): void {
  describe('windows', () => {
    it('reads a window of raw messages; without one, exactly the whole list', async () => {
      const s = ctx.storage();
      await s.storeRawMessages('c1', MESSAGES);
      expect(await s.loadRawMessages('c1')).toEqual(MESSAGES);
      expect(await s.loadRawMessages('c1', {})).toEqual(MESSAGES);
      expect(await s.loadRawMessages('c1', { offset: 2, limit: 3 })).toEqual(MESSAGES.slice(2, 5));
      expect(await s.loadRawMessages('c1', { offset: 8, limit: 5 })).toEqual(MESSAGES.slice(8));
      expect(await s.loadRawMessages('c1', { offset: 7 })).toEqual(MESSAGES.slice(7));
      expect(await s.loadRawMessages('c1', { limit: 1 })).toEqual(MESSAGES.slice(0, 1));
      expect(await s.loadRawMessages('c1', { offset: 10 })).toEqual([]);
      expect(await s.loadRawMessages('absent', { offset: 0, limit: 2 })).toEqual([]);
    });

    it('reads a window of memories in insertion order, replaced ones in place', async () => {
      const s = ctx.storage();
      for (let i = 0; i < 6; i += 1) await s.storeMemory('c1', `m${i}`, { n: i });
      await s.storeMemory('c1', 'm1', { n: 'replaced' }); // D7: keeps its position
      await s.deleteMemory('c1', 'm3');
      const all = await s.loadMemories('c1');
      expect(all.map((m) => m.memory_id)).toEqual(['m0', 'm1', 'm2', 'm4', 'm5']);
      expect(await s.loadMemories('c1', { offset: 1, limit: 2 })).toEqual(all.slice(1, 3));
      expect(await s.loadMemories('c1', { offset: 3 })).toEqual(all.slice(3));
      expect(await s.loadMemories('c1', { offset: 5, limit: 1 })).toEqual([]);
      expect(await s.loadMemories('absent', { limit: 1 })).toEqual([]);
    });

    it.each(BAD_WINDOWS)('refuses the window %j (%s) before any I/O', async (window, field) => {
      const s = ctx.storage();
      await s.shutdown(); // a call that reached I/O would fail with NotInitializedError instead
      for (const [load, what] of [
        [() => s.loadRawMessages('c1', window as WindowOptions), 'raw messages of "c1": '],
        [() => s.loadMemories('c1', window as WindowOptions), 'memories of "c1": '],
      ] as const) {
        await expect(load()).rejects.toThrow(ValidationError);
        await expect(load()).rejects.toMatchObject({ field, message: expect.stringContaining(what) });
      }
    });
  });

  describe('cancellation', () => {
    /** Every cancellable call, with an already-aborted signal. */
    const CALLS: Array<[string, (s: StorageInterface, signal: AbortSignal) => Promise<unknown>]> = [
      ['listConversations', (s, signal) => s.listConversations({ signal })],
      ['listAllConversationIds', (s, signal) => s.listAllConversationIds({ signal })],
      ['listAgents', (s, signal) => s.listAgents({ signal })],
      ['listCacheKeys', (s, signal) => s.listCacheKeys({ signal })],
      ['listSystemStateKeys', (s, signal) => s.listSystemStateKeys({ signal })],
      ['listConversations', (s, signal) => s.iterate('conversations', { signal }).next()],
      ['getStorageStats', (s, signal) => s.getStorageStats({ signal })],
      ['purgeExpiredCache', (s, signal) => s.purgeExpiredCache({ signal })],
      ['search', (s, signal) => s.search({ text: 'fox', signal })],
      ['reindex', (s, signal) => s.reindex({ signal })],
    ];

    it.each(CALLS)(
      '%s rejects with OperationAbortedError on an aborted signal, before any I/O',
      async (method, call) => {
        const s = ctx.storage();
        const reason = new Error('stop now');
        const error = await call(s, aborted(reason)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(OperationAbortedError);
        expect(error).toMatchObject({ code: 'ABORTED', method, cause: reason });
        await s.shutdown(); // no I/O is attempted: still the abort, not NotInitializedError
        await expect(call(s, aborted())).rejects.toThrow(OperationAbortedError);
      },
    );

    // A long-lived signal (an app's shutdown signal) passed to many calls must not collect listeners.
    it('leaves no listener on the signal once a call settles, finished or aborted mid-call', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { t: 'fox' });
      const live = new AbortController();
      for (const [, call] of CALLS) {
        await call(s, live.signal);
        expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
        const controller = new AbortController();
        const settled = call(s, controller.signal).then(
          () => 'resolved',
          (error: unknown) => (error instanceof OperationAbortedError ? 'aborted' : error),
        );
        controller.abort(new Error('mid-call'));
        expect(['resolved', 'aborted']).toContain(await settled);
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      }
      expect(await s.loadConversation('c1')).toEqual({ t: 'fox' });
    });

    it('stops a walk between pages when the signal fires', async () => {
      const s = ctx.storage();
      for (let i = 0; i < 6; i += 1) await s.storeSystemState(`s${i}`, { i });
      const controller = new AbortController();
      const seen: string[] = [];
      const walk = async (): Promise<void> => {
        for await (const key of s.iterate('systemStateKeys', { pageSize: 2, signal: controller.signal })) {
          seen.push(key);
          if (seen.length === 3) controller.abort(new Error('enough'));
        }
      };
      await expect(walk()).rejects.toMatchObject({
        name: 'OperationAbortedError',
        method: 'listSystemStateKeys',
      });
      expect(seen).toEqual(['s0', 's1', 's2']);
    });

    it('an aborted purge removes nothing; a later one removes the expired entries', async () => {
      const s = ctx.storage();
      await s.storeCacheEntry('short', { v: 1 }, 60);
      await s.storeCacheEntry('kept', { v: 2 });
      await ctx.passTime(61_000, ['short']);
      await expect(s.purgeExpiredCache({ signal: aborted() })).rejects.toThrow(OperationAbortedError);
      expect(await s.listCacheKeys()).toEqual(['kept']);
      expect(await s.purgeExpiredCache({ signal: new AbortController().signal })).toBe(1);
      expect(await s.loadCacheEntry('kept')).toEqual({ v: 2 });
    });

    it('a signal that does not fire changes nothing', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { t: 1 });
      const { signal } = new AbortController();
      expect(await s.listConversations({ signal })).toEqual({ items: ['c1'], next: null });
      expect(await s.getStorageStats({ signal })).toMatchObject({ conversation_count: 1 });
    });

    it('rejects as soon as the signal fires during a read (AbortSignal.timeout)', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { t: 1 });
      const controller = new AbortController();
      const call = s.getStorageStats({ signal: controller.signal });
      controller.abort(new DOMException('timed out', 'TimeoutError'));
      await expect(call).rejects.toMatchObject({ code: 'ABORTED', cause: { name: 'TimeoutError' } });
      // The store is still usable afterwards.
      expect((await s.getStorageStats({ signal: AbortSignal.timeout(60_000) })).conversation_count).toBe(1);
    });
  });
}
