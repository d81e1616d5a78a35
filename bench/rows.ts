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
  /**
   * On write workloads (W1-W3, W6, W8, W9), which configuration `values.library` was measured with:
   * `false` (no full-text index, like raw and Keyv: the raw / Keyv targets apply) or `true`
   * (the default, index on; shown beside it, not checked). Absent elsewhere, and in results
   * written before the two were measured apart.
   */
  searchIndex?: boolean;
  /** `library` is the library's figure in the row's configuration; `libraryUnindexed` only on indexed rows. */
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

/** Each subject's value of `metric` (subjects lacking it are left out). */
function valuesOf(medians: SubjectMedians, metric: string): Row['values'] {
  const values: Row['values'] = {};
  for (const [subject, metrics] of Object.entries(medians) as Array<[SubjectKind, Record<string, number>]>) {
    const value = metrics[metric];
    if (value !== undefined) values[subject] = value;
  }
  return values;
}

/**
 * Rows for `specs` from the subjects' medians. When the library was also measured with
 * `searchIndex: false`, each spec gives two rows: that one (library value: the unindexed
 * figure), then the default configuration's (library value: the indexed figure; the unindexed
 * one kept as `libraryUnindexed`, for the index's cost).
 */
export function toRows(workload: string, backend: Backend, medians: SubjectMedians, specs: RowSpec[]): Row[] {
  return specs.flatMap((spec) => {
    const base = {
      workload,
      backend,
      label: spec.label,
      unit: spec.unit,
      higherIsBetter: spec.unit === 'ops/s' || spec.unit === 'records/s',
      headline: spec.headline ?? true,
      ...(spec.size === undefined ? {} : { size: spec.size }),
    };
    const values = valuesOf(medians, spec.metric);
    if (medians.libraryUnindexed === undefined) return [{ ...base, values }];
    const unindexed: Row['values'] = { ...values, library: values.libraryUnindexed };
    delete unindexed.libraryUnindexed;
    if (unindexed.library === undefined) delete unindexed.library;
    return [
      { ...base, searchIndex: false, values: unindexed },
      { ...base, searchIndex: true, values },
    ];
  });
}

/** Library speed over `other`'s speed (>1: the library is faster), or undefined. */
export function ratio(row: Row, other: SubjectKind): number | undefined {
  const library = row.values.library;
  const value = row.values[other];
  if (library === undefined || value === undefined || library === 0 || value === 0) return undefined;
  return row.higherIsBetter ? library / value : value / library;
}
