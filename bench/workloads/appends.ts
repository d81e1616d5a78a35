/** Per-call timing of a growing series of appends, shared by W2 (memories) and W3 (chains). */
import { config } from '../config.js';
import { median, opsPerSecond } from '../method.js';
import type { RowSpec } from '../rows.js';
import type { Metrics } from '../types.js';

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
