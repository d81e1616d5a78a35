/**
 * The cost of syncing a conversation folder's own entry (`durable-entries.ts`) in this checkout's
 * sources against another copy (`AB_OTHER=<dir>/src/index.ts npx tsx bench/file-folder-entry-ab.ts`),
 * in one process (not part of `npm run bench`). Per round and subject, alternating, the order
 * rotating: `open`, the first open in this process of the store the other copy made; `first`, one `storeConversation` into each of `AB_FOLDERS` (default 50) conversation
 * folders the other copy made (a folder this copy has not seen: one parent fsync more each), one
 * after another; `w2`, W2's loop: `AB_CALLS` (default 100) `storeMemory` calls into one new
 * conversation. Medians over `BENCH_ROUNDS` (default 7) of ms per call; the load average with them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Library from '../src/index.js';
import { median } from './method.js';

const load = createRequire(import.meta.url);
const other = process.env.AB_OTHER;
if (!other) throw new Error('AB_OTHER=<dir>/src/index.ts is needed');
const copies: Record<string, typeof Library> = {
  here: load('../src/index.ts') as typeof Library,
  before: load(other) as typeof Library,
};
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const folders = Number(process.env.AB_FOLDERS ?? 50);
const calls = Number(process.env.AB_CALLS ?? 100);

async function open(lib: typeof Library, baseDir: string) {
  const store = new lib.FileStorage({ baseDir, searchIndex: false });
  await store.initialize();
  return store;
}

async function round(
  name: string,
  baseDir: string,
  n: number,
): Promise<{ opened: number; first: number; w2: number }> {
  const lib = copies[name] as typeof Library;
  const maker = await open(copies[name === 'here' ? 'before' : 'here'] as typeof Library, baseDir);
  const ids = Array.from({ length: folders }, (_, i) => `r${n}-${name}-${i}`);
  for (const id of ids) await maker.storeConversation(id, { made: true });
  await maker.shutdown();
  let start = performance.now();
  const store = await open(lib, baseDir);
  const opened = performance.now() - start;
  start = performance.now();
  for (const id of ids) await store.storeConversation(id, { again: true });
  const first = (performance.now() - start) / folders;
  start = performance.now();
  for (let i = 0; i < calls; i += 1)
    await store.storeMemory(`w2-${n}-${name}`, `m${i}`, { i, text: 'x'.repeat(200) });
  const w2 = (performance.now() - start) / calls;
  await store.shutdown();
  return { opened, first, w2 };
}

async function main(): Promise<void> {
  const names = Object.keys(copies);
  const results: Record<string, { opened: number[]; first: number[]; w2: number[] }> = {};
  for (const name of names) results[name] = { opened: [], first: [], w2: [] };
  const dirs: string[] = [];
  for (let n = 0; n <= rounds; n += 1) {
    const order = n % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const dir = await mkdtemp(join(tmpdir(), 'folder-entry-ab-'));
      dirs.push(dir);
      const { opened, first, w2 } = await round(name, dir, n);
      if (n > 0) {
        results[name]?.opened.push(opened);
        results[name]?.first.push(first);
        results[name]?.w2.push(w2);
      }
    }
  }
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  for (const name of names) {
    const { opened, first, w2 } = results[name] as { opened: number[]; first: number[]; w2: number[] };
    console.log(
      `${name.padEnd(7)} open ${median(opened).toFixed(2)} ms, first write into a folder it did not make ${median(first).toFixed(3)} ms/call, ` +
        `W2 storeMemory ${median(w2).toFixed(3)} ms/call  (load ${loadavg()[0]?.toFixed(2)})`,
    );
  }
}

void main();
