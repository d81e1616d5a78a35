/**
 * The Redis backend's `logger`: a server that goes away and comes back is reported (connection
 * error, reconnect attempts, reconnected), with the URL's password never in any event.
 */
import { RedisStorage } from '../../src/backends/redis/index.js';
import type { StorageLogger } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateRedisServer, waitFor } from './redis-server.js';

type Event = { level: string; text: string };

describeWithService('redis')('redis logger', () => {
  let storage: RedisStorage | undefined;
  const privateServer = usePrivateRedisServer(async () => {
    await storage?.shutdown();
  });

  it('reports the lost connection, the reconnect attempts and the reconnect', async () => {
    const events: Event[] = [];
    const at = (level: string) => (message: string, details?: Record<string, unknown>) => {
      events.push({ level, text: `${message} ${JSON.stringify(details ?? {})}` });
    };
    const logger: StorageLogger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    };
    // The private server needs no password; ioredis goes on without it, but the URL holds one.
    const url = privateServer().url.replace('redis://', 'redis://:s3cret-pw@');
    storage = new RedisStorage({ url, connectTimeout: 500, commandTimeout: 400, logger });
    await storage.initialize();
    await storage.storeConversation('c1', { v: 1 });
    expect(events).toEqual([]);

    await privateServer().stop();
    await waitFor('a reconnect attempt to be logged', async () =>
      events.some((e) => e.level === 'warn' && e.text.includes('reconnecting')),
    );
    // The first attempt finds nothing listening: a connection error (ECONNREFUSED).
    await waitFor('a connection error to be logged', async () =>
      events.some((e) => e.level === 'error' && e.text.includes('connection error')),
    );

    await privateServer().start();
    await waitFor('the reconnect to be logged', async () =>
      events.some((e) => e.level === 'info' && e.text.includes('reconnected')),
    );
    await storage.storeConversation('c2', { v: 2 });
    expect(events.every((e) => !e.text.includes('s3cret-pw'))).toBe(true);
    expect(events.some((e) => e.text.includes(`127.0.0.1:${privateServer().port}`))).toBe(true);
  });
});
