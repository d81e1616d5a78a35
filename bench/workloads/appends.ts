/**
 * Per-call timing of a growing series of calls, shared by W2 (memories), W3 (chains) and W8
 * (raw-message lists).
 */
import { config } from '../config.js';
import { alternate, median, opsPerSecond, type SubjectMedians } from '../method.js';
import type { Row, RowSpec } from '../rows.js';
import { withStores, writeSubjectsFor } from '../subjects.js';
import type { Backend, BenchStore, Metrics, StoreLocation, SubjectKind } from '../types.js';

/** One subject's series of calls in one round: `count` calls (a tenth of the run's in the warm-up). */
export type SeriesRound = (
  store: BenchStore,
  subject: SubjectKind,
  round: number,
  count: number,
) => Promise<Metrics>;

/**
 * Runs `series` for every write subject of `backend` in alternating rounds (`calls` calls per
 * measured round, a tenth in the warm-up) and turns the subjects' medians into rows.
 */
export async function runSeries(
  backend: Backend,
  location: StoreLocation,
  calls: number,
  series: SeriesRound,
  rows: (medians: SubjectMedians) => Row[],
): Promise<Row[]> {
  const subjects = writeSubjectsFor(backend);
  return withStores(backend, subjects, location, async (stores) => {
    const medians = await alternate(subjects, (subject, round, warmup) =>
      series(stores.get(subject)!.store, subject, round, warmup ? Math.ceil(calls / 10) : calls),
    );
    return rows(medians);
  });
}

/**
 * Calls `append(k)` for k = 1..count, one after another, and returns ops/s over all calls
 * plus, for each reporting point p of `points`, the median time of calls p/2+1..p in ms (`ms@p`).
 */
export async function timeAppends(
  count: number,
  append: (k: number) => Promise<unknown>,
  points: readonly number[] = config.appendPoints,
): Promise<Metrics> {
  const times: number[] = [];
  for (let k = 1; k <= count; k += 1) {
    const started = performance.now();
    await append(k);
    times.push(performance.now() - started);
  }
  const metrics: Metrics = {
    appends: opsPerSecond(
      count,
      times.reduce((a, b) => a + b, 0),
    ),
  };
  for (const point of points) {
    if (point <= count) metrics[`ms@${point}`] = median(times.slice(Math.floor(point / 2), point));
  }
  return metrics;
}

/** Row specs for the per-call times of {@link timeAppends} at `points`. */
export const perCallSpecs = (what: string, points: readonly number[] = config.appendPoints): RowSpec[] =>
  points.map((point) => ({
    metric: `ms@${point}`,
    label: `${what} per call at ${point}`,
    unit: 'ms' as const,
    headline: false,
    size: point,
  }));
