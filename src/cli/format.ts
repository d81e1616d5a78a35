/** Human-readable output of the CLI (the `--json` forms print the objects themselves). */
import type { JsonValue } from '../core/json.js';
import { type MigrationSummary, RECORD_KINDS } from '../migration/index.js';

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with its control characters written as escapes (`\n`, `\u001b`), for text output:
 * a stored record may hold terminal escape sequences, which must not reach the terminal, and
 * line breaks, which would break the one-line-per-item form. JSON strings stay valid JSON.
 */
export function printable(text: string): string {
  return text.replace(
    CONTROL,
    (char) => SHORT_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Differences and conflicts printed at most (the JSON summary holds the kept ones). */
const MAX_LISTED = 20;

function table(rows: readonly (readonly string[])[]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd(),
  );
}

/** One line per conflict or difference (at most {@link MAX_LISTED}), then how many were not listed. */
function listed(items: readonly { kind: string; id: string; message: string }[], count: number): string[] {
  const shown = items.slice(0, MAX_LISTED);
  const lines = shown.map((item) => printable(`  ${item.kind} ${JSON.stringify(item.id)}: ${item.message}`));
  if (count > shown.length) lines.push(`  ... and ${count - shown.length} more`);
  return lines;
}

/** The report printed after `migrate`. */
export function formatMigrationSummary(summary: MigrationSummary, from: string, to: string): string {
  const lines: string[] = [];
  const verb = summary.dryRun ? 'Would copy' : 'Copied';
  lines.push(
    `${summary.dryRun ? 'Dry run: ' : ''}${from} -> ${to}${summary.resumed ? ' (resumed an unfinished run)' : ''}`,
  );
  const rows = [['kind', summary.dryRun ? 'would copy' : 'copied', 'skipped', 'verified']];
  for (const kind of RECORD_KINDS) {
    const { copied, skipped } = summary.counts[kind];
    const checked = summary.verification?.checked[kind];
    rows.push([kind, String(copied), String(skipped), checked === undefined ? '-' : String(checked)]);
  }
  lines.push(...table(rows).map((row) => `  ${row}`));
  lines.push(
    `  (${summary.conversationIds} conversation ids, ${summary.agents} agents; skipped = already in the target or expired)`,
  );
  // Warnings quote stored text (ids, keys, a foreign file's timestamps): escaped like the conflicts.
  for (const warning of summary.warnings) lines.push(printable(`Warning: ${warning}`));
  if (summary.conflictCount > 0) {
    lines.push(`Conflicts (${summary.conflictCount}):`, ...listed(summary.conflicts, summary.conflictCount));
  }
  const verification = summary.verification;
  if (summary.dryRun) {
    lines.push('Nothing was written; the target was not opened.');
  } else if (verification === null) {
    lines.push('Verification skipped (--no-verify).');
  } else if (verification.ok) {
    const total = RECORD_KINDS.reduce((sum, kind) => sum + verification.checked[kind], 0);
    lines.push(`Verified: ${total} records compared, no differences.`);
  } else {
    lines.push(
      `Verification FAILED: ${verification.differenceCount} difference(s).`,
      ...listed(verification.differences, verification.differenceCount),
    );
  }
  if (!summary.dryRun) {
    lines.push(
      summary.ok
        ? `${verb} in ${summary.durationMs < 1000 ? `${summary.durationMs} ms` : `${(summary.durationMs / 1000).toFixed(1)} s`}.`
        : 'Not finished: fix the above and run the same command again (it resumes).',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A flat `key: value` report (nested values as one line of JSON), control characters escaped:
 * a health report's error or a registered backend's stats may quote stored text.
 */
export function formatReport(report: Readonly<Record<string, JsonValue | undefined>>): string {
  const entries = Object.entries(report).filter(
    (entry): entry is [string, JsonValue] => entry[1] !== undefined,
  );
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  const text = (value: JsonValue) => (typeof value === 'string' ? value : JSON.stringify(value));
  return entries
    .map(([key, value]) => `${printable(`${`${key}:`.padEnd(width + 1)} ${text(value)}`)}\n`)
    .join('');
}
