/**
 * Writes that time out never leave half a write behind: a write reported as failed is either
 * not applied at all (this storage's own client sends nothing once the call has given up) or,
 * if its command still lands later (a paused server, a given client's offline queue), lands
 * with its index entry, so it is listed like any other. Runs on a private `redis-server`.
 */
import Redis from 'ioredis';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { BackendUnavailableError } from '../../src/core/index.js';
import { usePrivateRedisServer, waitFor } from './redis-server.js';
import { sleep } from './helpers.js';
import { describeWithService } from '../services.js';

const TIMEOUT = 150;

/** Every kind of indexed write, on ids derived from `tag`. */
function writeEverything(s: RedisStorage, tag: string): Array<Promise<boolean>> {
  return [
    s.storeConversation(`conv-${tag}`, { tag }),
    s.storeRawMessages(`raw-${tag}`, [tag]),
    s.storeMemory(`mem-${tag}`, 'm', { tag }),
    s.storeChunkInfo(`chunk-${tag}`, { tag }),
    s.storeReasoningChain(`agent-${tag}`, { tag }),
    s.storeCacheEntry(`cache-${tag}`, { tag }),
    s.storeSystemState(`state-${tag}`, { tag }),
  ];
}

/** What of `writeEverything(tag)` can be loaded, and what is listed: they must match. */
async function loadedAndListed(s: RedisStorage, tag: string) {
  const loaded = {
    conversation: (await s.loadConversation(`conv-${tag}`)) !== null,
    raw: (await s.loadRawMessages(`raw-${tag}`)).length > 0,
    memory: (await s.loadMemories(`mem-${tag}`)).length > 0,
    chunk: (await s.loadChunkInfo(`chunk-${tag}`)) !== null,
    chain: (await s.loadReasoningChains(`agent-${tag}`)).length > 0,
    cache: (await s.loadCacheEntry(`cache-${tag}`)) !== null,
    state: (await s.loadSystemState(`state-${tag}`)) !== null,
  };
  const all = await s.listAllConversationIds();
  const listed = {
    conversation: (await s.listConversations()).includes(`conv-${tag}`),
    raw: all.includes(`raw-${tag}`),
    memory: all.includes(`mem-${tag}`),
    chunk: all.includes(`chunk-${tag}`),
    chain: (await s.listAgents()).includes(`agent-${tag}`),
    cache: (await s.listCacheKeys()).includes(`cache-${tag}`),
    state: (await s.listSystemStateKeys()).includes(`state-${tag}`),
  };
  return { loaded, listed };
}

/**
 * True when `client` has no command left to send (offline queue) or awaiting its reply (command
 * queue). A late write's next step (the `EVAL` after a `NOSCRIPT` reply on a restarted server)
 * is queued in the microtasks after the reply, so a poll from a timer never sees it in between.
 */
function idle(client: Redis): boolean {
  // `offlineQueue` is private in ioredis's types; it is exactly the queue this test is about.
  const { offlineQueue } = client as unknown as { offlineQueue: { length: number } };
  return client.status === 'ready' && offlineQueue.length === 0 && client.commandQueue.length === 0;
}

async function expectTimeouts(calls: Array<Promise<boolean>>): Promise<void> {
  const started = Date.now();
  for (const result of await Promise.allSettled(calls)) {
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BackendUnavailableError);
  }
  expect(Date.now() - started).toBeLessThan(TIMEOUT + 5000); // not hanging; slack for a loaded machine
}

describeWithService('redis')('redis writes that time out', () => {
  const opened: RedisStorage[] = [];
  const clients: Redis[] = [];
  const privateServer = usePrivateRedisServer(async () => {
    for (const s of opened) await s.shutdown();
    for (const c of clients) c.disconnect();
  });

  async function open(
    config: { client?: Redis; keyPrefix: string },
    commandTimeout = TIMEOUT,
  ): Promise<RedisStorage> {
    const url = config.client ? {} : { url: privateServer().url, connectTimeout: 500 };
    const s = new RedisStorage({ ...url, ...config, commandTimeout });
    opened.push(s);
    // initialize() runs under the same 150 ms timeout, which a loaded machine's lag can overrun
    // (a due timer runs before the reply read in the same turn). The tests are about the writes:
    // an initialize() that timed out is tried again (a failed one holds nothing).
    for (let attempt = 1; ; attempt += 1) {
      const error = await s.initialize().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error === undefined) return s;
      if (!(error instanceof BackendUnavailableError) || attempt === 10) throw error;
    }
  }

  /**
   * A second instance on the same keys with the default command timeout, for checking what
   * landed: the checks are about correctness, and a 150 ms timeout on a read fails on a loaded
   * machine (a timer that is due runs before the reply that came in meanwhile).
   */
  const openReader = (keyPrefix: string): Promise<RedisStorage> => open({ keyPrefix }, 10_000);

  it('sends nothing of a write that gave up while the server was down (own client)', async () => {
    const s = await open({ keyPrefix: 'down-own:' });
    await privateServer().stop();
    await expectTimeouts(writeEverything(s, 'a'));
    await sleep(100);
    await privateServer().start();
    await waitFor('reconnect', async () => (await s.healthCheck()).status === 'healthy');
    await sleep(200);
    const raw = new Redis(privateServer().url);
    clients.push(raw);
    // The restarted server kept nothing; nothing of the failed writes arrived afterwards.
    expect(await raw.keys('down-own:*')).toEqual([]);
  });

  it('indexes a write that a given client sends late from its offline queue', async () => {
    const client = new Redis(privateServer().url); // ioredis defaults: offline queue, resend
    clients.push(client);
    // Connected first: initialize() runs under the 150 ms timeout too.
    await client.ping();
    const s = await open({ client, keyPrefix: 'down-given:' });
    const reader = await openReader('down-given:');
    await privateServer().stop();
    await expectTimeouts(writeEverything(s, 'b'));
    await privateServer().start();
    await waitFor('reconnect', async () => (await client.ping()) === 'PONG');
    // Every queued write has been answered, rather than a fixed sleep: after the reconnect the
    // client still awaits a reply per write (each `EVALSHA` answered `NOSCRIPT` by the restarted
    // server is sent again as `EVAL`), and the reader has a connection of its own.
    await waitFor('the late writes to land', async () => idle(client), 30_000);
    await waitFor('the reader to reconnect', async () => (await reader.healthCheck()).status === 'healthy');
    const { loaded, listed } = await loadedAndListed(reader, 'b');
    expect(listed).toEqual(loaded);
  });

  it('indexes a write that lands after its timeout on a paused server', async () => {
    const s = await open({ keyPrefix: 'paused:' });
    const reader = await openReader('paused:');
    const admin = new Redis(privateServer().url);
    clients.push(admin);
    await admin.client('PAUSE', 2000, 'WRITE'); // long enough for every write to be sent while paused
    await expectTimeouts(writeEverything(s, 'c'));
    // Waits for the writes rather than a fixed 2.1 s, which a loaded machine can overrun; a
    // write that never lands times this out.
    const landed = async () => Object.values((await loadedAndListed(reader, 'c')).loaded).every(Boolean);
    await waitFor('the paused writes to land', landed, 30_000);
    const { loaded, listed } = await loadedAndListed(reader, 'c');
    expect(Object.values(loaded).every(Boolean)).toBe(true); // the writes did land
    expect(listed).toEqual(loaded);
  });
});
