/**
 * Typed errors of connectome-storage. Every failure rejects with a subclass of
 * {@link StorageError}. A missing record is never an error (loads give `null` or `[]`, D1);
 * a missing store is, on a read-only open ({@link StoreNotFoundError}).
 */

import { quoteName, shownText } from './shown-text.js';

/** Machine-readable error codes, one per error class (`RedisUpgradeRequiredError` shares its parent's). */
export type StorageErrorCode =
  | 'STORAGE_ERROR'
  | 'INVALID_ID'
  | 'VALIDATION_ERROR'
  | 'SERIALIZATION_ERROR'
  | 'CONFIG_ERROR'
  | 'BACKEND_UNAVAILABLE'
  | 'CORRUPT_DATA'
  | 'NOT_INITIALIZED'
  | 'READ_ONLY'
  | 'STORE_NOT_FOUND'
  | 'NEEDS_UPGRADE'
  | 'MIGRATION_REFUSED'
  | 'MIGRATION_ABORTED'
  | 'MIGRATION_MARKER_NOT_CLEARED'
  | 'ABORTED'
  | 'EMBEDDER_ERROR'
  | 'BATCH_PARTIALLY_APPLIED';

/** Base class of every error this library throws. */
export class StorageError extends Error {
  /** Stable code for programmatic handling. */
  readonly code: StorageErrorCode;

  constructor(message: string, options?: { cause?: unknown; code?: StorageErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'STORAGE_ERROR';
  }
}

/** An id (conversation, agent, memory) or a key (cache, state) that breaks the id rules. */
export class InvalidIdError extends StorageError {
  /** Which argument was wrong, e.g. `conversationId`. */
  readonly field: string;
  /** The rejected value, as given. */
  readonly value: unknown;

  constructor(field: string, value: unknown, reason: string) {
    super(`Invalid ${field} ${describeValue(value)}: ${reason}`, { code: 'INVALID_ID' });
    this.field = field;
    this.value = value;
  }
}

/** An argument other than an id that is out of range or of the wrong type (TTL, limit, data shape). */
export class ValidationError extends StorageError {
  /** Which argument was wrong. */
  readonly field: string;

  constructor(field: string, message: string, cause?: unknown) {
    super(`Invalid ${field}: ${message}`, { code: 'VALIDATION_ERROR', cause });
    this.field = field;
  }
}

/** A value that JSON cannot represent faithfully (BigInt, NaN, Infinity, cycles, functions...). */
export class SerializationError extends StorageError {
  /** JSON path of the offending value inside the argument, e.g. `$.steps[2].score`. */
  readonly path: string;

  constructor(what: string, path: string, reason: string, cause?: unknown) {
    // A property name may be any length: the message shows the path bounded, `path` keeps it whole.
    super(`Cannot store ${what}: ${reason} at ${shownText(path)}`, { code: 'SERIALIZATION_ERROR', cause });
    this.path = path;
  }
}

/** Bad configuration: an unknown key, a wrong type, an unparsable environment variable. */
export class ConfigError extends StorageError {
  /** The config key or environment variable involved. */
  readonly key: string | undefined;

  constructor(message: string, key?: string, cause?: unknown) {
    super(message, { code: 'CONFIG_ERROR', cause });
    this.key = key;
  }
}

/** A backend that cannot be reached or whose driver package is not installed. */
export class BackendUnavailableError extends StorageError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'BACKEND_UNAVAILABLE', cause });
  }
}

/** Stored data that cannot be read back (e.g. a JSON file that does not parse). */
export class CorruptDataError extends StorageError {
  /** Where the bad data lives: a file path, a table row, a key. */
  readonly location: string;

  constructor(location: string, reason: string, cause?: unknown) {
    super(`Corrupt data at ${location}: ${reason}`, { code: 'CORRUPT_DATA', cause });
    this.location = location;
  }
}

/**
 * An agent's reasoning chains that do not parse, from `loadSequencedReasoningChains`. Beside
 * the first place (`location`), it names every other place of the agent's chains the read
 * found bad (`locations`), and the sequence after which a read may go on past it, so that a
 * check of the whole store (a migration's `checkSource`) names them all, not only the first.
 */
export class CorruptChainsError extends CorruptDataError {
  /** The agent whose chains were read. */
  readonly agentId: string;
  /** Every bad place found, `location` first (a file store: its chains file, then its sequence file). */
  readonly locations: readonly string[];
  /**
   * The sequence of the chain that does not parse (one row or list item): a read after it
   * goes on with the next. `null` when no chain after it can be read (a whole file).
   */
  readonly sequence: number | null;

  constructor(
    agentId: string,
    sequence: number | null,
    locations: readonly string[],
    reason: string,
    cause?: unknown,
  ) {
    super(locations[0] ?? '', reason, cause);
    this.agentId = agentId;
    this.sequence = sequence;
    this.locations = Object.freeze([...locations]);
  }
}

/**
 * A call made before `initialize()` or after `shutdown()`. The message names the store (until
 * 2026-12-06 only its type: with many stores open, one could not tell which was closed).
 */
export class NotInitializedError extends StorageError {
  /** The store, as shown in messages (a path, a redacted URL with its prefix or schema). */
  readonly store: string;

  /**
   * @param store the store as shown in messages (the store's `describeStore()`); left out, the
   *   type names it, as every message did before
   */
  constructor(storageType: string, method: string, state: 'new' | 'closed', store: string = storageType) {
    // A backend with no description of its own is described by its type: named once, not twice.
    const where = store === storageType ? `${storageType} storage` : `${storageType} storage ${store}`;
    super(
      state === 'new'
        ? `${where}: ${method}() called before initialize()`
        : `${where}: ${method}() called after shutdown()`,
      { code: 'NOT_INITIALIZED' },
    );
    this.store = store;
  }
}

/** A write (store, delete, purge) on an instance opened with `readOnly: true`; nothing was written. */
export class ReadOnlyError extends StorageError {
  /** The public method that was refused, e.g. `storeConversation`. */
  readonly method: string;
  /** The store, as shown in messages (a path, a redacted URL with its prefix or schema). */
  readonly store: string;

  constructor(storageType: string, method: string, store: string) {
    super(`${storageType} storage ${store} is open read-only: ${method}() refused, nothing was written`, {
      code: 'READ_ONLY',
    });
    this.method = method;
    this.store = store;
  }
}

/**
 * A read-only open of a store that does not exist (no base folder, no database file or
 * `conversations` table, no schema, no layout key); nothing was created.
 */
export class StoreNotFoundError extends StorageError {
  /** The store, as shown in messages (a path, a redacted URL with its prefix or schema). */
  readonly store: string;
  /** What was missing, e.g. `no such folder`. */
  readonly reason: string;

  constructor(storageType: string, store: string, reason: string) {
    super(`${storageType} store ${store} does not exist (${reason}); nothing was created`, {
      code: 'STORE_NOT_FOUND',
    });
    this.store = store;
    this.reason = reason;
  }
}

/**
 * A read-only open of a store written by an older version of its format that cannot be read
 * without an upgrade; open it writable once to upgrade it.
 */
export class StoreNeedsUpgradeError extends StorageError {
  /** The store, as shown in messages. */
  readonly store: string;
  /** The version the store has. */
  readonly version: number;
  /** The version this library writes. */
  readonly supportedVersion: number;

  constructor(storageType: string, store: string, version: number, supportedVersion: number) {
    super(
      `${storageType} store ${store} has schema version ${version} and needs an upgrade to ` +
        `${supportedVersion}, which a read-only open does not do; open it once without readOnly to upgrade it`,
      { code: 'NEEDS_UPGRADE' },
    );
    this.store = store;
    this.version = version;
    this.supportedVersion = supportedVersion;
  }
}

/**
 * A call whose `signal` fired (before its first I/O or between two of its steps); every record
 * it wrote is complete. The signal's `reason` is the `cause`.
 */
export class OperationAbortedError extends StorageError {
  /** The public method that was aborted, e.g. `listConversations`. */
  readonly method: string;

  constructor(method: string, reason?: unknown) {
    super(`${method}() aborted${describeReason(reason)}`, { code: 'ABORTED', cause: reason });
    this.method = method;
  }
}

/** `: <message>` of an abort reason that is an Error; reading it never throws. */
function describeReason(reason: unknown): string {
  try {
    return reason instanceof Error ? `: ${String(reason.message)}` : '';
  } catch {
    return '';
  }
}

/**
 * A batch write that failed after some of its items were written (only backends that cannot
 * write a batch all or nothing, see the README's atomicity table). `appliedItems` lists the
 * indexes (into the batch) known to be written, `partlyAppliedItems` those of items made of
 * parts (`storeConversationBatch`) of which only some were written; the cause is the failure.
 */
export class BatchPartiallyAppliedError extends StorageError {
  /** The public method, e.g. `storeCacheEntries`. */
  readonly method: string;
  /** How many items the batch held. */
  readonly total: number;
  /** How many items are known to be written (`appliedItems.length`). */
  readonly applied: number;
  /** Indexes of the items known to be written, ascending (`0 .. applied - 1` for a prefix). */
  readonly appliedItems: readonly number[];
  /** Indexes of the items known to be written in part only (some of their parts), ascending. */
  readonly partlyAppliedItems: readonly number[];

  constructor(
    method: string,
    total: number,
    appliedItems: readonly number[],
    cause: unknown,
    partlyAppliedItems: readonly number[] = [],
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const partly = partlyAppliedItems.length > 0 ? ` (and ${partlyAppliedItems.length} in part)` : '';
    super(
      `${method}(): ${appliedItems.length} of ${total} item(s) written${partly} before a failure: ${reason}`,
      {
        code: 'BATCH_PARTIALLY_APPLIED',
        cause,
      },
    );
    this.method = method;
    this.total = total;
    this.applied = appliedItems.length;
    this.appliedItems = Object.freeze([...appliedItems]);
    this.partlyAppliedItems = Object.freeze([...partlyAppliedItems]);
  }
}

/** Short printable form of a rejected value, for error messages (a long string cut, see `quoteName`). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoteName(value);
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object') {
    try {
      return Array.isArray(value) ? 'array' : 'object';
    } catch {
      return 'object'; // a revoked Proxy throws even from Array.isArray
    }
  }
  // Symbols and functions: String() never calls user code on them.
  return typeof value === 'function' ? 'function' : String(value);
}
