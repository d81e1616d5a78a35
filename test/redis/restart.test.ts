/**
 * A server that goes away: calls fail with a typed error within the configured timeout
 * (they do not hang), and work again once the server is back on the same port.
 */
import { BackendUnavailableError } from '../../src/core/index.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { freePort, usePrivateRedisServer, waitFor } from './redis-server.js';
import { describeWithService } from '../services.js';

/**
 * Each call while the server is down waits this long for it: 400 ms was also the bound on the
 * calls before the stop (the open, a write), which a loaded machine's lag could overrun.
 */
const COMMAND_TIMEOUT = 1500;

describeWithService('redis')('redis server restart', () => {
  let storage: RedisStorage | undefined;
  const privateServer = usePrivateRedisServer(async () => {
    await storage?.shutdown();
  });

  /** Runs `call`, expecting a BackendUnavailableError within the timeout (plus slack). */
  async function expectFastFailure(call: () => Promise<unknown>): Promise<void> {
    const started = Date.now();
    const error = await call().then(
      () => new Error('call succeeded while the server was down'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain(`127.0.0.1:${privateServer().port}`);
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT + 5000);
  }

  it('fails fast while the server is down and recovers when it is back', async () => {
    storage = new RedisStorage({
      url: privateServer().url,
      commandTimeout: COMMAND_TIMEOUT,
      connectTimeout: 500,
    });
    await storage.initialize();
    await storage.storeConversation('c1', { v: 1 });

    await privateServer().stop();
    await expectFastFailure(() => storage!.loadConversation('c1'));
    await expectFastFailure(() => storage!.storeMemory('c1', 'm1', { v: 1 }));
    await expectFastFailure(() => storage!.listConversations());
    const health = await storage.healthCheck();
    expect(health.status).not.toBe('healthy');
    expect(health.latency_ms).toBeLessThan(COMMAND_TIMEOUT + 5000);

    await privateServer().start();
    // The server kept no data (no persistence); the client reconnects by itself.
    await waitFor('the storage to work again', async () => {
      await storage!.storeConversation('c2', { v: 2 });
      return true;
    });
    expect(await storage.loadConversation('c2')).toEqual({ v: 2 });
    expect((await storage.healthCheck()).status).toBe('healthy');
  });

  it('rejects initialize() with a typed error when nothing listens', async () => {
    const port = await freePort();
    const unreachable = new RedisStorage({ url: `redis://127.0.0.1:${port}`, connectTimeout: 500 });
    const started = Date.now();
    await expect(unreachable.initialize()).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(unreachable.isInitialized).toBe(false);
  });
});
