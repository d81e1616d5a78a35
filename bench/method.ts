/**
 * The measuring method: subjects alternate within each round (their order rotates every
 * round), warm-up rounds first, then the median of each metric over the measured rounds, so
 * machine drift hits every subject alike.
 */
import { config } from './config.js';
import type { Metrics, SubjectKind } from './types.js';

/** Median of `values` (NaN when empty). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Milliseconds `fn` takes. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Ops per second of `count` operations that took `ms`. */
export const opsPerSecond = (count: number, ms: number): number => (count * 1000) / ms;

/**
 * Runs `op`, `concurrency` calls at a time, until at least `minCalls` calls have been made and
 * `minMs` have passed; returns ops/s. For fast calls, whose fixed count would finish in a few
 * milliseconds: too short a span for a rate (scheduler ticks, GC pauses and the first calls
 * after the pause between subjects swing it from run to run).
 */
export async function sustainedThroughput(
  minCalls: number,
  minMs: number,
  op: (n: number) => Promise<unknown>,
  concurrency = 1,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const more = (): boolean => next < minCalls || performance.now() - started < minMs;
  const worker = async (): Promise<void> => {
    while (more()) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, minCalls)) }, worker));
  return opsPerSecond(next, performance.now() - started);
}

/** Runs `count` calls of `op` (numbered from 0), `concurrency` at a time; resolves once all are done. */
export async function runCalls(
  count: number,
  concurrency: number,
  op: (n: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Runs `count` calls of `op`, `concurrency` at a time; returns ops/s. */
export async function throughput(
  count: number,
  concurrency: number,
  op: (n: number) => Promise<unknown>,
): Promise<number> {
  const ms = await timeMs(() => runCalls(count, concurrency, op));
  return opsPerSecond(count, ms);
}

/** Measures one subject in one round; `warmup` asks for a shortened run. */
export type RoundFn = (subject: SubjectKind, round: number, warmup: boolean) => Promise<Metrics>;

/** Median metrics per subject. */
export type SubjectMedians = Partial<Record<SubjectKind, Metrics>>;

/**
 * Runs the warm-up and measured rounds, all `subjects` in each (order rotated per round),
 * and returns each subject's median per metric.
 */
export async function alternate(
  subjects: SubjectKind[],
  measure: RoundFn,
  warmups = config.warmups,
  rounds = config.rounds,
): Promise<SubjectMedians> {
  const samples = new Map<SubjectKind, Map<string, number[]>>(subjects.map((s) => [s, new Map()]));
  const total = warmups + rounds;
  for (let round = 0; round < total; round += 1) {
    const warmup = round < warmups;
    const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
    for (const subject of order) {
      const metrics = await measure(subject, round, warmup);
      if (config.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, config.settleMs));
      if (warmup) continue;
      const bySubject = samples.get(subject)!;
      for (const [name, value] of Object.entries(metrics)) {
        bySubject.set(name, [...(bySubject.get(name) ?? []), value]);
      }
    }
  }
  const result: SubjectMedians = {};
  for (const [subject, metrics] of samples) {
    result[subject] = Object.fromEntries([...metrics].map(([name, values]) => [name, median(values)]));
  }
  return result;
}
