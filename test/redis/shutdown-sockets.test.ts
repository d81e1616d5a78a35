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

  itWithDescriptors('on a dead path: resolves within the QUIT timeout, with the socket closed', async () => {
    const s = await stores.open({ url: `redis://127.0.0.1:${proxy!.port}` });
    await s.storeConversation('c', { v: 1 });
    proxy!.blackhole();
    const started = performance.now();
    await s.shutdown();
    const tookMs = performance.now() - started;
    expect(socketsTo(proxy!.port)).toBe(0);
    expect(tookMs).toBeGreaterThanOrEqual(QUIT_TIMEOUT_MS - 50);
    // Not QUIT's timeout plus ioredis's 500 ms wait for a FIN that cannot come.
    expect(tookMs).toBeLessThan(QUIT_TIMEOUT_MS + 400);
  });

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
