/**
 * The migration's speed-up over another version of the library (issue 11: at least 3x the
 * per-record copy's records/s on sqlite→postgres and file→redis at 2,000 conversations).
 *
 * `npx tsx bench/migration-speedup.ts <checkout>`: `<checkout>` is a worktree of the older
 * commit (with this `bench/` folder copied in and `node_modules` linked). Each pair's source is
 * seeded once; every round migrates it with the older version and twice with this one (into a
 * target with its defaults, and into one with `searchIndex: false`: like for like, as the
 * older version's targets kept no index), each in a fresh child process into a fresh target,
 * the order reversing every round so machine load hits all alike. Writes
 * `bench/results/migration-speedup.json` (or `smoke.migration-speedup.json` with `BENCH_SMOKE=1`).
 * `BENCH_ROUNDS` sets the rounds (default 3), `BENCH_PAIRS=sqlite-postgres` limits the pairs.
 * Both versions run their built package (`npm run build` in each checkout first; checked before
 * seeding), or both their sources through tsx with `BENCH_SOURCE=src`: never one of each, which
 * would credit the build's speed to the newer version.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { config } from './config.js';
import { builtEntry, librarySource } from './library-module.js';
import { median } from './method.js';
import { machineInfo } from './report.js';
import { ensureServices } from './services.js';
import { MIGRATION_SPEEDUP_TARGET, SPEEDUP_RESULTS_FILE } from './targets.js';
import { openSubject } from './subjects.js';
import type { Backend, StoreLocation } from './types.js';
import { RECORDS_PER_CONVERSATION, runChild, seedSource } from './workloads/w6-migration.js';

/** The pairs the target names. */
export const SPEEDUP_PAIRS: Array<[Backend, Backend]> = [
  ['sqlite', 'postgres'],
  ['file', 'redis'],
];

/**
 * The runs of a round: the older version (whose targets kept no full-text index: it had none),
 * this version into a target with its defaults (index on), and this version into a target
 * with `searchIndex: false` (like for like: the same work as the older version's copy).
 */
type Version = 'before' | 'after' | 'afterUnindexed';

/** One migration run of one version. */
interface Sample {
  version: Version;
  round: number;
  recordsPerSecond: number;
  /** The child's CPU time per record copied, in microseconds (load moves it less than records/s). */
  cpuUsPerRecord: number;
  maxRssMb: number;
  /** 1-minute load average when the run started. */
  load1: number;
}

/** Medians of one version's samples. */
interface VersionSummary {
  recordsPerSecond: number;
  cpuUsPerRecord: number;
  maxRssMb: number;
}

/** Results of one pair at one size. */
export interface PairSpeedup {
  from: Backend;
  to: Backend;
  conversations: number;
  before: VersionSummary;
  after: VersionSummary;
  /** This version into a target with `searchIndex: false` (like for like). */
  afterUnindexed: VersionSummary;
  /** after / before records/s (medians). */
  ratio: number;
  /** afterUnindexed / before records/s (medians): the same work on both sides. */
  unindexedRatio: number;
  /** before / after CPU time per record (medians): the client-side share of the speed-up. */
  cpuRatio: number;
  samples: Sample[];
}

const rounds = Number(process.env.BENCH_ROUNDS ?? (config.mode === 'smoke' ? 1 : 3));

/** `BENCH_PAIRS=sqlite-postgres` (comma-separated) measures only those pairs; default all. */
const pairFilter = process.env.BENCH_PAIRS?.split(',').map((pair) => pair.trim());
const selectedPairs = SPEEDUP_PAIRS.filter(
  ([from, to]) => pairFilter === undefined || pairFilter.includes(`${from}-${to}`),
);

async function measurePair(
  from: Backend,
  to: Backend,
  size: number,
  before: string,
  dir: string,
): Promise<PairSpeedup> {
  const name = `mig${process.pid}_${from}_${to}_${size}`;
  const source: StoreLocation = { dir, name: `${name}s` };
  const opened = await openSubject('library', from, source);
  const samples: Sample[] = [];
  try {
    await seedSource(opened, size);
    await opened.store.close();
    for (let round = 0; round < rounds; round += 1) {
      const versions: Version[] = ['before', 'after', 'afterUnindexed'];
      const order = round % 2 === 0 ? versions : [...versions].reverse();
      for (const version of order) {
        const target: StoreLocation = {
          dir,
          name: `${name}t${version === 'afterUnindexed' ? 'u' : version[0]}${round}`,
        };
        const root = version === 'before' ? before : process.cwd();
        const subject = version === 'afterUnindexed' ? 'libraryUnindexed' : 'library';
        const load1 = loadavg()[0]!;
        try {
          const result = await runChild({ subject, from, to, source, target }, root);
          const expected = size * RECORDS_PER_CONVERSATION;
          if (result.records !== expected)
            throw new Error(`${version} ${from}->${to} copied ${result.records} records, not ${expected}`);
          const recordsPerSecond = (expected * 1000) / result.ms;
          const cpuUsPerRecord = (result.cpuMs * 1000) / expected;
          samples.push({
            version,
            round,
            recordsPerSecond,
            cpuUsPerRecord,
            maxRssMb: result.maxRssMb,
            load1,
          });
          console.log(
            `${from}->${to} ${size} round ${round} ${version}: ${recordsPerSecond.toFixed(0)} records/s, ` +
              `${cpuUsPerRecord.toFixed(0)} us CPU/record, ${result.maxRssMb.toFixed(0)} MB, load ${load1.toFixed(1)}`,
          );
        } finally {
          await (await openSubject(subject, to, target)).drop();
        }
      }
    }
  } finally {
    await opened.drop();
  }
  const summary = (version: Version): VersionSummary => {
    const mine = samples.filter((sample) => sample.version === version);
    return {
      recordsPerSecond: median(mine.map((sample) => sample.recordsPerSecond)),
      cpuUsPerRecord: median(mine.map((sample) => sample.cpuUsPerRecord)),
      maxRssMb: median(mine.map((sample) => sample.maxRssMb)),
    };
  };
  const [b, a, u] = [summary('before'), summary('after'), summary('afterUnindexed')];
  return {
    from,
    to,
    conversations: size,
    before: b,
    after: a,
    afterUnindexed: u,
    ratio: a.recordsPerSecond / b.recordsPerSecond,
    unindexedRatio: u.recordsPerSecond / b.recordsPerSecond,
    cpuRatio: b.cpuUsPerRecord / a.cpuUsPerRecord,
    samples,
  };
}

async function main(): Promise<void> {
  const before = process.argv[2];
  if (before === undefined) throw new Error('usage: tsx bench/migration-speedup.ts <older checkout>');
  const root = resolve(before);
  // This checkout's build was checked when the library loaded; the older one's child would
  // only fail after the seeding.
  if (librarySource === 'dist') builtEntry(root);
  const commit = (cwd: string) => execFileSync('git', ['rev-parse', 'HEAD'], { cwd }).toString().trim();
  await ensureServices();
  const dir = await mkdtemp(join(tmpdir(), 'connectome-migspeed-'));
  const pairs: PairSpeedup[] = [];
  const uptimeBefore = execFileSync('uptime').toString().trim();
  try {
    for (const size of config.migrationSizes)
      for (const [from, to] of selectedPairs) pairs.push(await measurePair(from, to, size, root, dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const result = {
    date: new Date().toISOString(),
    mode: config.mode,
    ...machineInfo(),
    rounds,
    librarySource,
    commits: { before: commit(root), after: commit(process.cwd()) },
    uptime: { start: uptimeBefore, end: execFileSync('uptime').toString().trim() },
    target: MIGRATION_SPEEDUP_TARGET,
    pairs,
  };
  const file = join(
    config.resultsDir,
    config.mode === 'smoke' ? `smoke.${SPEEDUP_RESULTS_FILE}` : SPEEDUP_RESULTS_FILE,
  );
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  for (const pair of pairs) {
    console.log(
      `${pair.from}->${pair.to} at ${pair.conversations}: ${pair.before.recordsPerSecond.toFixed(0)} -> ` +
        `${pair.after.recordsPerSecond.toFixed(0)} records/s (${pair.ratio.toFixed(2)}x; target ${MIGRATION_SPEEDUP_TARGET}x ` +
        `${pair.ratio >= MIGRATION_SPEEDUP_TARGET ? 'met' : 'MISSED'}), CPU/record ${pair.cpuRatio.toFixed(2)}x less, RSS ${pair.before.maxRssMb.toFixed(0)} -> ${pair.after.maxRssMb.toFixed(0)} MB; ` +
        `like for like (target searchIndex: false) ${pair.afterUnindexed.recordsPerSecond.toFixed(0)} records/s (${pair.unindexedRatio.toFixed(2)}x, ` +
        `${pair.unindexedRatio >= MIGRATION_SPEEDUP_TARGET ? 'met' : 'MISSED'})`,
    );
  }
  console.log(`results in ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
