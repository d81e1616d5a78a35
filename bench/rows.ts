/** Result rows: one measured quantity of one workload case on one backend, per subject. */
import type { SubjectMedians } from './method.js';
import type { Backend, SubjectKind } from './types.js';

/** One line of a results table. */
export interface Row {
  workload: string;
  backend: Backend;
  /** What was measured, e.g. "store + load" or "per call at 1000". */
  label: string;
  /** `ratio`: a plain factor (W7's indexed / unindexed write speed), higher is better. */
  unit: 'ops/s' | 'records/s' | 'ms' | 'MB' | 'ratio';
  /** Ratios are speed ratios: for `ms` and `MB` rows the other subject's value over the library's. */
  higherIsBetter: boolean;
  /** The row the raw / Keyv targets apply to (throughput and listing times, not per-call detail). */
  headline: boolean;
  /** Conversations in the store (W5, W6), or calls made (W2, W3 per-call rows). */
  size?: number;
  values: Partial<Record<SubjectKind, number>>;
}

/** How to turn one metric of the medians into a row. */
export interface RowSpec {
  metric: string;
  label: string;
  unit: Row['unit'];
  headline?: boolean;
  size?: number;
}

/** Rows for `specs` from the subjects' medians (metrics a subject lacks are left out). */
export function toRows(workload: string, backend: Backend, medians: SubjectMedians, specs: RowSpec[]): Row[] {
  return specs.map((spec) => {
    const values: Row['values'] = {};
    for (const [subject, metrics] of Object.entries(medians) as Array<
      [SubjectKind, Record<string, number>]
    >) {
      const value = metrics[spec.metric];
      if (value !== undefined) values[subject] = value;
    }
    return {
      workload,
      backend,
      label: spec.label,
      unit: spec.unit,
      higherIsBetter: spec.unit === 'ops/s' || spec.unit === 'records/s',
      headline: spec.headline ?? true,
      ...(spec.size === undefined ? {} : { size: spec.size }),
      values,
    };
  });
}

/** Library speed over `other`'s speed (>1: the library is faster), or undefined. */
export function ratio(row: Row, other: SubjectKind): number | undefined {
  const library = row.values.library;
  const value = row.values[other];
  if (library === undefined || value === undefined || library === 0 || value === 0) return undefined;
  return row.higherIsBetter ? library / value : value / library;
}
