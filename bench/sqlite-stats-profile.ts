/**
 * Interleaved CPU per call of SQLite reads (not part of `npm run bench`): this checkout's library
 * (`wt`), another checkout's (`old`, its `src/index.ts` at OLD), raw (`bench/raw/sqlite.ts`) and
 * the library's stats statement on a bare `sqlite3` connection (`bare`), alternating every round;
 * medians of client CPU (`process.cpuUsage()`, every thread) and wall per call.
 * Run: `[OLD=/path/to/checkout] [SUBJECTS=wt,old,raw,bare] npx tsx bench/sqlite-stats-profile.ts
 * <stats|chains> [size] [rounds] [calls]`.
 *
 * Runs the library's sources through tsx, not the built package `npm run bench` measures (see
 * `library-module.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { StorageInterface } from '../src/index.js';
import { SQL } from '../src/backends/sqlite/sql.js';
import { median } from './method.js';
import { openRawSqlite } from './raw/sqlite.js';
import { chain, conversation } from './workloads/data.js';

const op = process.argv[2] ?? 'stats';
const SIZE = Number(process.argv[3] ?? 1000);
const ROUNDS = Number(process.argv[4] ?? 9);
const CALLS = Number(process.argv[5] ?? 2000);
const SUBJECTS = (process.env.SUBJECTS ?? 'wt,old,raw').split(',');

type Lib = typeof import('../src/index.js');
type Call = () => Promise<unknown>;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-stats-profile-'));
  try {
    const wt: Lib = await import('../src/index.js');
    const libs: Record<string, Lib> = { wt };
    if (SUBJECTS.includes('old')) {
      if (process.env.OLD === undefined) throw new Error('set OLD to the other checkout');
      libs.old = (await import(join(process.env.OLD, 'src/index.ts'))) as Lib;
    }
    const dbPath = join(dir, 'lib.db');
    const opened: StorageInterface[] = [];
    const calls: Record<string, Call> = {};
    // Seeded through this checkout's library, as W5 and W3 seed.
    const seeder = wt.createStorage('sqlite', { dbPath });
    await seeder.initialize();
    const raw = await openRawSqlite({ dir, name: 'raw' });
    const small = conversation(0, 300);
    for (let i = 0; i < SIZE; i += 1) {
      const id = `w5-${String(i).padStart(7, '0')}`;
      if (op === 'stats') {
        await seeder.storeConversation(id, small);
        await raw.store.storeConversation(id, small);
      } else {
        await seeder.storeReasoningChain(`agent-${i % 10}`, chain(i));
        await raw.store.storeReasoningChain(`agent-${i % 10}`, chain(i));
      }
    }
    await seeder.close();
    for (const name of Object.keys(libs)) {
      if (!SUBJECTS.includes(name)) continue;
      const store = libs[name]!.createStorage('sqlite', { dbPath });
      await store.initialize();
      opened.push(store);
      calls[name] =
        op === 'stats' ? () => store.getStorageStats() : () => store.loadReasoningChains('agent-3', 10);
    }
    calls.raw =
      op === 'stats' ? () => raw.store.getStorageStats() : () => raw.store.loadReasoningChains('agent-3', 10);
    if (SUBJECTS.includes('bare')) {
      const db = new sqlite3.Database(dbPath);
      const stmt = db.prepare(op === 'stats' ? SQL.statsWithIndex : SQL.selectLastChains);
      const params = op === 'stats' ? ['2026-12-03T00:00:00.000000+00:00'] : ['agent-3', 10];
      calls.bare = () =>
        new Promise((resolve, reject) => stmt.all(params, (e, rows) => (e ? reject(e) : resolve(rows))));
    }
    const names = SUBJECTS.filter((s) => calls[s] !== undefined);
    const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = -1; round < ROUNDS; round += 1) {
      // Each round starts with another subject, so none always runs first.
      const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]!);
      for (const name of order) {
        const call = calls[name]!;
        const started = process.cpuUsage();
        const walls: number[] = [];
        for (let i = 0; i < CALLS; i += 1) {
          const t = performance.now();
          await call();
          walls.push(performance.now() - t);
        }
        const used = process.cpuUsage(started);
        if (round < 0) continue; // warm-up
        cpu[name]!.push((used.user + used.system) / CALLS);
        wall[name]!.push(median(walls) * 1000);
      }
    }
    console.log(
      `${op} at ${SIZE}, ${ROUNDS} rounds of ${CALLS}, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    for (const name of names) {
      const c = cpu[name]!.slice().sort((a, b) => a - b);
      console.log(
        `${name.padEnd(5)} CPU µs/call median ${median(c).toFixed(1)} (min ${c[0]!.toFixed(1)}, max ${c[c.length - 1]!.toFixed(1)}), wall median ${median(wall[name]!).toFixed(1)} µs`,
      );
    }
    for (const name of names.filter((n) => n !== 'wt')) {
      // Paired per round: the subjects of one round ran under the same load.
      const ratios = cpu[name]!.map((c, i) => c / cpu.wt![i]!);
      if (cpu.wt !== undefined) console.log(`${name}/wt CPU per round, median ${median(ratios).toFixed(3)}`);
    }
    for (const store of opened) await store.close();
    await raw.drop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
