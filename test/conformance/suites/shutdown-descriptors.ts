/**
 * Conformance: once `shutdown()` resolves, the instance holds no descriptor of its own (no
 * socket, database file, lock file), so a caller that checks right after (a test, a host closing
 * plugins, `--detect-open-handles`) finds nothing left. A client the store was given stays open.
 */
import type { StorageInterface } from '../../../src/core/index.js';
import { canListDescriptors, descriptorsOpenedSince, openDescriptors } from '../../support/descriptors.js';
import type { SuiteContext } from '../context.js';

/** Calls of every kind, many at once, so pooled backends open several connections. */
async function useEveryKind(s: StorageInterface): Promise<void> {
  await Promise.all(
    Array.from({ length: 12 }, async (_, i) => {
      await s.storeConversation(`c${i}`, { i, text: `hunting word${i}` });
      await s.storeRawMessages(`c${i}`, [{ m: i }]);
      await s.storeMemory(`c${i}`, 'm1', { text: `memory about hunting ${i}` });
      await s.storeReasoningChain(`agent${i % 3}`, { n: i });
      await s.storeCacheEntry(`k${i}`, { v: i }, 3600);
      await s.storeSystemState(`s${i}`, { v: i });
    }),
  );
  await Promise.all(Array.from({ length: 12 }, (_, i) => s.loadConversation(`c${i}`)));
  await s.search({ text: 'hunting' });
  await s.listConversations();
  await s.healthCheck();
  await s.getStorageStats();
}

export function shutdownDescriptorTests(ctx: SuiteContext): void {
  const itWithDescriptors = canListDescriptors ? it : it.skip;

  describe('shutdown() releases descriptors', () => {
    itWithDescriptors('once shutdown() resolves, the instance holds no descriptor of its own', async () => {
      const store = await ctx.newStore();
      // A first instance loads drivers and native modules once per process (not the store's own).
      const first = await store.open();
      await useEveryKind(first);
      await first.shutdown();

      const before = openDescriptors();
      const s = await store.open();
      try {
        await useEveryKind(s);
        // Several calls at once: pooled backends hold more than one connection now.
        expect(await s.shutdown()).toBe(true);
        // Read in the same turn as the resolve: nothing may be left to close a little later.
        const left = descriptorsOpenedSince(before);
        if (ctx.harness.givenClient) {
          // The harness's client, given to the store: the store left it open, as it must.
          expect(left.length).toBeGreaterThan(0);
          expect(left.filter((fd) => !/ -> socket:/.test(fd))).toEqual([]);
        } else {
          expect(left).toEqual([]);
        }
      } finally {
        await s.shutdown();
      }
    });
  });
}
