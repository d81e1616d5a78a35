/**
 * Cross-process locking is fair enough: a process that keeps a lock busy with a full queue of
 * its own writers still lets another process in quickly, and a lock that cannot be taken for a
 * reason other than "held" fails at once instead of being retried for half a minute.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import fse from 'fs-extra';
import { StorageError } from '../../src/core/index.js';
import { FileLocks } from '../../src/backends/file/file-lock.js';
import { PLATFORM_LOCK_KIND } from '../../src/backends/file/lock-kinds.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterAll(async () => {
  await shutdownAll();
  await removeTempDirs();
});

const CHILD = path.join('test', 'file', 'busy-writer.child.ts');
// Node itself with tsx's loader, not the tsx wrapper: the wrapper runs the script in a child of
// its own, which a SIGKILL of the wrapper leaves running (still holding the lock and writing).
const TSX_LOADER = ['--import', 'tsx'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** FileLocks from a fresh copy of its module: its own in-process queue, as another process has. */
function otherProcessLocks(locksDir: string): FileLocks {
  let Isolated: typeof FileLocks | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Isolated = (require('../../src/backends/file/file-lock.js') as { FileLocks: typeof FileLocks }).FileLocks;
  });
  return new (Isolated as typeof FileLocks)(locksDir);
}

describe('file locks', () => {
  it('lets another process in within a fair share while this one keeps the lock busy', async () => {
    const locksDir = path.join(await makeTempDir(), 'locks');
    await fse.ensureDir(locksDir);
    const busy = new FileLocks(locksDir);
    const other = otherProcessLocks(locksDir);
    const until = Date.now() + 25_000;
    let stop = false;
    // Eight callers of one process queue for the lock back to back, each holding it ~5 ms.
    const worker = async (): Promise<void> => {
      while (!stop && Date.now() < until) await busy.run('agent "a"', () => sleep(5));
    };
    const workers = Array.from({ length: 8 }, worker);
    await sleep(200);
    const latencies: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      const started = Date.now();
      await other.run('agent "a"', async () => undefined);
      latencies.push(Date.now() - started);
      await sleep(100); // the busy process takes the lock back meanwhile
    }
    const finishedEarly = Date.now() < until;
    stop = true;
    await Promise.all(workers);
    expect(finishedEarly).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(5_000); // starved, it would wait ~25 s
  });

  it('lets a second process in while the first keeps the same lock busy', async () => {
    const baseDir = await makeTempDir();
    // Busy far longer than the writes below may take (ended by a signal once they are done): the
    // 6 s it was could run out on a loaded machine before five fair-share writes did.
    const busyMs = 30_000;
    const child = spawn(process.execPath, [...TSX_LOADER, CHILD, baseDir, 'shared-agent', String(busyMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const started = Date.now();
    while (!stdout.includes('busy')) {
      if (child.exitCode !== null) throw new Error(`busy writer exited early: ${stderr}`);
      if (Date.now() - started > 30_000) throw new Error(`busy writer did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const storage = await openStore({ baseDir });
    const latencies: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const t = Date.now();
      await storage.storeReasoningChain('shared-agent', { writer: 'test', i });
      latencies.push(Date.now() - t);
    }
    const stillBusy = child.exitCode === null;
    child.kill('SIGUSR2');
    expect(await exited).toBe(0);
    // All five got in while the other process was still busy, each within seconds: starved,
    // one would wait out the busy process's 30 s.
    expect(stillBusy).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(10_000);
    const chains = await storage.loadReasoningChains('shared-agent');
    const written = Number(/done (\d+)/.exec(stdout)?.[1]);
    expect(chains.filter((c) => c.writer === 'test').map((c) => c.i)).toEqual([0, 1, 2, 3, 4]);
    expect(chains).toHaveLength(written + 5);
  }, 60_000);

  // Range locks are the platform's kind on Linux only (the busy writer uses the platform's kind).
  const onRangePlatform = PLATFORM_LOCK_KIND === 'range' ? it : it.skip;
  onRangePlatform(
    'frees a range lock at once when its holder is killed mid-write (no stale time to wait out)',
    async () => {
      const baseDir = await makeTempDir();
      const child = spawn(process.execPath, [...TSX_LOADER, CHILD, baseDir, 'shared-agent', '60000'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      const started = Date.now();
      while (!stdout.includes('busy')) {
        if (child.exitCode !== null) throw new Error(`busy writer exited early: ${stderr}`);
        if (Date.now() - started > 30_000) throw new Error(`busy writer did not start: ${stderr}`);
        await sleep(20);
      }
      await sleep(50); // its eight appends keep the agent's lock held (and leased) back to back
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const storage = await openStore({ baseDir }, { lockKind: 'range' });
      const t = Date.now();
      await storage.storeReasoningChain('shared-agent', { writer: 'test' });
      // A lock folder left by a dead process is only taken over once stale (10 s).
      expect(Date.now() - t).toBeLessThan(5_000);
      const chains = await storage.loadReasoningChains('shared-agent');
      expect(chains[chains.length - 1]).toMatchObject({ writer: 'test' });
      expect(chains.filter((c) => c.writer === 'busy').length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('fails at once, with a StorageError naming the lock, when the locks folder cannot be used', async () => {
    const dir = await makeTempDir();
    const blocker = path.join(dir, 'file-in-the-way');
    await fse.writeFile(blocker, 'x');
    const locks = new FileLocks(path.join(blocker, 'locks'));
    const started = Date.now();
    const error: unknown = await locks
      .run('conversation "c1"', async () => 'ran')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('conversation "c1"');
    expect(Date.now() - started).toBeLessThan(10_000); // not the 60 s lock wait
  });
});
