/** The CLI's commands: `migrate`, `health`, `stats`, `purge-cache`, `backends` (`list`: `list-command.ts`, `search`: `search-command.ts`). */
import { redactUrlsInText } from '../core/redact.js';
import { ConfigError, ReadOnlyError, StoreNotFoundError } from '../core/errors.js';
import type { JsonValue } from '../core/json.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { StorageFactory } from '../factory/index.js';
import { migrateStorage } from '../migration/index.js';
import { type BackendSpec, sameStore } from './backend-spec.js';
import { formatMigrationSummary, formatReport, printable } from './format.js';
import {
  asCliError,
  assertExists,
  closeAll,
  closeWithin,
  CliError,
  createStore,
  errorText,
  EXIT,
  INTERRUPTED_CLOSE_WAIT_MS,
  openError,
  type OpenOptions,
  openStore,
  redactOutput,
  resolveSpec,
} from './open.js';
import { MARKER_READ_WAIT_MS, type MarkerRead, migrationError, readMarkerWithin } from './migrate-failure.js';
import { createProgressRenderer, type ProgressStream } from './progress.js';

/** Where the CLI writes: results on stdout, progress and messages on stderr. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: ProgressStream;
}

/** Options of `migrate`, as commander parses them. */
export interface MigrateCommandOptions {
  from?: string;
  to?: string;
  fromEnv?: string;
  toEnv?: string;
  dryRun?: boolean;
  verify: boolean;
  merge?: boolean;
  /** Read the whole source before writing, refusing if any of it does not parse (`checkSource`). */
  checkSource?: boolean;
  upgradeSource?: boolean;
  json?: boolean;
  /** Default 4; for the conversation groups, the target's `bulkCopyDefaults`. */
  concurrency?: number;
  /** Conversations per batch write (`conversationBatchSize`); default: the target's `bulkCopyDefaults`. */
  batchSize?: number;
}

/** Options of the single-store commands. */
export interface StoreCommandOptions {
  env?: string;
  json?: boolean;
}

function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a command; a failure becomes its message on stderr (and a JSON error with `--json`) and an exit code. */
export async function runCommand(
  io: CliIO,
  json: boolean | undefined,
  run: () => Promise<number>,
): Promise<number> {
  try {
    return await run();
  } catch (error) {
    const failure = asCliError(error, EXIT.error);
    // The CLI's own messages too may quote what was typed (a spec whose path reads as a URL with
    // a password: shown until 2026-12-06); redacting again changes nothing already redacted.
    const message = redactUrlsInText(failure.message);
    // A message may quote stored text (an agent id, a key), whose control characters must not reach the terminal.
    io.stderr.write(`connectome-storage: ${printable(message)}\n`);
    if (json) writeJsonError(io, message, failure.exitCode);
    return failure.exitCode;
  }
}

/** The JSON a failed command prints on stdout with `--json` (`message` redacted already). */
export function writeJsonError(io: CliIO, message: string, exitCode: number): void {
  writeJson(io, { ok: false, error: message, exitCode });
}

/** Calls `abort` on SIGINT/SIGTERM until the returned function is called. */
function onInterrupt(abort: () => void): () => void {
  const handler = () => abort();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
  };
}

/** `migrate`: copies one store into another, verifies, prints a summary. */
export async function migrateCommand(options: MigrateCommandOptions, io: CliIO): Promise<number> {
  const from = resolveSpec(options.from, options.fromEnv, {
    spec: '--from <backend spec>',
    env: '--from-env',
  });
  const to = resolveSpec(options.to, options.toEnv, { spec: '--to <backend spec>', env: '--to-env' });
  if (sameStore(from, to)) {
    throw new CliError(
      `Source and target are the same store (${to.display}); nothing was written`,
      EXIT.usage,
    );
  }
  const dryRun = options.dryRun === true;
  // Every write into a read-only target would fail: refused before anything is opened, since
  // "run the same command again" could never get further.
  if (!dryRun && (to.config.readOnly === true || to.config.read_only === true)) {
    throw new CliError(
      `The target ${to.display} is configured read-only (readOnly / CONNECTOME_STORAGE_READ_ONLY); ` +
        'a migration writes to it. Nothing was written; open it writable',
      EXIT.usage,
    );
  }
  const stores: StorageInterface[] = [];
  const renderer = createProgressRenderer(options.json ? 'none' : 'auto', io.stderr, dryRun);
  const controller = new AbortController();
  const stopListening = onInterrupt(() => controller.abort(new Error('interrupted')));
  const { signal } = controller;
  let marker: MarkerRead | undefined;
  try {
    // Printed before the stores open: opening a store may take its connect timeout, and an
    // interrupt meanwhile ends the command at once (exit 130).
    if (!options.json)
      io.stderr.write(`${dryRun ? 'Counting' : 'Migrating'} ${from.display} -> ${to.display}\n`);
    // The source is only read: a read-only open never creates, upgrades or changes it, unless
    // the user asked for an older-format source to be upgraded in place first.
    stores.push(await openStore(from, 'source', true, { readOnly: options.upgradeSource !== true, signal }));
    // A dry run validates the target spec but never opens (creates, upgrades) the target,
    // and makes it read-only so that nothing could write to it.
    stores.push(
      dryRun
        ? createStore(to, 'target', { readOnly: true })
        : await openStore(to, 'target', false, { signal }),
    );
    const [source, target] = stores as [StorageInterface, StorageInterface];
    const summary = await migrateStorage(source, target, {
      dryRun,
      verify: options.verify,
      merge: options.merge === true,
      checkSource: options.checkSource === true,
      concurrency: options.concurrency,
      conversationBatchSize: options.batchSize,
      sourceId: from.identity,
      targetId: to.identity,
      onProgress: renderer.listener,
      signal: controller.signal,
    });
    renderer.stop();
    const result = redactOutput(summary);
    if (options.json) writeJson(io, { source: from.display, target: to.display, ...result });
    else io.stdout.write(formatMigrationSummary(result, from.display, to.display));
    return summary.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    renderer.stop();
    const target = dryRun ? undefined : stores[1];
    marker = target === undefined ? 'unread' : await readMarkerWithin(target, MARKER_READ_WAIT_MS);
    throw migrationError(error, dryRun, marker);
  } finally {
    stopListening();
    // A target that did not answer in time still has the read running; its close would wait
    // for it (its driver's timeout): given up after a while, and the process exits (runMain).
    if (marker === 'unanswered') await closeWithin(stores, INTERRUPTED_CLOSE_WAIT_MS);
    else await closeAll(stores);
  }
}

/** The store of a single-store command: `<backend spec>` or `--env FILE`. */
function storeSpec(spec: string | undefined, options: StoreCommandOptions): BackendSpec {
  return resolveSpec(spec, options.env, { spec: '<backend spec>', env: '--env' });
}

/**
 * Opens the store of a single-store command, runs `use` on it and closes it. A failure of a
 * read-only command (`stats`, `list`, `search`) wrote nothing: exit 2, not 3 (a failure after
 * writing started, which only `purge-cache` can have).
 */
export async function withStore<T>(
  spec: string | undefined,
  options: StoreCommandOptions,
  open: OpenOptions,
  use: (store: StorageInterface, parsed: BackendSpec) => Promise<T>,
): Promise<T> {
  const parsed = storeSpec(spec, options);
  const store = await openStore(parsed, 'store', true, open);
  try {
    return await use(store, parsed);
  } catch (error) {
    throw asCliError(error, open.readOnly === true ? EXIT.usage : EXIT.error);
  } finally {
    await closeAll([store]);
  }
}

/**
 * `health`: prints the store's health report (opened read-only); exit 1 unless healthy (an
 * unreachable store too), exit 2 for a store that does not exist or a configuration its open
 * refuses (a `ConfigError`: a Redis database past the server's range, a `PGPORT` that is no port).
 */
export async function healthCommand(spec: string | undefined, options: StoreCommandOptions, io: CliIO) {
  const parsed = storeSpec(spec, options);
  const store = createStore(parsed, 'store', { readOnly: true });
  try {
    let report: Record<string, JsonValue | undefined>;
    try {
      assertExists(parsed, 'store');
      await store.initialize();
      report = { store: parsed.display, ...redactOutput(await store.healthCheck()) };
    } catch (error) {
      // A bad spec, not a sick store: exit 2 as for the usage errors (until 2026-12-04 exit 1).
      if (error instanceof CliError || error instanceof StoreNotFoundError || error instanceof ConfigError) {
        throw openError(error, parsed, 'store');
      }
      const reason = errorText(error);
      report = { store: parsed.display, status: 'error', storage_type: parsed.type, error: reason };
    }
    if (options.json) writeJson(io, report);
    else io.stdout.write(formatReport(report));
    return report.status === 'healthy' ? EXIT.ok : EXIT.failed;
  } finally {
    await closeAll([store]);
  }
}

/** `stats`: prints the store's counts (opened read-only; a missing store is exit 2). */
export async function statsCommand(spec: string | undefined, options: StoreCommandOptions, io: CliIO) {
  return withStore(spec, options, { readOnly: true }, async (store, parsed) => {
    const stats = { store: parsed.display, ...redactOutput(await store.getStorageStats()) };
    if (options.json) writeJson(io, stats);
    else io.stdout.write(formatReport(stats));
    return EXIT.ok;
  });
}

/** `purge-cache`: removes expired cache entries. */
export async function purgeCacheCommand(spec: string | undefined, options: StoreCommandOptions, io: CliIO) {
  return withStore(spec, options, {}, async (store, parsed) => {
    const removed = await store.purgeExpiredCache().catch((error: unknown) => {
      // A store configured read-only refuses before removing anything: nothing was written, so
      // this is a refusal (exit 2, as for a read-only migration target), not a failed write.
      throw error instanceof ReadOnlyError ? new CliError(errorText(error), EXIT.usage) : error;
    });
    if (options.json) writeJson(io, { store: parsed.display, removed });
    else
      io.stdout.write(
        `Removed ${removed} expired cache entr${removed === 1 ? 'y' : 'ies'} from ${parsed.display}.\n`,
      );
    return EXIT.ok;
  });
}

/** `backends`: lists the registered backends. */
export async function backendsCommand(options: { json?: boolean }, io: CliIO): Promise<number> {
  const backends = StorageFactory.getAvailableBackends();
  if (options.json) writeJson(io, backends);
  else io.stdout.write(formatReport(backends));
  return EXIT.ok;
}
