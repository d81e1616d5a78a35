/**
 * Calls made while the server is away wait for the connection up to their command timeout;
 * one that gave up must hold nothing until the reconnect. Until 2026-12-04 every such call
 * stayed chained on one shared promise (its closure and its arguments: the serialized record)
 * until the server came back, so an agent writing through a long outage grew without bound.
 * Runs on a private `redis-server`, stopped and started again here.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { RedisConnection } from '../../src/backends/redis/connection.js';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateRedisServer, waitFor } from './redis-server.js';

/** The storage's connection (a protected member). */
function connectionOf(s: RedisStorage): RedisConnection {
  return (s as unknown as { redis: RedisConnection }).redis;
}

/** A full garbage collection, after the current job (whose WeakRef targets stay alive) ends. */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

/**
 * How long a call waits for the connection. Also the bound on the open and the loads after the
 * reconnect, made once each: 100 ms, as it was, a loaded machine's lag can overrun.
 */
const COMMAND_TIMEOUT = 1000;

describeWithService('redis')('redis calls that gave up during an outage', () => {
  let storage: RedisStorage | undefined;
  const server = usePrivateRedisServer(async () => {
    await storage?.shutdown();
  });

  it('hold nothing once they rejected, and the store works after the reconnect', async () => {
    storage = new RedisStorage({ url: server().url, keyPrefix: 'outage:', commandTimeout: COMMAND_TIMEOUT });
    await storage.initialize();
    const connection = connectionOf(storage);
    await server().stop();
    await waitFor('the client to see the server gone', () =>
      Promise.resolve(connection.client.status !== 'ready'),
    );

    // A value only a waiting call's closure refers to.
    let held: WeakRef<object> | undefined;
    const waitingCall = (): Promise<unknown> => {
      const value = { payload: 'x'.repeat(1000) };
      held = new WeakRef(value);
      return connection.run('probe', () => Promise.resolve(value.payload.length));
    };
    await expect(waitingCall()).rejects.toThrow(`probe failed: no reply within ${COMMAND_TIMEOUT} ms`);
    const writes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => storage!.storeConversation(`c${i}`, { i })),
    );
    for (const write of writes) {
      expect(write.status).toBe('rejected');
      expect((write as PromiseRejectedResult).reason).toBeInstanceOf(BackendUnavailableError);
    }

    // The server is still away: nothing waits any more, and what the calls held is free.
    expect(connection.waitingCalls).toBe(0);
    await collectGarbage();
    expect(held?.deref()).toBeUndefined();

    await server().start();
    let stored = false;
    for (let attempt = 0; attempt < 100 && !stored; attempt += 1) {
      stored = await storage.storeConversation('after', { back: true }).catch(() => false);
    }
    expect(stored).toBe(true);
    expect(await storage.loadConversation('after')).toEqual({ back: true });
    expect(await storage.loadConversation('c0')).toBeNull(); // nothing given up was sent late
    expect(connection.waitingCalls).toBe(0);
  });
});
