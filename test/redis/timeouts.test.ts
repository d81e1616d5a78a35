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

  async function open(config: { client?: Redis; keyPrefix: string }): Promise<RedisStorage> {
    const url = config.client ? {} : { url: privateServer().url, connectTimeout: 500 };
    const s = new RedisStorage({ ...url, ...config, commandTimeout: TIMEOUT });
    opened.push(s);
    await s.initialize();
    return s;
  }

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
    const s = await open({ client, keyPrefix: 'down-given:' });
    await privateServer().stop();
    await expectTimeouts(writeEverything(s, 'b'));
    await privateServer().start();
    await waitFor('reconnect', async () => (await client.ping()) === 'PONG');
    await sleep(200);
    const { loaded, listed } = await loadedAndListed(s, 'b');
    expect(listed).toEqual(loaded);
  });

  it('indexes a write that lands after its timeout on a paused server', async () => {
    const s = await open({ keyPrefix: 'paused:' });
    const admin = new Redis(privateServer().url);
    clients.push(admin);
    await admin.client('PAUSE', 2000, 'WRITE'); // long enough for every write to be sent while paused
    await expectTimeouts(writeEverything(s, 'c'));
    await sleep(2100);
    const { loaded, listed } = await loadedAndListed(s, 'c');
    expect(Object.values(loaded).every(Boolean)).toBe(true); // the writes did land
    expect(listed).toEqual(loaded);
  });
});
