/**
 * Like-for-like write rows: the library measured with `searchIndex: false` and with its default
 * (index on) gives two rows per write metric; raw and Keyv targets are checked on the first
 * only, the second shows its own ratios and the index's cost; older results still render.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toMarkdown, type BenchResults } from '../../bench/report';
import { toRows, type Row } from '../../bench/rows';
import { checkTargets, indexCost, ratioStatus } from '../../bench/targets';

const medians = {
  library: { appends: 50, 'ms@10': 2, 'ms@1000': 3 },
  libraryUnindexed: { appends: 100, 'ms@10': 1, 'ms@1000': 1.5 },
  raw: { appends: 110, 'ms@10': 0.9, 'ms@1000': 1 },
  keyv: { appends: 40, 'ms@10': 5, 'ms@1000': 20 },
};
const specs = [
  { metric: 'appends', label: 'storeMemory x1000', unit: 'ops/s' as const },
  { metric: 'ms@10', label: 'per call at 10', unit: 'ms' as const, headline: false, size: 10 },
  { metric: 'ms@1000', label: 'per call at 1000', unit: 'ms' as const, headline: false, size: 1000 },
];

describe('bench rows with and without the search index', () => {
  test('each write metric gives the searchIndex: false row, then the default row', () => {
    const rows = toRows('W2', 'sqlite', medians, specs);
    expect(rows.map((r) => [r.label, r.searchIndex, r.values])).toEqual([
      ['storeMemory x1000', false, { library: 100, raw: 110, keyv: 40 }],
      ['storeMemory x1000', true, { library: 50, libraryUnindexed: 100, raw: 110, keyv: 40 }],
      ['per call at 10', false, { library: 1, raw: 0.9, keyv: 5 }],
      ['per call at 10', true, { library: 2, libraryUnindexed: 1, raw: 0.9, keyv: 5 }],
      ['per call at 1000', false, { library: 1.5, raw: 1, keyv: 20 }],
      ['per call at 1000', true, { library: 3, libraryUnindexed: 1.5, raw: 1, keyv: 20 }],
    ]);
    // Workloads without the unindexed subject (W4, W5) keep one row and no configuration.
    const single = toRows('W4', 'sqlite', { library: { x: 1 }, raw: { x: 2 } }, [
      { metric: 'x', label: 'x', unit: 'ops/s' },
    ]);
    expect(single).toEqual([expect.objectContaining({ values: { library: 1, raw: 2 } })]);
    expect(single[0]).not.toHaveProperty('searchIndex');
  });

  test('raw and Keyv targets are checked on the searchIndex: false row only', () => {
    const rows = toRows('W2', 'sqlite', medians, specs);
    const ratioChecks = checkTargets(rows).filter((c) => c.target.startsWith('>='));
    expect(ratioChecks.map((c) => [c.target, c.what, c.status, c.detail])).toEqual([
      ['>= 0.8x raw', 'W2 storeMemory x1000 (searchIndex: false)', 'met', '0.91x'],
      ['>= 1.0x Keyv', 'W2 storeMemory x1000 (searchIndex: false)', 'met', '2.50x'],
    ]);
    expect(ratioStatus(rows[0]!)).toBe('raw met, Keyv met (aim too)');
    expect(indexCost(rows[1]!)).toBeCloseTo(0.5);
    expect(ratioStatus(rows[1]!)).toBe('default, index on: 0.50x searchIndex: false');
    // Times: the index's cost is a speed ratio too (2 ms against 1 ms: 0.5x).
    expect(indexCost(rows[3]!)).toBeCloseTo(0.5);
    expect(indexCost(rows[0]!)).toBeUndefined();
  });

  test('per-call growth is checked in each configuration apart', () => {
    const growth = checkTargets(toRows('W2', 'sqlite', medians, specs)).filter((c) =>
      c.target.startsWith('W2 per call'),
    );
    expect(growth.map((c) => [c.what, c.status, c.detail])).toEqual([
      [
        'W2 library per-call time (searchIndex: false)',
        'met',
        '(searchIndex: false) 1.00 ms -> 1.50 ms (1.50x)',
      ],
      [
        'W2 library per-call time (index on, default)',
        'met',
        '(index on, default) 2.00 ms -> 3.00 ms (1.50x)',
      ],
    ]);
  });

  test('the W6 speed-up target uses the default (indexed) migration', () => {
    const label = 'migrate sqlite -> postgres, 2000 conversations';
    const rows = toRows(
      'W6',
      'sqlite',
      { library: { r: 3000 }, libraryUnindexed: { r: 9000 }, raw: { r: 1 } },
      [{ metric: 'r', label, unit: 'records/s', size: 2000 }],
    );
    const [speedup, likeForLike, ...rest] = checkTargets(rows, [
      { from: 'sqlite', to: 'postgres', conversations: 2000, recordsPerSecond: 1000, date: '2026-11-30' },
    ]).filter((c) => c.target.startsWith('W6'));
    expect(speedup).toMatchObject({ status: 'met', detail: expect.stringContaining('(3.00x;') });
    // The unindexed row (what the per-record version wrote) is reported beside it, not counted.
    expect(likeForLike).toMatchObject({
      status: 'reported',
      detail: expect.stringContaining(
        '(searchIndex: false, like for like) sqlite -> postgres: 1000.00 -> 9000.00',
      ),
    });
    expect(likeForLike?.detail).toContain('(9.00x would be met;');
    expect(rest).toEqual([]);
  });

  test('the table shows the configuration column and marks the default row', () => {
    const results: BenchResults = {
      date: 'd',
      mode: 'smoke',
      node: 'v20',
      cpus: 2,
      cpuModel: 'cpu',
      versions: {},
      counts: {},
      durationSeconds: 1,
      note: '',
      rows: toRows('W2', 'sqlite', medians, specs.slice(0, 1)),
      targets: [],
      errors: [],
    };
    const md = toMarkdown(results);
    expect(md).toContain('| backend | measured | library config | unit |');
    expect(md).toContain(
      '| sqlite | storeMemory x1000 | `searchIndex: false` | ops/s | 100 | 110 | 40.0 | 0.91x | 2.50x |',
    );
    expect(md).toContain(
      '| sqlite | storeMemory x1000 | default (index on) | ops/s | 50.0 | 110 | 40.0 | 0.45x | 1.25x | default, index on: 0.50x searchIndex: false |',
    );
  });

  test('results written before the split (bench/results/baseline.json) still render and check', () => {
    const results = JSON.parse(
      readFileSync(join(__dirname, '../../bench/results/baseline.json'), 'utf8'),
    ) as BenchResults;
    const rows: Row[] = results.rows;
    const md = toMarkdown(results);
    expect(md).toContain('| backend | measured | unit | library |');
    expect(md).not.toContain('library config');
    const checks = checkTargets(rows);
    expect(checks.filter((c) => c.target === '>= 0.8x raw').length).toBe(
      rows.filter((r) => r.headline && r.values.raw !== undefined && r.values.library !== undefined).length,
    );
  });
});
