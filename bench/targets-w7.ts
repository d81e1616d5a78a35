/** Issue 13's W7 targets: search p50 under 20 ms at 100,000 records, indexed writes at least 0.7x unindexed. */
import type { Row } from './rows.js';
import type { TargetCheck } from './targets.js';
import type { Backend } from './types.js';

/** Backends the p50 target applies to (the others' figures are reported). */
const P50_BACKENDS: Backend[] = ['sqlite', 'postgres'];
/** Backends the write-ratio target applies to. */
const RATIO_BACKENDS: Backend[] = ['sqlite', 'postgres', 'redis'];

/** The W7 target checks the rows allow (the p50 target needs a run at 100,000, `BENCH_FULL=1`). */
export function checkW7Targets(rows: Row[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const row of rows.filter((r) => r.workload === 'W7')) {
    const value = row.values.library;
    if (value === undefined) continue;
    if (row.unit === 'ms' && row.label.includes('p50') && row.size === 100_000) {
      checks.push({
        target: 'W7 search p50 < 20 ms at 100,000',
        backend: row.backend,
        what: row.label,
        status: P50_BACKENDS.includes(row.backend) ? (value < 20 ? 'met' : 'missed') : 'reported',
        detail: `${value.toFixed(2)} ms (${row.label})`,
      });
    }
    if (row.unit === 'ratio') {
      checks.push({
        target: 'W7 indexed writes >= 0.7x unindexed',
        backend: row.backend,
        what: row.label,
        status: RATIO_BACKENDS.includes(row.backend) ? (value >= 0.7 ? 'met' : 'missed') : 'reported',
        detail: `${value.toFixed(2)}x at ${row.size ?? '?'} records`,
      });
    }
  }
  return checks;
}
