/** The real `connectome-storage` CLI, spawned through tsx: exit codes, refusals, output forms, resume after a kill. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import sqlite3 from 'sqlite3';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { MIGRATION_MARKER_KEY, verifyMigration } from '../../src/migration/index.js';
import { populate, snapshot } from '../migration/support.js';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
// `node --import tsx` runs the CLI in one process (the tsx wrapper would leave its child
// running when killed).
const node = [
  process.execPath,
  '--import',
  pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href,
];
const bin = join(root, 'src', 'cli', 'bin.ts');
const fixture = join(root, 'test', 'fixtures', 'python-reference', 'sample', 'storage_data');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Only against a hang: these tests check exit codes and output, not speed, and each run compiles
 * the CLI through tsx: four runs at once took 23 s at load 12, close to the former 30 s limit,
 * past which a run was killed and its exit code read as null.
 */
const RUN_TIMEOUT_MS = 180_000;
jest.setTimeout(3 * RUN_TIMEOUT_MS);

/** Runs the CLI (or `script` through the tsx wrapper, as a user would). */
function run(args: string[], script?: string): Promise<Result> {
  const [file, ...prefix] = script === undefined ? [...node, bin] : [tsx, script];
  return new Promise((resolve) => {
    execFile(
      file as string,
      [...prefix, ...args],
      { cwd: dir, timeout: RUN_TIMEOUT_MS },
      (error, stdout, stderr) => {
        // A run killed by the timeout says so in its stderr, so a failed expectation shows why.
        const killed = error?.killed ? `\n[killed after ${RUN_TIMEOUT_MS} ms]` : '';
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr: stderr + killed,
        });
      },
    );
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-'));
  await cp(fixture, join(dir, 'ref'), { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('connectome-storage CLI', () => {
  it('exits 2 with a clear message on bad usage, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: connectome-storage/],
      [['migrate', '--from', './ref', '--to', 'file:./out'], /Invalid backend spec "\.\/ref": use file:PATH/],
      [
        ['migrate', '--from', 'file:./ref', '--to', 'file:./ref/../ref/'],
        /same store \(file:\.\/ref\/\.\.\/ref\/\); nothing was written/,
      ],
      [
        ['migrate', '--from', 'redis://localhost:1/0', '--to', 'redis://:hunter2@[::1]:1?connectTimeout=300'],
        /same store \(redis:\/\/:\*\*\*@\[::1\]:1 \(prefix "connectome:"\)\); nothing was written/,
      ],
      [
        ['migrate', '--from', 'file:./ref', '--to', 'redis://:hunter2@127.0.0.1:1?connectTimeout=300'],
        /Cannot (use|open) the target redis:\/\/:\*\*\*@127\.0\.0\.1:1/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((result, i) => {
      expect({ args: cases[i]?.[0], code: result.code }).toEqual({ args: cases[i]?.[0], code: 2 });
      expect(result.stderr).toMatch(cases[i]?.[1] as RegExp);
      expect(result.stderr + result.stdout).not.toContain('hunter2');
    });
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('migrates with --json, refuses a non-empty target without --merge, merges with it', async () => {
    const first = await run(['migrate', '--from', 'file:./ref', '--to', 'sqlite:./json.db', '--json']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const summary = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ok: true,
      source: 'file:./ref',
      target: 'sqlite:./json.db',
      counts: { memories: { copied: 7 }, raw_messages: { copied: 40 } },
      verification: { ok: true, differenceCount: 0 },
    });
    const again = await run(['migrate', '--from', 'file:./ref', '--to', 'sqlite:./json.db']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/The target is not empty; pass --merge \(merge: true\)/);
    const merged = await run(['migrate', '--from', 'file:./ref', '--to', 'sqlite:./json.db', '--merge']);
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(/Verified: \d+ records compared, no differences\./);
    // The non-TTY progress is plain lines on stderr.
    expect(merged.stderr).toMatch(/^copy conversations: 3\/3 done \(/m);
  });

  it('counts with --dry-run without creating the target; reads env files', async () => {
    await writeFile(
      join(dir, 'from.env'),
      'CONNECTOME_STORAGE_TYPE=file\nCONNECTOME_STORAGE_BASE_DIR=./ref\n',
    );
    await writeFile(
      join(dir, 'to.env'),
      'CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_DB_PATH=./dry/x.db\n',
    );
    const dry = await run(['migrate', '--from-env', 'from.env', '--to-env', 'to.env', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /^Dry run: file:\.\/ref \(from from\.env\) -> sqlite:\.\/dry\/x\.db \(from to\.env\)/,
    );
    expect(dry.stdout).toMatch(/raw_messages\s+40\s+0\s+-/);
    expect(dry.stdout).toContain('Nothing was written; the target was not opened.');
    expect(existsSync(join(dir, 'dry'))).toBe(false);
    const script = await run(
      ['--from', 'file:./ref', '--to', 'file:./script-out', '--dry-run', '--json'],
      join(root, 'scripts', 'migrate-storage.ts'),
    );
    expect(JSON.parse(script.stdout)).toMatchObject({ ok: true, dryRun: true, verification: null });
    expect(existsSync(join(dir, 'script-out'))).toBe(false);
  });

  it('runs health, stats and purge-cache on a file spec', async () => {
    const store = new FileStorage({ baseDir: join(dir, 'maint') });
    await store.initialize();
    await store.storeCacheEntry('short', { x: 1 }, 0.01);
    await store.storeCacheEntry('long', { x: 2 }, 3600);
    await store.shutdown();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [health, stats, statsJson, purge] = await Promise.all([
      run(['health', 'file:./ref']),
      run(['stats', 'file:./ref']),
      run(['stats', '--json', 'file:./maint']),
      run(['purge-cache', 'file:./maint', '--json']),
    ]);
    expect(health.code).toBe(0);
    expect(health.stdout).toMatch(/^store: +file:\.\/ref$/m);
    expect(health.stdout).toMatch(/^status: +healthy$/m);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^conversation_count: +3$/m);
    expect(JSON.parse(statsJson.stdout)).toMatchObject({ store: 'file:./maint', cache_entry_count: 1 });
    expect(JSON.parse(purge.stdout)).toEqual({ store: 'file:./maint', removed: 1 });
  });

  it('resumes a migration killed halfway: verified copy, no duplicates, marker removed', async () => {
    const source = new FileStorage({ baseDir: join(dir, 'big') });
    await source.initialize();
    await populate(source, 10);
    const copyPath = join(dir, 'big-copy.db');
    // One conversation per batch: SQLite commits a whole batch at once, so it is killed between batches.
    const args = [
      ...['migrate', '--from', 'file:./big', '--to', 'sqlite:./big-copy.db'],
      ...['--concurrency', '1', '--batch-size', '1'],
    ];
    const migration = startMigration(args);
    // Kill it (no chance to clean up) once a few conversations have been written.
    await migration.stopMidway(copyPath, 5, await conversationCount(source));
    migration.child.kill('SIGKILL');
    expect(await migration.exited).toBeNull();
    const partial = new SQLiteStorage({ dbPath: copyPath });
    await partial.initialize();
    const copied = (await partial.listAllConversationIds()).length;
    expect(copied).toBeGreaterThan(0);
    expect(copied).toBeLessThan((await source.listAllConversationIds()).length);
    expect(await partial.loadSystemState(MIGRATION_MARKER_KEY)).toMatchObject({
      source_id: `file:${join(dir, 'big')}`,
    });

    const resumed = await run(args);
    expect(resumed.stderr).not.toMatch(/connectome-storage:/);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('(resumed an unfinished run)');
    expect(await verifyMigration(source, partial)).toMatchObject({ ok: true, differenceCount: 0 });
    expect(await snapshot(partial)).toEqual(await snapshot(source));
    expect(await partial.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    await Promise.all([source.shutdown(), partial.shutdown()]);
  });
  it('exits 130 on SIGINT mid-migration after marking the target, and the same command resumes', async () => {
    const source = new FileStorage({ baseDir: join(dir, 'big-int') });
    await source.initialize();
    await populate(source, 10);
    const copyPath = join(dir, 'big-int-copy.db');
    const args = [
      'migrate',
      '--from',
      'file:./big-int',
      '--to',
      'sqlite:./big-int-copy.db',
      '--concurrency',
      '1',
      '--batch-size',
      '1',
    ];
    const migration = startMigration(args);
    await migration.stopMidway(copyPath, 5, await conversationCount(source));
    // Delivered when it goes on.
    migration.child.kill('SIGINT');
    migration.resume();
    expect(await migration.exited).toBe(130);
    expect(migration.stderr()).toMatch(
      /Interrupted; the target holds a partial copy: run the same command again to resume/,
    );
    const partial = new SQLiteStorage({ dbPath: copyPath });
    await partial.initialize();
    try {
      const copied = (await partial.listAllConversationIds()).length;
      expect(copied).toBeGreaterThan(0);
      expect(copied).toBeLessThan((await source.listAllConversationIds()).length);
      expect(await partial.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
      const resumed = await run(args);
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain('(resumed an unfinished run)');
      expect(await snapshot(partial)).toEqual(await snapshot(source));
      expect(await partial.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    } finally {
      await Promise.all([source.shutdown(), partial.shutdown()]);
    }
  });
  it('exits 3 when the target becomes unwritable mid-migration, and the same command resumes', async () => {
    const source = new FileStorage({ baseDir: join(dir, 'big-locked') });
    await source.initialize();
    await populate(source, 10);
    const copyPath = join(dir, 'big-locked-copy.db');
    const args = [
      'migrate',
      ...['--from', 'file:./big-locked', '--to', 'sqlite:./big-locked-copy.db?connectionTimeout=1'],
      ...['--concurrency', '1', '--batch-size', '1'],
    ];
    const migration = startMigration(args);
    const total = await conversationCount(source);
    // Another process takes the database's write lock mid-copy and keeps it past the CLI's 1 s timeout.
    const locker = new sqlite3.Database(copyPath);
    const sql = (statement: string) =>
      new Promise<void>((resolve, reject) =>
        locker.run(statement, (error) => (error ? reject(error) : resolve())),
      );
    // No busy wait: a failed attempt lets the run go on at once.
    locker.configure('busyTimeout', 0);
    try {
      for (;;) {
        await migration.stopMidway(copyPath, 5, total);
        // Stopped inside a write transaction, the run holds the lock: let it go on, stop it again.
        const locked = await sql('BEGIN EXCLUSIVE').then(
          () => true,
          () => false,
        );
        migration.resume();
        if (locked) break;
        await pause(1);
      }
      expect(await migration.exited).toBe(3);
      expect(migration.stderr()).toMatch(
        /Migration failed: .*SQLITE_BUSY.*\. The target holds a partial copy; run the same command again to resume/,
      );
      await sql('ROLLBACK');
    } finally {
      await new Promise((resolve) => locker.close(resolve));
    }
    const resumed = await run(args);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('(resumed an unfinished run)');
    const copy = new SQLiteStorage({ dbPath: copyPath });
    await copy.initialize();
    try {
      expect(await snapshot(copy)).toEqual(await snapshot(source));
      expect(await copy.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    } finally {
      await Promise.all([source.shutdown(), copy.shutdown()]);
    }
  });
});

/** A `migrate` run of the CLI in a child process, with its exit code and stderr. */
function startMigration(args: string[]) {
  const child: ChildProcess = spawn(node[0] as string, [...node.slice(1), bin, ...args], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running = false;
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    stderr: () => stderr,
    /**
     * Stops the run (SIGSTOP) at a moment its SQLite target at `dbPath` holds at least
     * `atLeast` and fewer than `total` conversations. The count is read while the run is
     * stopped, so it is mid-copy for sure: reading the count and then acting let a fast run
     * finish in between on a loaded machine. Rejects if the run ends or copies everything first.
     */
    async stopMidway(dbPath: string, atLeast: number, total: number): Promise<void> {
      while (running) {
        child.kill('SIGSTOP');
        await whenStopped(child);
        const n = await countConversations(dbPath);
        if (n >= atLeast && n < total) return;
        child.kill('SIGCONT');
        if (n >= total) break;
        await pause(1);
      }
      throw new Error(`the migration ended or copied all ${total} conversations to ${dbPath} first`);
    },
    /** Lets a stopped run go on (SIGCONT). */
    resume(): void {
      child.kill('SIGCONT');
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `child` is stopped (state T in /proc): kill() returns before the kernel stops it. */
async function whenStopped(child: ChildProcess): Promise<void> {
  const stat = `/proc/${child.pid}/stat`;
  for (let i = 0; i < 1000 && existsSync(stat); i += 1) {
    // The state follows the command name, which is in parentheses and may hold spaces.
    const state = readFileSync(stat, 'utf8').replace(/^.*\) /s, '')[0];
    if (state === 'T' || state === 't' || state === 'Z') return;
    await pause(1);
  }
}

/** Conversations in `storage` that have a conversation record (ids with only raw messages or memories do not count). */
async function conversationCount(storage: FileStorage): Promise<number> {
  const ids = await storage.listAllConversationIds();
  const loaded = await Promise.all(ids.map((id) => storage.loadConversation(id)));
  return loaded.filter((c) => c !== null).length;
}

/** Rows in a SQLite database's conversations table, read-only (0 while it does not exist yet). */
function countConversations(dbPath: string): Promise<number> {
  if (!existsSync(dbPath)) return Promise.resolve(0);
  return new Promise((resolve) => {
    const db = new sqlite3.Database(dbPath, sqlite3.OPEN_READONLY, (openError) => {
      if (openError) return resolve(0);
      db.get('SELECT count(*) AS n FROM conversations', (error, row: { n: number } | undefined) => {
        db.close();
        resolve(error ? 0 : (row?.n ?? 0));
      });
    });
  });
}
