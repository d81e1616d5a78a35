/**
 * The file backend's descriptor budget (`descriptor-budget.ts`): a burst under a tiny budget
 * neither deadlocks nor holds more than the budget; a shared folder sync whose folder open
 * meets EMFILE retries it instead of failing writes already renamed; EMFILE caused by the rest
 * of the process is waited out, and reported by a typed error naming the file once too long.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { slotsInUse } from '../../src/backends/file/descriptor-budget.js';
import { ConfigError } from '../../src/core/index.js';
import { FileStorage } from '../../src/backends/file/index.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';
import { underFdLimit } from '../support/fd-limit.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const CHILD = path.join('test', 'file', 'descriptor-budget.child.ts');
const TSX = path.join(process.cwd(), 'node_modules', '.bin', 'tsx');

interface ChildReport {
  failed: number;
  firstError: string | null;
  wrong: number;
}

/** Runs the child under `ulimit -n 64`; resolves with its report. */
function runChild(baseDir: string, releaseAfter: string, patienceMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, baseDir, releaseAfter, String(patienceMs)];
    const limited = underFdLimit(64, [TSX, ...args]);
    const child = spawn(limited.file, limited.args, { stdio: ['ignore', 'pipe', 'pipe'], env: limited.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as ChildReport)
        : reject(new Error(`child exited ${code}: ${stderr}`)),
    );
  });
}

describe('the descriptor budget of the file backend', () => {
  it('lets a burst of every kind of call through a budget of 2 without deadlock, never holding more', async () => {
    const storage = await openStore({ maxOpenFiles: 2 });
    await storage.storeConversation('same', { n: -1 });
    await storage.storeSystemState('state', { n: -1 });
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, slotsInUse())), 0);
    const keep = (n: number) => ({ n });
    await Promise.all([
      ...Array.from({ length: 100 }, (_, n) => storage.storeConversation(`c${n}`, keep(n))),
      // One conversation and one state key, backed up on each write: writes that wait for a
      // lock after staging, and backup copies made under the lock.
      ...Array.from({ length: 50 }, (_, n) => storage.storeConversation('same', keep(n))),
      ...Array.from({ length: 50 }, (_, n) => storage.storeSystemState('state', keep(n))),
      ...Array.from({ length: 100 }, (_, n) => storage.storeCacheEntry(`k${n}`, keep(n), 3600)),
      ...Array.from({ length: 50 }, (_, n) => storage.storeMemory('same', `m${n}`, keep(n))),
      ...Array.from({ length: 100 }, () => storage.loadConversation('same')),
      storage.storeCacheEntries(Array.from({ length: 50 }, (_, n) => ({ key: `b${n}`, data: keep(n) }))),
    ]);
    clearInterval(sampler);
    expect(most).toBeLessThanOrEqual(2);
    expect(slotsInUse()).toBe(0);
    for (let n = 0; n < 100; n += 1) {
      expect(await storage.loadConversation(`c${n}`)).toMatchObject(keep(n));
      expect(await storage.loadCacheEntry(`k${n}`)).toEqual(keep(n));
    }
    expect(await storage.loadCacheEntry('b49')).toEqual(keep(49));
    expect(await storage.loadMemories('same')).toHaveLength(50);
  }, 60_000);

  it('refuses a maxOpenFiles that is not a positive integer before any I/O', () => {
    for (const bad of [0, -1, 1.5, '8']) {
      expect(() => new FileStorage({ baseDir: '/nonexistent', maxOpenFiles: bad as number })).toThrow(
        ConfigError,
      );
      expect(() => new FileStorage({ baseDir: '/nonexistent', maxOpenFiles: bad as number })).toThrow(
        /maxOpenFiles/,
      );
    }
  });

  it('retries the open of a shared folder that meets EMFILE, failing none of the writes renamed into it', async () => {
    const storage = await openStore();
    const cacheDir = path.join(storage.baseDir, 'cache');
    const realOpenSync = fs.openSync;
    const until = Date.now() + 150;
    let refused = 0;
    jest.spyOn(fs, 'openSync').mockImplementation(((file: fs.PathLike, ...rest: unknown[]) => {
      if (file === cacheDir && Date.now() < until) {
        refused += 1;
        throw Object.assign(new Error(`EMFILE: too many open files, open '${cacheDir}'`), { code: 'EMFILE' });
      }
      return (realOpenSync as (...args: unknown[]) => number)(file, ...rest);
    }) as typeof fs.openSync);
    const writes = Array.from({ length: 20 }, (_, n) => storage.storeCacheEntry(`k${n}`, { n }, 3600));
    await expect(Promise.all(writes)).resolves.toHaveLength(20);
    expect(refused).toBeGreaterThan(0);
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    jest.restoreAllMocks();
    for (let n = 0; n < 20; n += 1) expect(await storage.loadCacheEntry(`k${n}`)).toEqual({ n });
  });

  it('waits out EMFILE caused by the rest of the process (descriptors freed after 200 ms)', async () => {
    const report = await runChild(await makeTempDir(), '200', 10_000);
    expect(report).toEqual({ failed: 0, firstError: null, wrong: 0 });
  }, 60_000);

  it('rejects with a StorageError naming the file once no descriptor is freed in time', async () => {
    const report = await runChild(await makeTempDir(), 'never', 300);
    expect(report.failed).toBeGreaterThan(0);
    expect(report.firstError).toMatch(
      /^StorageError: Cannot \S+ .*: the process ran out of file descriptors \(EMFILE\) and none was freed within 300 ms/,
    );
  }, 60_000);
});
