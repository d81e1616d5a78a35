/**
 * `shutdown()` resolves once the store's own socket is closed, also when the server no longer
 * answers (a dead network path: no reply to QUIT, no FIN), within the QUIT timeout; a client
 * the store was given stays open. Until 2026-12-05 the socket was still open when `shutdown()`
 * resolved (on a dead path for another 500 ms, ioredis's `disconnectTimeout`).
 */
import Redis from 'ioredis';
import { QUIT_TIMEOUT_MS } from '../../src/backends/redis/client-close.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { canListDescriptors, socketsTo } from '../support/descriptors.js';
import { ioTurns, onIoOnlyTimers, waitForIo } from '../support/io-turns.js';
import { describeWithService } from '../services.js';
import { BlackholeProxy } from '../postgres/blackhole-proxy.js';
import { usePrivateStores } from './private-stores.js';

const itWithDescriptors = canListDescriptors ? it : it.skip;

describeWithService('redis')('redis: shutdown() closes the store’s socket', () => {
  const stores = usePrivateStores('shutdown-sockets');
  let proxy: BlackholeProxy | undefined;

  beforeEach(async () => {
    proxy = await BlackholeProxy.start(stores.server().port);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  itWithDescriptors('on a live server: no socket is left when shutdown() resolves', async () => {
    const s = await stores.open({ url: `redis://127.0.0.1:${proxy!.port}` });
    await s.storeConversation('c', { v: 1 });
    expect(socketsTo(proxy!.port)).toBe(1);
    await s.shutdown();
    expect(socketsTo(proxy!.port)).toBe(0);
  });

  itWithDescriptors(
    'on a dead path: resolves once the QUIT timeout is out, with the socket closed',
    async () => {
      const s = await stores.open({ url: `redis://127.0.0.1:${proxy!.port}` });
      await s.storeConversation('c', { v: 1 });
      proxy!.blackhole();
      // Fake timers: with real ones, a loaded machine's lag can exceed the 500 ms of ioredis's
      // disconnectTimeout this test tells the close apart from. Here the QUIT timeout runs only
      // when advanced, and a close left to any other timer never comes.
      await onIoOnlyTimers(async () => {
        let resolved = false;
        const shutdown = s.shutdown().then(() => (resolved = true));
        await ioTurns(20);
        jest.advanceTimersByTime(QUIT_TIMEOUT_MS - 1);
        await ioTurns(20);
        expect(resolved).toBe(false); // QUIT gets no answer: its timeout is waited out
        jest.advanceTimersByTime(1);
        // No timer runs any more: the socket must close, and shutdown() resolve, by I/O alone.
        expect(await waitForIo(() => resolved, 10_000)).toBe(true);
        await shutdown;
        expect(socketsTo(proxy!.port)).toBe(0);
      });
    },
  );

  itWithDescriptors('a given client keeps its socket open and ready', async () => {
    const client = new Redis(`redis://127.0.0.1:${proxy!.port}`);
    try {
      const s = new RedisStorage({ client, keyPrefix: stores.prefix() });
      stores.track(s);
      await s.initialize();
      await s.storeConversation('c', { v: 1 });
      await s.shutdown();
      expect(client.status).toBe('ready');
      expect(socketsTo(proxy!.port)).toBe(1);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
