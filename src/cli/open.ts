/** Opening the stores named on the command line, with CLI errors and exit codes. */
import { existsSync } from 'node:fs';
import { StoreNeedsUpgradeError, StoreNotFoundError } from '../core/errors.js';
import type { StorageLogger } from '../core/logger.js';
import { redactUrlsInText } from '../core/redact.js';
import { settledWithin } from '../core/waits.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { BUILTIN_BACKENDS } from '../factory/builtins.js';
import { StorageFactory } from '../factory/index.js';
import { MIGRATION_MARKER_KEY } from '../migration/marker.js';
import { type BackendSpec, parseBackendSpec } from './backend-spec.js';
import { specFromEnvFile } from './env-file-spec.js';

/** Exit codes of the CLI. */
export const EXIT = {
  /** Done (migrated and verified, healthy, ...). */
  ok: 0,
  /** Verification differences or conflicts; an unhealthy store. */
  failed: 1,
  /**
   * Refused or failed before writing anything: bad usage or spec, unknown backend, unreachable or
   * missing store, same store, non-empty target; a failed read-only command or dry run, or a
   * migration that failed before its first write.
   */
  usage: 2,
  /** A failure after writing started (the same command resumes). */
  error: 3,
  /** Interrupted by SIGINT/SIGTERM (the same command resumes). */
  interrupted: 130,
} as const;

/** An error the CLI reports as one message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * `value` with the password of every URL in its strings replaced by `***` (see
 * `redactUrlsInText`), for anything the CLI prints: results a backend produced (health
 * reports, stats, summaries, where a driver may put a connection URL) and error messages.
 * Only the password fields change: object keys, other words and the rest of each URL stay.
 */
export function redactOutput<T>(value: T): T {
  if (typeof value === 'string') return redactUrlsInText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactOutput(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => [key, redactOutput(item)]);
    return Object.fromEntries(entries) as T;
  }
  return value;
}

/** The spec of `--from SPEC` / `--from-env FILE` (exactly one of them). */
export function resolveSpec(
  spec: string | undefined,
  envFile: string | undefined,
  flags: { spec: string; env: string },
): BackendSpec {
  if (spec !== undefined && envFile !== undefined) {
    throw new CliError(`Give either ${flags.spec} or ${flags.env}, not both`, EXIT.usage);
  }
  if (spec === undefined && envFile === undefined) {
    throw new CliError(`Missing ${flags.spec} (or ${flags.env} <file>)`, EXIT.usage);
  }
  try {
    return envFile !== undefined ? specFromEnvFile(envFile) : parseBackendSpec(spec as string);
  } catch (error) {
    throw asCliError(error, EXIT.usage);
  }
}

/** An error's message with the passwords of URLs in it redacted. */
export function errorText(error: unknown): string {
  return redactUrlsInText(error instanceof Error ? error.message : String(error));
}

/** Turns any error into a {@link CliError} (a storage error keeps its message, URL passwords redacted). */
export function asCliError(error: unknown, exitCode: number): CliError {
  return error instanceof CliError ? error : new CliError(errorText(error), exitCode);
}

/** How a command opens a store. */
export interface OpenOptions {
  /**
   * Open read-only (built-in backends): never create, upgrade or change the store, and report
   * a missing one (exit code 2). A backend you register is opened as it is.
   */
  readOnly?: boolean;
  /** Gives up opening when it aborts (SIGINT/SIGTERM): a {@link CliError} with exit code 130. */
  signal?: AbortSignal;
  /** Where a built-in backend's events go (a spec cannot name a logger); a registered backend gets none. */
  logger?: StorageLogger;
}

/** The spec's config, with `readOnly: true` and `logger` for a read-only open of a built-in backend. */
function storeConfig(spec: BackendSpec, options: OpenOptions): Record<string, unknown> {
  if (!Object.hasOwn(BUILTIN_BACKENDS, spec.type)) return spec.config;
  return {
    ...spec.config,
    ...(options.readOnly === true && { readOnly: true }),
    ...(options.logger !== undefined && { logger: options.logger }),
  };
}

/** Creates the store `spec` names without opening it; a bad spec or unknown backend is exit code 2. */
export function createStore(spec: BackendSpec, role: string, options: OpenOptions = {}): StorageInterface {
  try {
    return StorageFactory.createStorage(spec.type, storeConfig(spec, options));
  } catch (error) {
    throw new CliError(`Cannot use the ${role} ${spec.display}: ${errorText(error)}`, EXIT.usage);
  }
}

/**
 * Refuses (exit code 2) a file or SQLite store whose folder or file does not exist:
 * opening it would create an empty one, so a mistyped source would "migrate" nothing and
 * succeed, and `stats` would report zeros, leaving a new empty store behind.
 */
export function assertExists(spec: BackendSpec, role: string): void {
  if (spec.localPath !== undefined && !existsSync(spec.localPath)) {
    throw new CliError(
      `The ${role} ${spec.display} does not exist (nothing was created): ${spec.localPath}`,
      EXIT.usage,
    );
  }
}

/**
 * The CLI error for a store that failed to open (`error` its cause): a missing store is named
 * as such; all exit 2.
 */
export function openError(error: unknown, spec: BackendSpec, role: string): CliError {
  if (error instanceof CliError) return error;
  const cause = { cause: error };
  if (error instanceof StoreNotFoundError) {
    return new CliError(
      `The ${role} ${spec.display} does not exist (${errorText(error.reason)}); nothing was created`,
      EXIT.usage,
      cause,
    );
  }
  if (error instanceof StoreNeedsUpgradeError) {
    return new CliError(
      `The ${role} ${spec.display} is in an older format that a read-only open cannot read ` +
        `(${errorText(error)}); nothing was changed. Upgrade it by opening it once ` +
        `writable (for a migration source: --upgrade-source)`,
      EXIT.usage,
      cause,
    );
  }
  return new CliError(`Cannot open the ${role} ${spec.display}: ${errorText(error)}`, EXIT.usage, cause);
}

/**
 * Built-in backends whose writable open creates a store it does not find without touching the
 * local file system (a Redis prefix's layout key, a PostgreSQL schema and its tables), so
 * {@link assertExists} cannot see a missing one.
 */
const NETWORK_BACKENDS: ReadonlySet<string> = new Set(['redis', 'postgres']);

/**
 * Refuses (exit code 2) a Redis prefix or PostgreSQL schema that a writable open would create:
 * a read-only open of it first, which creates nothing and reports a missing store (until
 * 2026-12-06 `purge-cache` and `migrate --upgrade-source` on a mistyped prefix or schema
 * created an empty store and succeeded). A store in an older format (which a read-only open
 * refuses with a `StoreNeedsUpgradeError`, a Redis v1 prefix at its first read) exists: the
 * writable open that follows upgrades it.
 */
async function assertNetworkStoreExists(
  spec: BackendSpec,
  role: string,
  signal?: AbortSignal,
): Promise<void> {
  if (!NETWORK_BACKENDS.has(spec.type)) return;
  try {
    const probe = await openStore(spec, role, false, { readOnly: true, signal });
    await probe.shutdown();
  } catch (error) {
    if (error instanceof CliError && error.cause instanceof StoreNeedsUpgradeError) return;
    throw error;
  }
}

/**
 * Creates and initializes the store `spec` names. An unknown backend, a bad config, an
 * unreachable store or a missing store (a read-only open, or `mustExist`: a built-in
 * backend's store is never created then) is a {@link CliError} with exit code 2 (no record
 * was copied); an interrupt (`options.signal`) is exit code 130, saying what the open may
 * have written.
 */
export async function openStore(
  spec: BackendSpec,
  role: string,
  mustExist = false,
  options: OpenOptions = {},
): Promise<StorageInterface> {
  if (mustExist) {
    assertExists(spec, role);
    // A read-only open refuses a missing store itself.
    if (options.readOnly !== true) await assertNetworkStoreExists(spec, role, options.signal);
  }
  const storage = createStore(spec, role, options);
  const opening = (async () => {
    await storage.initialize();
    // A read-only store in an older format may open but refuse to be read (a Redis v1
    // prefix): one small read finds that out before any work starts.
    if (options.readOnly === true) await storage.loadSystemState(MIGRATION_MARKER_KEY);
  })();
  try {
    await untilAborted(opening, options.signal);
  } catch (error) {
    const closing = storage.shutdown().catch(() => undefined);
    if (options.signal?.aborted === true) {
      opening.catch(() => undefined);
      // The shutdown waits for the open under way, then closes what it opened (connections, a
      // schema step in progress). The exit waits for it, but only so long: against an
      // unreachable server the open lasts until its connect timeout, and the CLI then exits
      // with the attempt still going (see `runMain`; nothing was written to end).
      await settledWithin(closing, INTERRUPTED_CLOSE_WAIT_MS);
      throw new CliError(
        `Interrupted while opening the ${role} ${spec.display}; ${interruptedOpenOutcome(spec, options)}`,
        EXIT.interrupted,
      );
    }
    await closing;
    throw openError(error, spec, role);
  }
  return storage;
}

/**
 * What an open cut short by an interrupt may have written. A read-only open writes nothing; a
 * writable one copies no record (the copy starts after both opens) but may have begun its
 * one-time setup: PostgreSQL DDL, SQLite schema creation, a file store's folders, a Redis
 * prefix's layout key or upgrade step, each finished by the store's next writable open.
 */
export function interruptedOpenOutcome(spec: BackendSpec, options: OpenOptions): string {
  // Only a built-in backend is known to honour `readOnly` (see `storeConfig`).
  const builtin = Object.hasOwn(BUILTIN_BACKENDS, spec.type);
  if (builtin && storeConfig(spec, options).readOnly === true) return 'nothing was written';
  return (
    'no record was copied, but the open may have begun creating or upgrading the store ' +
    '(schema, key layout or folders), which its next writable open completes'
  );
}

/** How long an interrupted command waits for the store it was opening to close. */
export const INTERRUPTED_CLOSE_WAIT_MS = 3000;

/** `promise`, or a rejection as soon as `signal` aborts (the work of `promise` goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

let leftClosing = false;

/** True once a command gave up waiting for a store to close ({@link closeWithin}): the process then exits at once. */
export function storesLeftClosing(): boolean {
  return leftClosing;
}

/**
 * {@link closeAll}, waiting at most `ms`: a store with a call still running against an
 * unreachable server closes only once its driver times out. After that wait the command goes
 * on and the process exits when it ends ({@link storesLeftClosing}).
 */
export async function closeWithin(
  stores: readonly (StorageInterface | undefined)[],
  ms: number,
): Promise<void> {
  let closed = false;
  const closing = closeAll(stores).then(() => {
    closed = true;
  });
  await settledWithin(closing, ms);
  if (!closed) leftClosing = true;
}

/** Shuts stores down, ignoring failures (used on the way out). */
export async function closeAll(stores: readonly (StorageInterface | undefined)[]): Promise<void> {
  await Promise.all(stores.map((store) => store?.shutdown().catch(() => undefined)));
}
