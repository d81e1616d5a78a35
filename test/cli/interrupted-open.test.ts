/**
 * A signal while a store is still opening: the command exits 130 once that store has closed
 * (its open finishes first), but waits no longer than INTERRUPTED_CLOSE_WAIT_MS, so a server
 * that never answers cannot hold the exit until its connect timeout. Against a real (private)
 * Redis server whose writes are paused (`CLIENT PAUSE ... WRITE`), so the target's open is
 * caught halfway, at its first write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { FileStorage } from '../../src/backends/file/index.js';
import { parseBackendSpec } from '../../src/cli/backend-spec.js';
import { INTERRUPTED_CLOSE_WAIT_MS, interruptedOpenOutcome } from '../../src/cli/open.js';
import { describeWithService } from '../services.js';
import { quickClient, usePrivateRedisServer, waitFor } from '../redis/redis-server.js';
import { cli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-interrupt-'));
  const source = new FileStorage({ baseDir: join(dir, 'src') });
  await source.initialize();
  await source.storeConversation('c1', { title: 'one' });
  await source.shutdown();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The clients of the server that the library opened (it names its connections). */
async function libraryClients(raw: Redis): Promise<string[]> {
  const list = (await raw.call('CLIENT', 'LIST')) as string;
  return list.split('\n').filter((line) => line.includes(' name=connectome-storage '));
}

describeWithService('redis')('an interrupt while a store opens', () => {
  let raw: Redis | undefined;
  const server = usePrivateRedisServer(async () => raw?.disconnect());

  it('exits 130 once the half-open store has closed', async () => {
    raw = quickClient(server().url);
    await raw.connect();
    await raw.call('CLIENT', 'PAUSE', 60_000, 'WRITE');
    try {
      const target = `${server().url}/0?prefix=interrupted:`;
      const run = cli('migrate', '--from', `file:${join(dir, 'src')}`, '--to', target);
      // The target's open waits at its first write (creating the store's layout).
      await waitFor('the open to wait on the paused server', async () =>
        (await libraryClients(raw!)).some((line) => / flags=b /.test(line)),
      );
      process.emit('SIGINT', 'SIGINT');
      // The server goes on shortly after the signal: the open completes, then the store closes.
      const unpause = setTimeout(() => void raw?.call('CLIENT', 'UNPAUSE'), 300);
      const { code, stderr } = await run;
      clearTimeout(unpause);
      expect(code).toBe(130);
      // The open had begun writing the store's layout: the message does not claim nothing was.
      expect(stderr).toMatch(
        /Interrupted while opening the target redis:.*; no record was copied, but the open may have begun creating or upgrading the store/,
      );
      expect(stderr).not.toContain('nothing was written');
      // Closed before the command returned: no connection of the library is left.
      expect(await libraryClients(raw)).toEqual([]);
    } finally {
      await raw.call('CLIENT', 'UNPAUSE');
    }
  });

  it('waits for that close only so long: a server that never answers does not hold the exit', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const target = `redis://127.0.0.1:${port}/0?connectTimeout=60000&commandTimeout=60000`;
      const run = cli('migrate', '--from', `file:${join(dir, 'src')}`, '--to', target);
      await waitFor('the target to connect', async () => sockets.length > 0);
      const started = Date.now();
      process.emit('SIGINT', 'SIGINT');
      const { code } = await run;
      expect(code).toBe(130);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(INTERRUPTED_CLOSE_WAIT_MS - 50);
      expect(waited).toBeLessThan(INTERRUPTED_CLOSE_WAIT_MS + 5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('what an interrupted open says it wrote', () => {
  it('says nothing was written only for a read-only open of a built-in backend', () => {
    for (const spec of ['file:./d', 'sqlite:./x.db', 'redis://h', 'postgres://h/db']) {
      const parsed = parseBackendSpec(spec, dir);
      expect(interruptedOpenOutcome(parsed, { readOnly: true })).toBe('nothing was written');
      expect(interruptedOpenOutcome(parsed, {})).toMatch(
        /^no record was copied, but the open may have begun/,
      );
      const readOnlySpec = parseBackendSpec(`${spec}?readOnly=true`, dir);
      expect(interruptedOpenOutcome(readOnlySpec, {})).toBe('nothing was written');
    }
    // A registered backend is opened as it is: read-only is not known to hold for it.
    expect(interruptedOpenOutcome(parseBackendSpec('mine:?x=1'), { readOnly: true })).not.toContain(
      'nothing',
    );
  });
});
