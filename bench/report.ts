/** Writes the results as Markdown (the README's table) and JSON. */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { config } from './config.js';
import { ratio, type Row } from './rows.js';
import { checkTargets, ratioStatus, recordedPerRecordRates, type TargetCheck } from './targets.js';

/** Everything one run produced. */
export interface BenchResults {
  date: string;
  mode: string;
  node: string;
  cpus: number;
  cpuModel: string;
  versions: Record<string, string>;
  counts: Record<string, unknown>;
  durationSeconds: number;
  note: string;
  rows: Row[];
  targets: TargetCheck[];
  errors: string[];
}

const DRIVERS = [
  'sqlite3',
  'sqlite',
  'ioredis',
  'pg',
  'keyv',
  '@keyv/sqlite',
  '@keyv/redis',
  '@keyv/postgres',
];

/** Installed driver versions, read from `node_modules`. */
export function driverVersions(): Record<string, string> {
  return Object.fromEntries(
    DRIVERS.map((name) => {
      try {
        const manifest = readFileSync(resolve('node_modules', name, 'package.json'), 'utf8');
        return [name, (JSON.parse(manifest) as { version: string }).version];
      } catch {
        return [name, 'missing'];
      }
    }),
  );
}

/** The header fields of a run. */
export function machineInfo(): Pick<BenchResults, 'node' | 'cpus' | 'cpuModel'> {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?' };
}

const number = (value: number | undefined): string => {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
};
const times = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}x`);

/** The results as Markdown: header, one table per workload, the target checks. */
export function toMarkdown(results: BenchResults): string {
  const lines = [
    `Run ${results.date}, mode \`${results.mode}\`, Node ${results.node}, ${results.cpus} CPUs (${results.cpuModel}), ${Math.round(results.durationSeconds)} s.`,
    `Versions: ${Object.entries(results.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
    '',
  ];
  if (results.note) lines.push(`> ${results.note}`, '');
  lines.push(
    `Medians of ${config.rounds} round(s) (W1 and W4, whose rounds are short: ${config.shortRounds}) after ${config.warmups} warm-up (W6: no warm-up; W5 repeats each call for ${config.listMinMs} ms per round and takes its median), with a ${config.settleMs} ms pause after each subject's part of a round (so work a store defers past its calls is not timed against the next subject); ratios are library speed / other speed (> 1: the library is faster; for ms and MB rows the inverse of the values). Keyv 5 has no file adapter.`,
    '',
  );
  if (results.rows.some((row) => row.searchIndex !== undefined))
    lines.push(
      'Write workloads (W1-W3, W6, W8, and W9 memories and chains) measure the library twice in the same rounds: with `searchIndex: false`, which keeps no full-text index, like the raw drivers and Keyv (the raw and Keyv targets are checked on that row), and right below it with the default configuration (index on), whose ratios include the cost of maintaining the index.',
      '',
    );
  for (const workload of [...new Set(results.rows.map((row) => row.workload))]) {
    const rows = results.rows.filter((r) => r.workload === workload);
    // The configuration column only where the library ran in both (older results have none).
    const withConfig = rows.some((row) => row.searchIndex !== undefined);
    const configCell = (row: Row): string[] => {
      if (!withConfig) return [];
      if (row.searchIndex === undefined) return ['–'];
      return [row.searchIndex ? 'default (index on)' : '`searchIndex: false`'];
    };
    const head = ['backend', 'measured', ...(withConfig ? ['library config'] : []), 'unit'];
    const rest = ['library', 'raw', 'Keyv', 'lib/raw', 'lib/Keyv', 'targets'];
    lines.push(
      `#### ${workload}`,
      '',
      `| ${[...head, ...rest].join(' | ')} |`,
      `| ${[...head.map(() => '---'), '---:', '---:', '---:', '---:', '---:', '---'].join(' | ')} |`,
    );
    for (const row of rows) {
      const { library, raw, keyv } = row.values;
      const cells = [
        row.backend,
        row.label,
        ...configCell(row),
        row.unit,
        number(library),
        number(raw),
        number(keyv),
        times(ratio(row, 'raw')),
        times(ratio(row, 'keyv')),
        ratioStatus(row),
      ];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  const met = results.targets.filter((t) => t.status === 'met').length;
  const missed = results.targets.filter((t) => t.status === 'missed');
  lines.push(`#### Targets: ${met} met, ${missed.length} missed`, '');
  const other = results.targets.filter((t) => !t.target.startsWith('>='));
  if (other.length > 0) {
    lines.push('| target | backend | figures | status |', '| --- | --- | --- | --- |');
    for (const check of other)
      lines.push(`| ${check.target} | ${check.backend} | ${check.detail} | ${check.status} |`);
    lines.push('');
  }
  const unmeasured =
    config.mode === 'full'
      ? []
      : [
          'W5 < 1 s at 100,000, W6 peak RSS at 10,000 and W7 search p50 at 100,000 are measured with `BENCH_FULL=1` only.',
        ];
  lines.push(...unmeasured.map((text) => `${text}`), '');
  if (results.errors.length > 0)
    lines.push('#### Errors', '', ...results.errors.map((error) => `- ${error}`), '');
  return lines.join('\n');
}

/** Writes `<stem>.md` and `<stem>.json` into the results folder; returns the Markdown path. */
export async function writeResults(base: Omit<BenchResults, 'targets'>): Promise<string> {
  const results: BenchResults = { ...base, targets: checkTargets(base.rows, recordedPerRecordRates()) };
  await mkdir(config.resultsDir, { recursive: true });
  const md = join(config.resultsDir, `${config.resultsStem}.md`);
  // Formatted as the repository's Prettier check wants, so results are committed as written.
  // Imported here: Prettier's top-level dynamic import breaks Jest, whose tests render tables.
  const { format } = await import('prettier');
  await writeFile(md, await format(toMarkdown(results), { parser: 'markdown' }));
  const json = join(config.resultsDir, `${config.resultsStem}.json`);
  await writeFile(json, await format(JSON.stringify(results), { parser: 'json' }));
  return md;
}
