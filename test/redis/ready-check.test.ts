/**
 * The ready check of the clients the store opens (`ready-check.ts`), on private servers: a
 * user whose ACL denies `INFO` opens, works and reconnects with nothing on the console (ioredis's
 * own check printed "Skipping the ready check" through `console.warn` at each connect), the
 * `logger` told once; a server with `INFO` renamed away opens (ioredis's check failed it); and a
 * reconnect to a server still loading its data (and an open) waits for it, as ioredis's check made it do.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisStorage } from '../../src/backends/redis/index.js';
import { eventText, recordingLogger } from '../support/recording-logger.js';
import { freePort, quickClient, REDIS_CLI, RedisServerProcess, waitFor } from './redis-server.js';

const run = promisify(execFile);
const PASSWORD = 's3cret-pw';

describe('redis ready check', () => {
  const servers: RedisServerProcess[] = [];
  const stores: RedisStorage[] = [];
  const dirs: string[] = [];
  let consoleCalls: unknown[][] = [];

  beforeEach(() => {
    consoleCalls = [];
    for (const level of ['warn', 'error', 'log', 'info'] as const) {
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleCalls.push([level, ...args]);
      });
    }
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const store of stores.splice(0)) await store.shutdown();
    for (const server of servers.splice(0)) await server.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function start(args: string[], port?: number): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(port ?? (await freePort()), args);
    servers.push(server);
    await server.start();
    return server;
  }

  it('a user denied INFO opens, works and reconnects with nothing on the console; the logger is told once', async () => {
    const acl = ['--user', 'app', 'on', `>${PASSWORD}`, '~rc:*', '+@all', '-@dangerous'];
    const server = await start(acl);
    const { logger, events } = recordingLogger();
    const url = server.url.replace('redis://', `redis://app:${PASSWORD}@`);
    const store = new RedisStorage({ url, keyPrefix: 'rc:', logger, connectTimeout: 2000 });
    stores.push(store);
    await store.initialize();
    await store.storeConversation('c1', { v: 1 });
    expect(await store.loadConversation('c1')).toEqual({ v: 1 });

    // A dropped connection: the client connects again (ioredis's check ran, and warned, again).
    const admin = quickClient(server.url);
    await admin.connect();
    await admin.call('CLIENT', 'KILL', 'USER', 'app');
    admin.disconnect();
    await waitFor('the reconnect', async () => events.some((e) => e.message.includes('reconnected')));
    expect(await store.loadConversation('c1')).toEqual({ v: 1 });

    expect(consoleCalls).toEqual([]);
    const told = events.filter((e) => e.message.includes('refuses INFO'));
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ level: 'info', details: { reply: expect.stringContaining('NOPERM') } });
    expect(told[0]!.message).toContain(`app:***@127.0.0.1:${server.port}`);
    expect(events.every((e) => !eventText(e).includes(PASSWORD))).toBe(true);
  });

  it('a server with INFO renamed away opens and works', async () => {
    const server = await start(['--rename-command', 'INFO', '']);
    const { logger, events } = recordingLogger();
    const store = new RedisStorage({ url: server.url, keyPrefix: 'rc:', logger, connectTimeout: 2000 });
    stores.push(store);
    await store.initialize();
    await store.storeConversation('c1', { v: 1 });
    expect(await store.loadConversation('c1')).toEqual({ v: 1 });
    expect(events.filter((e) => e.message.includes('refuses INFO'))).toHaveLength(1);
    expect(consoleCalls).toEqual([]);
  });

  it('a call during a reconnect to a server still loading its data waits for the load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connectome-ready-check-'));
    dirs.push(dir);
    const first = await start(['--dir', dir]);
    const { logger, events } = recordingLogger();
    const store = new RedisStorage({ url: first.url, keyPrefix: 'rc:', logger, commandTimeout: 30_000 });
    stores.push(store);
    await store.initialize();
    await store.storeConversation('c1', { v: 1 });
    // Enough keys for a load of some seconds (1 ms each), and events served during it.
    const admin = quickClient(first.url);
    await admin.connect();
    const fill = "for i = 1, 4000 do redis.call('SET', 'rc:fill:' .. i, string.rep('x', 100)) end";
    await admin.eval(fill, 0);
    await admin.save();
    admin.disconnect();
    await first.stop();
    const loadArgs = ['--key-load-delay', '1000', '--loading-process-events-interval-bytes', '1024'];
    const second = new RedisServerProcess(first.port, ['--dir', dir, ...loadArgs]);
    servers.push(second);
    const started = second.start(); // resolves once the server answers PING, loaded
    started.catch(() => undefined); // awaited below; a failed test must not leave it unhandled
    const ping = () =>
      run(REDIS_CLI, ['-p', String(first.port), 'ping']).then(
        (r) => r.stdout,
        (e) => String(e),
      );
    await waitFor('the server to be loading', async () => (await ping()).includes('LOADING'));

    const read = store.loadConversation('c1');
    // A store opened now waits too (the store's own check at the open).
    const late = new RedisStorage({ url: first.url, keyPrefix: 'rc:', connectTimeout: 30_000 });
    stores.push(late);
    const opened = late.initialize();
    expect(await ping()).toContain('LOADING'); // both were made during the load
    expect(await read).toEqual({ v: 1 });
    await opened;
    expect(await late.loadConversation('c1')).toEqual({ v: 1 });
    await started;
    expect(events.filter((e) => e.message.includes('refuses INFO'))).toEqual([]);
    expect(consoleCalls).toEqual([]);
  }, 60_000);
});
