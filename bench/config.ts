/**
 * Run size (smoke, default, full), server addresses and where results go, from the environment.
 * Paths are relative to the repository root (`npm run bench` runs there).
 */
import { resolve } from 'node:path';

/**
 * `smoke`: tiny counts for CI. `default`: the published run (W2/W3 1,000 calls, W5 at 1,000 and
 * 10,000, W6 at 2,000 conversations on the pairs and 1,000 on the others), about 13–14
 * minutes on 2 idle cores (README: Benchmark). `full`: adds W5 at 100,000 and W6 at 10,000.
 */
export type BenchMode = 'smoke' | 'default' | 'full';

/** Counts of one run. */
export interface BenchConfig {
  mode: BenchMode;
  /** Measured rounds after the warm-up; subjects alternate within each. */
  rounds: number;
  /**
   * Measured rounds of W1 and W4, whose rounds take a fraction of a second: one slow moment of
   * the machine moves a median of three, so they take more.
   */
  shortRounds: number;
  /**
   * Pause after each subject's part of a round, before the next subject is timed: work a
   * store defers past its call (the file index writes its segments 100 ms after the write)
   * then finishes on its own time instead of the next subject's.
   */
  settleMs: number;
  /** Warm-up rounds (not reported). */
  warmups: number;
  /** W1: least conversation store + load pairs per round. */
  w1Pairs: number;
  /**
   * Least milliseconds a rate (W1, W3 loads, W4) is measured over per subject and round (the
   * fixed counts ran 30-40 ms on Redis: too short a span for a stable rate).
   */
  minRoundMs: number;
  /** W2 / W3: calls per round, and the call numbers whose per-call time is reported. */
  appendCalls: number;
  appendPoints: number[];
  /** W8: calls of a raw-message list growing by one message per call, and its reporting points. */
  turnCalls: number;
  turnPoints: number[];
  /** W9: records written in batches of `batchSize` per kind and round, and written one call each. */
  batchRecords: number;
  batchSize: number;
  batchSingles: number;
  /** W3: least `loadReasoningChains(agent, 10)` calls per subject and round. */
  chainLoads: number;
  /** W4: least sequential set + get pairs, and least pairs over 64 concurrent workers, per round. */
  cacheSequential: number;
  cacheConcurrent: number;
  /**
   * W5: store sizes (conversations); each listing is called again until `listMinMs` have passed
   * in the round (at most `listMaxCalls` times, at least once), and the round takes its median.
   */
  listSizes: number[];
  listMinMs: number;
  listMaxCalls: number;
  /** W6: conversations migrated on the pairs (file → redis, sqlite → postgres). */
  migrationSizes: number[];
  /**
   * W6: conversations migrated on the pairs that close the cycle (redis → file, postgres →
   * sqlite), fewer by default to keep the run's length: a migration streams conversation by
   * conversation, so records/s does not depend on the size.
   */
  cycleMigrationSizes: number[];
  redisUrl: string;
  postgresUrl: string;
  /** Results folder and file stem (`latest`, or `smoke` for smoke runs). */
  resultsDir: string;
  resultsStem: string;
}

const smoke = process.env.BENCH_SMOKE === '1';
const full = process.env.BENCH_FULL === '1';

/** The configuration of this run. */
export const config: BenchConfig = {
  mode: smoke ? 'smoke' : full ? 'full' : 'default',
  rounds: smoke ? 1 : 3,
  shortRounds: smoke ? 1 : 7,
  settleMs: smoke ? 0 : 200,
  warmups: smoke ? 0 : 1,
  w1Pairs: smoke ? 5 : 100,
  minRoundMs: smoke ? 0 : 300,
  appendCalls: smoke ? 20 : 1000,
  appendPoints: smoke ? [5, 10, 20] : [10, 100, 1000],
  turnCalls: smoke ? 20 : 300,
  turnPoints: smoke ? [5, 10, 20] : [10, 100, 300],
  chainLoads: smoke ? 5 : 100,
  batchRecords: smoke ? 20 : 1000,
  batchSize: smoke ? 5 : 100,
  batchSingles: smoke ? 10 : 200,
  cacheSequential: smoke ? 5 : 200,
  cacheConcurrent: smoke ? 64 : 640,
  listSizes: smoke ? [20] : full ? [1_000, 10_000, 100_000] : [1_000, 10_000],
  listMinMs: smoke ? 0 : 100,
  listMaxCalls: 200,
  migrationSizes: smoke ? [10] : full ? [2_000, 10_000] : [2_000],
  cycleMigrationSizes: smoke ? [10] : full ? [2_000, 10_000] : [1_000],
  redisUrl: process.env.CONNECTOME_STORAGE_REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgresUrl:
    process.env.CONNECTOME_STORAGE_POSTGRES_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test',
  resultsDir: resolve(process.env.BENCH_RESULTS_DIR ?? 'bench/results'),
  resultsStem: smoke ? 'smoke' : 'latest',
};
