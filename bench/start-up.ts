/**
 * What a process pays before its first call (not part of `npm run bench`): loading the built
 * package, and loading it, opening a file store and writing one record, beside Keyv 5 and the
 * raw drivers loaded the same way; and the CLI's `--help` as a whole process.
 * `npx tsx bench/start-up.ts [rounds]` (`npm run build` first); `AB_OTHER=<checkout>` adds
 * another checkout's build (built there) as a before/after of a change.
 *
 * Each sample is a fresh `node` process (a module loads once per process), subjects in turn,
 * the order rotating every round. In-process subjects time themselves from just before their
 * first `require`/`import` to just after their last step, so node's own start is left out;
 * the CLI and bare `node -e 0` are timed by this process around the whole child. Prints the
 * median and range per subject, and the load average.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { median } from './method.js';

const ROOT = resolve('.');
const MODULES = join(ROOT, 'node_modules');

/** A subject: code a fresh process times itself (`inProcess`), or a command timed from outside. */
interface Subject {
  name: string;
  inProcess?: string;
  command?: string[];
}

/** The library subjects of the checkout at `root` (its own `dist`), labelled `label`. */
function librarySubjects(root: string, label: string, storeDir: string): Subject[] {
  const lib = JSON.stringify(join(root, 'dist', 'cjs', 'index.js'));
  const esm = JSON.stringify(join(root, 'dist', 'esm', 'index.js'));
  return [
    { name: `${label}: require`, inProcess: `require(${lib})` },
    { name: `${label}: import (ES module)`, inProcess: `await import(${esm})` },
    {
      name: `${label}: require, open a file store, write one record`,
      inProcess:
        `const l = require(${lib}); const dir = require('node:fs').mkdtempSync(${JSON.stringify(join(storeDir, 's-'))});` +
        ` const s = l.createStorage('file', { baseDir: dir }); await s.initialize();` +
        ` await s.storeSystemState('k', { a: 1 }); await s.shutdown();`,
    },
    {
      name: `${label}: CLI --help (whole process)`,
      command: [join(root, 'dist', 'cjs', 'cli', 'bin.js'), '--help'],
    },
  ];
}

/** Keyv 5 and the raw drivers, loaded as the library's subjects are. */
const OTHERS: Subject[] = [
  { name: 'keyv', inProcess: `require(${JSON.stringify(join(MODULES, 'keyv'))})` },
  {
    name: 'keyv + @keyv/redis',
    inProcess: `require(${JSON.stringify(join(MODULES, 'keyv'))}); require(${JSON.stringify(join(MODULES, '@keyv', 'redis'))})`,
  },
  { name: 'ioredis', inProcess: `require(${JSON.stringify(join(MODULES, 'ioredis'))})` },
  { name: 'pg', inProcess: `require(${JSON.stringify(join(MODULES, 'pg'))})` },
  { name: 'sqlite3', inProcess: `require(${JSON.stringify(join(MODULES, 'sqlite3'))})` },
  { name: 'node -e 0 (whole process)', command: ['-e', '0'] },
];

/** Milliseconds of one sample of `subject`, in a fresh process. */
function sample(subject: Subject): number {
  if (subject.command !== undefined) {
    const started = performance.now();
    execFileSync(process.execPath, subject.command, { stdio: 'ignore' });
    return performance.now() - started;
  }
  const code =
    `(async () => { const t0 = performance.now(); ${subject.inProcess};` +
    ` process.stdout.write(String(performance.now() - t0)); process.exit(0); })()`;
  return Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
}

function main(): void {
  const rounds = Number(process.argv[2] ?? 15);
  const storeDir = mkdtempSync(join(tmpdir(), 'connectome-start-up-'));
  try {
    const other = process.env.AB_OTHER;
    const subjects = [
      ...librarySubjects(ROOT, 'library', storeDir),
      ...(other ? librarySubjects(resolve(other), basename(resolve(other)), storeDir) : []),
      ...OTHERS,
    ];
    const samples = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]));
    const loads: number[] = [loadavg()[0]!];
    for (let round = 0; round <= rounds; round += 1) {
      const shift = round % subjects.length;
      for (const subject of [...subjects.slice(shift), ...subjects.slice(0, shift)]) {
        const ms = sample(subject);
        // Round 0 warms the page cache and is not counted.
        if (round > 0) samples.get(subject.name)!.push(ms);
      }
      loads.push(loadavg()[0]!);
    }
    console.log(`start-up, ${rounds} rounds, 1-minute load ${Math.min(...loads)}–${Math.max(...loads)}`);
    for (const [name, values] of samples) {
      const range = `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
      console.log(`${name.padEnd(64)} ${median(values).toFixed(1).padStart(7)} ms  (${range})`);
    }
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
  }
}

main();
