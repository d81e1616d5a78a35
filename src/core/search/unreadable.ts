/**
 * What a search does with a stored record that does not parse (the query's `unreadable`):
 * `'fail'` (the default) rejects with its `CorruptDataError`, so an error is never swallowed;
 * `'skip'` leaves the record out of the hits, as if it were not stored, and the store logs one
 * `warn` event per record left out, so one bad record does not block all recall.
 */
import { CorruptDataError } from '../errors.js';
import { logEvent, type StorageLogger } from '../logger.js';
import { quoteName } from '../shown-text.js';
import type { SearchKind } from './query.js';

/** The `unreadable` option of a search. */
export type UnreadablePolicy = 'fail' | 'skip';

/** A record (or a whole list of an owner, where it is read as one) a search left out. */
export interface SkippedRecord {
  kind: SearchKind;
  /** Its conversation or agent id. */
  owner: string;
  /** Its message index, memory id or chain sequence; absent when the owner's whole list was left out. */
  record?: string | number;
  /** Where the bad data lives (the `CorruptDataError`'s location: a path, row or key). */
  location: string;
  /** Why it does not parse. */
  reason: string;
}

/** The records one search left out, each once (several reads of one record name it once). */
export class SkippedRecords {
  private readonly byKey = new Map<string, SkippedRecord>();

  /** How many distinct records (or lists) were left out so far. */
  get size(): number {
    return this.byKey.size;
  }

  /** Notes one record left out (again: no change). */
  add(skipped: SkippedRecord): void {
    const key = `${skipped.kind}\u0000${skipped.owner}\u0000${skipped.record ?? ''}`;
    if (!this.byKey.has(key)) this.byKey.set(key, skipped);
  }

  /** The records left out, in the order first met. */
  list(): SkippedRecord[] {
    return [...this.byKey.values()];
  }
}

/**
 * Where a search meets a record that does not parse: rethrows `error` unless the search skips
 * unreadable records (`skipped` is not `null`) and `error` is a `CorruptDataError`; then notes
 * the record and returns, and the caller goes on as if the record were not stored.
 */
export function skipUnreadable(
  skipped: SkippedRecords | null,
  error: unknown,
  kind: SearchKind,
  owner: string,
  record?: string | number,
): void {
  if (skipped === null || !(error instanceof CorruptDataError)) throw error;
  const reason = error.message;
  skipped.add({ kind, owner, ...(record === undefined ? {} : { record }), location: error.location, reason });
}

/** Logs each record a search left out as one `warn` event (nothing when none, or without `skipped`). */
export function logSkipped(logger: StorageLogger | undefined, skipped: SkippedRecords | null): void {
  if (skipped === null) return;
  for (const { kind, owner, record, location, reason } of skipped.list()) {
    const which = record === undefined ? '' : ` (${typeof record === 'string' ? quoteName(record) : record})`;
    logEvent(
      logger,
      'warn',
      `search: left out ${kind} of ${quoteName(owner)}${which} that do not parse (unreadable: 'skip')`,
      { kind, owner, ...(record === undefined ? {} : { record }), location, reason },
    );
  }
}
