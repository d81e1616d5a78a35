/**
 * The Redis backend's `logger`: a server that goes away and comes back is reported (connection
 * error, reconnect attempts, reconnected), with the URL's password never in any event.
 */
import { RedisStorage } from '../../src/backends/redis/index.js';
import { eventText, recordingLogger } from '../support/recording-logger.js';
import { describeWithService } from '../services.js';
import { usePrivateRedisServer, waitFor } from './redis-server.js';

describeWithService('redis')('redis logger', () => {
  let storage: RedisStorage | undefined;
  const privateServer = usePrivateRedisServer(async () => {
    await storage?.shutdown();
  });

  it('reports the lost connection, the reconnect attempts and the reconnect', async () => {
    const { logger, events } = recordingLogger();
    // The private server needs no password; ioredis goes on without it, but the URL holds one.
    const url = privateServer().url.replace('redis://', 'redis://:s3cret-pw@');
    // No call is made while the server is away: the command timeout only has to let the calls
    // before and after pass on a loaded machine (400 ms could not be relied on for that).
    storage = new RedisStorage({ url, connectTimeout: 500, commandTimeout: 5000, logger });
    await storage.initialize();
    await storage.storeConversation('c1', { v: 1 });
    expect(events).toEqual([]);

    await privateServer().stop();
    await waitFor('a reconnect attempt to be logged', async () =>
      events.some((e) => e.level === 'warn' && eventText(e).includes('reconnecting')),
    );
    // The first attempt finds nothing listening: a connection error (ECONNREFUSED).
    await waitFor('a connection error to be logged', async () =>
      events.some((e) => e.level === 'error' && eventText(e).includes('connection error')),
    );

    await privateServer().start();
    await waitFor('the reconnect to be logged', async () =>
      events.some((e) => e.level === 'info' && eventText(e).includes('reconnected')),
    );
    await storage.storeConversation('c2', { v: 2 });
    expect(events.every((e) => !eventText(e).includes('s3cret-pw'))).toBe(true);
    expect(events.some((e) => eventText(e).includes(`127.0.0.1:${privateServer().port}`))).toBe(true);
  });
});
