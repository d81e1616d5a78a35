/**
 * A private PostgreSQL 15 server for fault tests: its own temp data dir, a free loopback port,
 * started, stopped (fast or immediate), restarted on the same port or killed with SIGKILL
 * (postmaster and backends, as a crashed machine) by the test. Never the shared server.
 * Every server started here is killed when the process exits, as a backstop.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../redis/redis-server.js';

const run = promisify(execFile);
/** Where the PostgreSQL 15 binaries live (`PG_BIN_DIR` overrides). */
export const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Postmaster pids of running private servers, killed (with their children) on exit. */
const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) killTree(pid);
});

/** SIGKILLs `pid` and its direct children (the backends), ignoring ones already gone. */
function killTree(pid: number): void {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits 1 when there are no children.
  }
  for (const id of [pid, ...children]) {
    try {
      process.kill(id, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** `[command, args]` running `bin` as the postgres OS user (postgres refuses to run as root). */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN_DIR, bin);
  if (userInfo().uid !== 0) return [path, args];
  return ['runuser', ['-u', OS_USER, '--', path, ...args]];
}

/** A reason string when a private server cannot be run here, else `null`. */
export function privatePostgresMissing(): string | null {
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN_DIR, bin))) return `${join(PG_BIN_DIR, bin)} not found`;
  }
  return null;
}

/** One private PostgreSQL server; `start()` after a stop or kill reuses its port and data. */
export class PrivatePostgres {
  private readonly dir = mkdtempSync(join(tmpdir(), 'connectome-pg-'));
  private readonly data = join(this.dir, 'data');
  private readonly socket = join(this.dir, 'sock');
  private pid: number | undefined;

  /**
   * @param port the server's port.
   * @param settings server settings (`-c name=value`) after the defaults, which they override.
   */
  private constructor(
    readonly port: number,
    private readonly settings: Readonly<Record<string, string | number>> = {},
  ) {}

  /** Creates the data dir (initdb, trust auth) on a free port, with `settings` ({@link start}); not started yet. */
  static async create(settings: Readonly<Record<string, string | number>> = {}): Promise<PrivatePostgres> {
    const server = new PrivatePostgres(await freePort(), settings);
    server.prepareDirs();
    await run(
      ...asPostgres('initdb', [
        '-D',
        server.data,
        '-A',
        'trust',
        '-U',
        'postgres',
        '--no-sync',
        '-E',
        'UTF8',
      ]),
    );
    return server;
  }

  /**
   * Creates a hot standby of `primary` (running): a base backup with `-R` (streaming from it,
   * read-only; a fast checkpoint, not a spread one) on a free port of its own; not started yet.
   */
  static async standbyOf(primary: PrivatePostgres): Promise<PrivatePostgres> {
    const server = new PrivatePostgres(await freePort());
    server.prepareDirs();
    await run(
      ...asPostgres('pg_basebackup', [
        '-D',
        server.data,
        '-R',
        '-X',
        'stream',
        '--checkpoint=fast',
        '--no-sync',
        '-d',
        primary.url,
      ]),
    );
    return server;
  }

  /** Creates the socket dir; the postgres OS user owns it and the temp dir when run as root. */
  private prepareDirs(): void {
    mkdirSync(this.socket);
    if (userInfo().uid === 0) {
      const uid = Number(execFileSync('id', ['-u', OS_USER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', OS_USER], { encoding: 'utf8' }).trim());
      for (const path of [this.dir, this.socket]) chownSync(path, uid, gid);
    }
  }

  /** True between `start()` and a stop or kill. */
  get running(): boolean {
    return this.pid !== undefined;
  }

  /** A URL of database `postgres` on this server. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and waits until it accepts queries. */
  async start(): Promise<void> {
    const options = [
      '-c listen_addresses=127.0.0.1',
      `-p ${this.port}`,
      `-k ${this.socket}`,
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=60',
      '-c shared_buffers=16MB',
      ...Object.entries(this.settings).map(([name, value]) => `-c ${name}=${value}`),
    ].join(' ');
    const log = join(this.dir, 'server.log');
    await run(
      ...asPostgres('pg_ctl', ['start', '-D', this.data, '-l', log, '-w', '-t', '30', '-o', options]),
    );
    const pid = Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    this.pid = pid;
    running.add(pid);
    await this.waitUntilReady();
  }

  /** Promotes a hot standby to a primary (a failover) and waits until it accepts writes. */
  async promote(): Promise<void> {
    await run(...asPostgres('pg_ctl', ['promote', '-D', this.data, '-w', '-t', '30']));
  }

  /** Stops the server: `fast` (backends terminated, clean shutdown) or `immediate` (no checkpoint). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (this.pid === undefined) return;
    await run(...asPostgres('pg_ctl', ['stop', '-D', this.data, '-m', mode, '-w', '-t', '30']));
    this.forget();
  }

  /** Stops (fast) and starts again on the same port. */
  async restart(): Promise<void> {
    await this.stop('fast');
    await this.start();
  }

  /**
   * SIGKILLs the postmaster and its backends at once (a crashed machine); `start()` then runs
   * crash recovery. Waits until the processes are gone, so the port and shared memory are free.
   */
  async kill9(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    killTree(pid);
    this.forget();
    for (let i = 0; i < 200 && alive(pid); i += 1) await sleep(25);
  }

  /** Stops the server if it runs and removes its data dir. */
  async destroy(): Promise<void> {
    if (this.pid !== undefined) await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs one statement on a fresh connection of its own (e.g. `pg_terminate_backend`). */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private forget(): void {
    if (this.pid !== undefined) running.delete(this.pid);
    this.pid = undefined;
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await this.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Registers hooks creating and starting a private server before the file's tests and
 * destroying it after them (once `beforeStop` closed the tests' stores); `settings` as
 * {@link PrivatePostgres.create}'s. Off CI, missing
 * binaries skip loudly (the getter returns `undefined`); with CI=true they fail.
 */
export function usePrivatePostgres(
  beforeStop: () => Promise<void> = async () => undefined,
  settings: Readonly<Record<string, string | number>> = {},
): () => PrivatePostgres {
  let server: PrivatePostgres | undefined;
  beforeAll(async () => {
    const missing = privatePostgresMissing();
    if (missing !== null) throw new Error(`private PostgreSQL server unavailable: ${missing}`);
    server = await PrivatePostgres.create(settings);
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await beforeStop();
    await server?.destroy();
  }, 60_000);
  return () => {
    if (!server) throw new Error('private PostgreSQL server used outside its tests');
    return server;
  };
}

/**
 * `describe` for suites needing a private server: skipped with a loud notice when the
 * binaries are missing off CI; on CI (CI=true) it runs and fails.
 */
export function describeWithPrivatePostgres(): jest.Describe {
  const missing = privatePostgresMissing();
  if (missing === null || process.env.CI === 'true') return describe;
  console.warn(`\n!!! SKIPPING PRIVATE POSTGRES FAULT TESTS: ${missing}.\n!!! (on CI this is a failure)\n`);
  return describe.skip;
}
