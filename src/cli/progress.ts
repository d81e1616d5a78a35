/**
 * Progress output of `migrate`, always on stderr (stdout carries only the result): one
 * cli-progress bar per pass and kind with counts and rate on a terminal, plain lines
 * (about one a second while a phase runs, one when it ends) otherwise, nothing with `--json`.
 */
import cliProgress from 'cli-progress';
import type { MigrationProgressEvent, ProgressListener } from '../migration/index.js';

/** How progress is shown. */
export type ProgressMode = 'bars' | 'plain' | 'none';

/** A progress listener and the call that finishes its output. */
export interface ProgressRenderer {
  listener: ProgressListener | undefined;
  stop(): void;
}

/** A stream the renderer writes to. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

const PLAIN_INTERVAL_MS = 1000;

/** A phase's name, e.g. `copy conversations`; a dry run copies nothing, its `copy` stage counts. */
function labeller(dryRun: boolean): (event: MigrationProgressEvent) => string {
  return (event) =>
    `${dryRun && event.stage === 'copy' ? 'count' : event.stage} ${event.phase.replace('_', ' ')}`;
}

/** Items per second since `startedAt`. */
function rate(done: number, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  return seconds > 0 ? (done / seconds).toFixed(done / seconds >= 100 ? 0 : 1) : '0';
}

function barsRenderer(
  stream: ProgressStream,
  label: (event: MigrationProgressEvent) => string,
): ProgressRenderer {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: '{label} {bar} {value}/{total} {rate}/s {duration_formatted}',
      hideCursor: true,
      barsize: 30,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; startedAt: number }>();
  return {
    listener(event) {
      const name = label(event);
      if (event.type === 'phase-start') {
        const bar = multibar.create(event.total, 0, { label: name.padEnd(20), rate: '0' });
        bars.set(name, { bar, startedAt: performance.now() });
        return;
      }
      const entry = bars.get(name);
      entry?.bar.update(event.done, { rate: rate(event.done, entry.startedAt) });
    },
    stop: () => multibar.stop(),
  };
}

function plainRenderer(
  stream: ProgressStream,
  label: (event: MigrationProgressEvent) => string,
): ProgressRenderer {
  const started = new Map<string, number>();
  let lastLine = 0;
  const line = (text: string) => {
    stream.write(`${text}\n`);
    lastLine = performance.now();
  };
  return {
    listener(event) {
      const name = label(event);
      if (event.type === 'phase-start') {
        started.set(name, performance.now());
        return;
      }
      const startedAt = started.get(name) ?? performance.now();
      if (event.type === 'phase-end') {
        const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
        line(`${name}: ${event.done}/${event.total} done (${rate(event.done, startedAt)}/s, ${seconds} s)`);
      } else if (performance.now() - lastLine >= PLAIN_INTERVAL_MS) {
        line(`${name}: ${event.done}/${event.total} (${rate(event.done, startedAt)}/s)`);
      }
    },
    stop: () => undefined,
  };
}

/**
 * The renderer for `mode` (`auto`: bars on a terminal, plain lines otherwise); with `dryRun`
 * the copy phases are named `count ...`.
 */
export function createProgressRenderer(
  mode: ProgressMode | 'auto',
  stream: ProgressStream,
  dryRun = false,
): ProgressRenderer {
  const chosen = mode === 'auto' ? (stream.isTTY === true ? 'bars' : 'plain') : mode;
  if (chosen === 'bars') return barsRenderer(stream, labeller(dryRun));
  if (chosen === 'plain') return plainRenderer(stream, labeller(dryRun));
  return { listener: undefined, stop: () => undefined };
}
