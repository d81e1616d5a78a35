/**
 * A private server that crashes (postmaster and backends killed with SIGKILL) or stops in
 * immediate mode under a store with calls in flight: no unhandled error reaches the process,
 * calls while it is down fail typed, and after crash recovery every committed record is there,
 * the interrupted batch is not, and the same instance goes on without `initialize()`.
 */
import { BackendUnavailableError } from '../../src/core/index.js';
import { holdLocks, ident, settle, useFaultSuite, waitForLockWaiters } from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const id = (i: number) => `c${String(i).padStart(3, '0')}`;

describeWithPrivatePostgres()('postgres: the server crashes', () => {
  const { stores, server } = useFaultSuite({ restart: true });

  it.each(['kill -9', 'immediate stop'] as const)(
    'keeps what was committed across a %s, drops the batch in flight, recovers',
    async (how) => {
      const s = await stores.store(server(), { max: 4 });
      const items = range(20).map((i) => ({
        conversationId: id(i),
        conversation: { i },
        memories: range(5).map((j) => ({ memoryId: `m${j}`, data: { i, j } })),
      }));
      await s.storeConversationBatch(items);
      await s.appendReasoningChains(
        'agent',
        range(50).map((i) => ({ i })),
      );
      await s.storeCacheEntries(range(50).map((i) => ({ key: `k${i}`, data: { i } })));
      await s.storeSystemState('state', { done: true });
      // A batch in flight, held on its memories' statement by another session's row lock.
      const locker = await holdLocks(
        server(),
        `SELECT 1 FROM ${ident(s.schema)}.memories WHERE conversation_id = 'c000' FOR UPDATE`,
      );
      const late = range(10).map((i) => ({
        conversationId: id(i === 0 ? 0 : 100 + i),
        conversation: { late: i },
        memories: [{ memoryId: 'm0', data: { late: i } }],
      }));
      const inFlight = settle(s.storeConversationBatch(late));
      // Idle pooled connections too, which the crash drops in the background.
      await Promise.all(range(3).map(() => s.loadConversation(id(1))));
      await waitForLockWaiters(server(), 1);
      if (how === 'kill -9') await server().kill9();
      else await server().stop('immediate');
      await locker.release();

      const interrupted = await inFlight;
      expect(interrupted.ok).toBe(false);
      expect((interrupted as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
      const down = await settle(s.loadMemories(id(1)));
      expect((down as { error: unknown }).error).toBeInstanceOf(BackendUnavailableError);
      expect((await s.healthCheck()).status).toBe('unhealthy');

      await server().start();
      expect((await s.healthCheck()).status).toBe('healthy');
      expect(await s.listConversations()).toEqual(range(20).map(id));
      for (const i of range(20)) {
        expect(await s.loadConversation(id(i))).toEqual({ i });
        expect((await s.loadMemories(id(i))).map((m) => m.j)).toEqual(range(5));
      }
      expect((await s.loadReasoningChains('agent')).map((c) => c.i)).toEqual(range(50));
      const cache = await s.loadCacheEntries(range(50).map((i) => `k${i}`));
      expect(cache).toEqual(range(50).map((i) => ({ i })));
      expect(await s.loadSystemState('state')).toEqual({ done: true });
      expect(await s.storeConversationBatch(late)).toBe(10);
      expect(await s.loadConversation(id(0))).toEqual({ late: 0 });
    },
  );
});
