/** Shared helpers of the file-backend tests: temp stores, the Python fixture, tree listings. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fse from 'fs-extra';
import { READ_FLAGS } from '../../src/backends/file/fd-io.js';
import { FileStorage, type FileStorageConfig } from '../../src/backends/file/index.js';
import type { FileStorageInternals } from '../../src/backends/file/name-folding.js';
import { WRITERS_DIR, writerMarkName } from '../../src/backends/file/writer-marks.js';

export { FIXTURE_DIR, FIXTURE_STORE } from '../support/reference-fixture.js';

/** Temp folders made by {@link makeTempDir}, removed by {@link removeTempDirs}. */
const tempDirs: string[] = [];

/** A fresh empty temp folder. */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'connectome-filetest-'));
  tempDirs.push(dir);
  return dir;
}

/** Removes every temp folder made so far (call in `afterAll`). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => fse.remove(dir)));
}

/** Opened stores, shut down by {@link shutdownAll}. */
const openStores: FileStorage[] = [];

/** An initialized store on `baseDir` (a fresh temp folder when omitted); `internals`: test seams (the lock kind). */
export async function openStore(
  config: FileStorageConfig = {},
  internals: FileStorageInternals = {},
): Promise<FileStorage> {
  const given = config.baseDir !== undefined || config.base_dir !== undefined;
  const storage = new FileStorage(given ? config : { ...config, baseDir: await makeTempDir() }, internals);
  await storage.initialize();
  openStores.push(storage);
  return storage;
}

/** Shuts down every store opened by {@link openStore}. */
export async function shutdownAll(): Promise<void> {
  await Promise.all(openStores.splice(0).map((storage) => storage.shutdown()));
}

/**
 * Relative paths of every file under `dir` (sorted, `/`-separated), with `filter` applied to each.
 * A folder that vanishes during the walk is skipped: a store frees an idle lock folder a few
 * milliseconds after its last call.
 */
export async function listTree(
  dir: string,
  filter: (rel: string) => boolean = () => true,
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await fse
      .readdir(path.join(dir, rel), { withFileTypes: true })
      .catch((error: unknown) => {
        if (rel !== '' && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      });
    for (const entry of entries) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (filter(child)) out.push(child);
    }
  };
  await walk('');
  return out.sort();
}

/** True for backup file names (reference and ours, a backup of an unreadable file too). */
export const isBackup = (rel: string): boolean =>
  /\.\d{8}_\d{6}(_\d{6})?(~unreadable)?\.backup\.json$/.test(rel);

/** Names of the files directly in `dir`. */
export async function filesIn(dir: string): Promise<string[]> {
  return (await fse.readdir(dir)).sort();
}

/**
 * Counts reads of `file`: opens for reading (`fs.open(file, READ_FLAGS)`, how the backend reads
 * data files, see `fd-io.ts`) and `fs.readFile` calls. Restore with `jest.restoreAllMocks`.
 */
export function countReadsOf(file: string): () => number {
  const originalOpen = fs.open;
  const originalReadFile = fs.readFile;
  let reads = 0;
  jest.spyOn(fs, 'open').mockImplementation(((target: fs.PathLike, flags: unknown, ...rest: unknown[]) => {
    if (target === file && flags === READ_FLAGS) reads += 1;
    return (originalOpen as (...args: unknown[]) => void)(target, flags, ...rest);
  }) as typeof fs.open);
  jest.spyOn(fs, 'readFile').mockImplementation(((target: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (target === file) reads += 1;
    return (originalReadFile as (...args: unknown[]) => void)(target, ...rest);
  }) as typeof fs.readFile);
  return () => reads;
}

/** The id of a process that has exited (a child run to its end). */
export function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);
}

/**
 * Leaves in `baseDir` the writer mark of a process that never shut down (`pid`, an exited one
 * by default), as a killed writer does: the next writable open sweeps for its temp files.
 * Returns the mark's path.
 */
export async function markCrashedWriter(baseDir: string, pid: number = deadPid()): Promise<string> {
  const mark = path.join(baseDir, '.connectome-storage', WRITERS_DIR, writerMarkName(pid));
  await fse.outputFile(mark, '');
  return mark;
}
