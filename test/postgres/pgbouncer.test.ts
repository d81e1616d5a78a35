/**
 * Behind PgBouncer in transaction mode: the store works with `preparedStatements: false`, and
 * fails with named prepared statements (the reason for the option). Starts its own pgbouncer
 * on loopback with one server connection, so consecutive calls of different client connections
 * share it and the failure is deterministic. Needs the `pgbouncer` binary (`scripts/services.sh`
 * installs it): off CI the test is skipped loudly without it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { StorageError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';
import { freePort } from '../redis/redis-server.js';

/** The pgbouncer binary on PATH or in Debian's sbin, if installed. */
function findPgbouncer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'pgbouncer')).find((path) => existsSync(path));
}

const PGBOUNCER = findPgbouncer();
// Off CI a missing binary skips loudly; on CI (CI=true) the test runs and fails, like a missing server.
const skip = PGBOUNCER === undefined && process.env.CI !== 'true';
if (skip) {
  console.warn(
    '\n!!! SKIPPING PGBOUNCER TEST: no pgbouncer binary (bash scripts/services.sh installs it).\n',
  );
}

/** Resolves once something accepts connections on `port`, or rejects after `ms`. */
async function waitForPort(port: number, ms: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen within ${ms} ms: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

(skip ? describe.skip : describeWithService('postgres'))(
  'postgres behind PgBouncer (transaction mode)',
  () => {
    const ctx = usePostgresStore();
    let child: ChildProcess | undefined;
    let dir = '';
    let bouncerUrl = '';

    beforeAll(async () => {
      if (PGBOUNCER === undefined)
        throw new Error('no pgbouncer binary: bash scripts/services.sh installs it');
      const server = new URL(POSTGRES_TEST_URL);
      const user = decodeURIComponent(server.username);
      const password = decodeURIComponent(server.password);
      const database = server.pathname.slice(1);
      const port = await freePort();
      dir = await mkdtemp(join(tmpdir(), 'connectome-pgbouncer-'));
      // pgbouncer refuses to run as root: it drops to `nobody`, which must read these files.
      await chmod(dir, 0o755);
      const ini = join(dir, 'pgbouncer.ini');
      const users = join(dir, 'userlist.txt');
      await writeFile(
        ini,
        [
          '[databases]',
          `${database} = host=${server.hostname} port=${server.port || 5432} dbname=${database}`,
          '[pgbouncer]',
          'listen_addr = 127.0.0.1',
          `listen_port = ${port}`,
          'unix_socket_dir =',
          'auth_type = plain',
          `auth_file = ${users}`,
          'pool_mode = transaction',
          'default_pool_size = 1',
          // pg sends these as startup parameters, which PgBouncer refuses unless told to ignore them.
          'ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout,options',
          '',
        ].join('\n'),
      );
      await writeFile(users, `"${user}" "${password}"\n`);
      await chmod(ini, 0o644);
      await chmod(users, 0o644);
      const asRoot = process.getuid?.() === 0;
      let output = '';
      child = spawn(PGBOUNCER, [...(asRoot ? ['-u', 'nobody'] : []), ini], { stdio: 'pipe' });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitForPort(port, 10_000, child, () => output);
      const url = new URL(POSTGRES_TEST_URL);
      url.port = String(port);
      bouncerUrl = url.toString();
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('works with preparedStatements: false, concurrent calls included', async () => {
      const s = await ctx.open({ url: bouncerUrl, preparedStatements: false });
      const keys = Array.from({ length: 64 }, (_, i) => `key-${i}`);
      await Promise.all(keys.map((key, i) => s.storeCacheEntry(key, { i }, 60)));
      expect(await Promise.all(keys.map((key) => s.loadCacheEntry(key)))).toEqual(
        keys.map((_, i) => ({ i })),
      );
      await Promise.all([
        s.storeConversation('conv', { title: 'through pgbouncer' }),
        s.storeRawMessages('conv', [{ n: 0 }, { n: 1 }]),
        s.storeMemory('conv', 'm1', { text: 'a' }),
        s.storeReasoningChain('agent', { step: 1 }),
      ]);
      expect(await s.loadConversation('conv')).toEqual({ title: 'through pgbouncer' });
      expect(await s.loadRawMessages('conv')).toEqual([{ n: 0 }, { n: 1 }]);
      expect((await s.loadMemories('conv')).map((m) => m.text)).toEqual(['a']);
      expect(await s.loadReasoningChains('agent')).toHaveLength(1);
      expect((await s.getStorageStats()).cache_entry_count).toBe(64);

      const reader = await ctx.open({ url: bouncerUrl, preparedStatements: false, readOnly: true });
      expect(await reader.loadConversation('conv')).toEqual({ title: 'through pgbouncer' });
    });

    it('fails with named prepared statements once two client connections share a server connection', async () => {
      const s = await ctx.open({ url: bouncerUrl });
      // Ten client connections of the store's pool, one server connection behind them: the
      // second Parse of a name lands on the connection that already has it.
      const loads = Array.from({ length: 20 }, (_, i) => s.loadCacheEntry(`key-${i}`));
      const results = await Promise.allSettled(loads);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failures.length).toBeGreaterThan(0);
      for (const failure of failures) {
        expect(failure.reason).toBeInstanceOf(StorageError);
        expect((failure.reason as Error).message).toMatch(
          /prepared statement "cs_[0-9a-f]+" (already|does not) exist/,
        );
      }
    });
  },
);
