/**
 * `shutdown()` resolves once the pool's sockets are closed, not when pg-pool has queued each
 * connection's Terminate (pg then waits for the server's FIN: 20-90 ms for a backend to exit,
 * until TCP gives up on a dead network path); on a dead path too, at once. A given pool stays
 * open. Until 2026-12-05 every pooled socket was still open when `shutdown()` resolved.
 */
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { canListDescriptors, socketsTo } from '../support/descriptors.js';
import { onIoOnlyTimers, waitForIo } from '../support/io-turns.js';
import { BlackholeProxy } from './blackhole-proxy.js';
import { freshSchema, useFaultSuite } from './fault-helpers.js';
import { describeWithPrivatePostgres } from './private-server.js';

const itWithDescriptors = canListDescriptors ? it : it.skip;

describeWithPrivatePostgres()('postgres: shutdown() closes the pool’s sockets', () => {
  let proxy: BlackholeProxy | undefined;
  const { stores, server } = useFaultSuite({
    before: async () => {
      proxy = await BlackholeProxy.start(server().port);
    },
    after: async () => proxy?.close(),
  });
  const url = () => `postgres://postgres@127.0.0.1:${proxy!.port}/postgres`;

  /** Several calls at once, so the pool holds several connections. */
  const busy = (s: { storeConversation(id: string, v: object): Promise<unknown> }) =>
    Promise.all(['a', 'b', 'c', 'd'].map((id) => s.storeConversation(id, { v: 1 })));

  itWithDescriptors('on a live server: no socket is left when shutdown() resolves', async () => {
    const s = await stores.store(server(), { url: url(), max: 4 });
    await busy(s);
    expect(socketsTo(proxy!.port)).toBeGreaterThan(1);
    await s.shutdown();
    expect(socketsTo(proxy!.port)).toBe(0);
  });

  itWithDescriptors('on a dead path (no FIN back): resolves at once, with every socket closed', async () => {
    const s = await stores.store(server(), { url: url(), max: 4 });
    await busy(s);
    proxy!.blackhole();
    // Fake timers: with real ones a loaded machine's lag can reach the bound this test told
    // "at once" by (half of pool-sockets.ts's SOCKET_CLOSE_WAIT_MS). Here no timer runs at
    // all, so a close that waits out that wait (or any timer) never resolves.
    await onIoOnlyTimers(async () => {
      let resolved = false;
      const shutdown = s.shutdown().then(() => (resolved = true));
      // The goodbye reaches the kernel at once: shutdown() resolves by I/O alone.
      expect(await waitForIo(() => resolved, 10_000)).toBe(true);
      await shutdown;
      expect(socketsTo(proxy!.port)).toBe(0);
    });
  });

  itWithDescriptors('a given pool keeps its connections open', async () => {
    const pool = new pg.Pool({ connectionString: url(), max: 4 });
    try {
      const s = stores.adopt(new PostgresStorage({ pool, schema: freshSchema() }));
      await s.initialize();
      await busy(s);
      const open = pool.totalCount;
      expect(socketsTo(proxy!.port)).toBe(open);
      await s.shutdown();
      expect(pool.totalCount).toBe(open);
      expect(socketsTo(proxy!.port)).toBe(open);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
