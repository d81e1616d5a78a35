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
  /** The record's kind, e.g. `memories`. */
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

/**
 * Where a list read made for a search with `unreadable: 'skip'` passes each item that does not
 * parse: its error, its id (message index, memory id or chain sequence) and its position in the
 * list read. The read leaves the item out and goes on with the next (a read without one throws
 * for the whole list, as a load does). It rethrows an error that is not a `CorruptDataError`.
 */
export type SkipItem = (error: unknown, record: string | number, position: number) => void;

/**
 * `parse` of each row, in order. With `skip`, a row whose parse throws is passed to it (with
 * `recordOf`'s id: by default its position) and left out; without, the first such error is
 * thrown (the list fails whole).
 */
export function parseEach<R, T>(
  rows: readonly R[],
  skip: SkipItem | undefined,
  parse: (row: R, position: number) => T,
  recordOf: (row: R, position: number) => string | number = (_, position) => position,
): T[] {
  if (skip === undefined) return rows.map(parse);
  const items: T[] = [];
  rows.forEach((row, position) => {
    try {
      items.push(parse(row, position));
    } catch (error) {
      skip(error, recordOf(row, position), position);
    }
  });
  return items;
}

/** An owner's list as a search read it. */
export interface OwnerList<T> {
  /** The items read, in stored order, without those left out. */
  items: T[];
  /** The stored position of each item (`items[i]` was at `positions[i]`); `null` when none was left out. */
  positions: number[] | null;
}

/**
 * One owner's list of `kind` as a search reads it: `read()` when the search fails on
 * unreadable records (`skipped` is `null`). Else `read(skip)`: a backend that parses the items
 * apart leaves out the bad ones alone (noted with their ids); a read that throws instead (a
 * list stored as one document: the file backend's files, a backend that ignores `skip`) leaves
 * out the owner's whole list, noted without a record. Raw messages and chains are numbered by
 * their positions, which count the items left out: `positions` keeps them.
 */
export async function readOwnerList<T>(
  skipped: SkippedRecords | null,
  kind: SearchKind,
  owner: string,
  read: (skip?: SkipItem) => Promise<T[] | null>,
): Promise<OwnerList<T>> {
  if (skipped === null) return { items: (await read()) ?? [], positions: null };
  const left = new Set<number>();
  try {
    const items =
      (await read((error, record, position) => {
        skipUnreadable(skipped, error, kind, owner, record);
        left.add(position);
      })) ?? [];
    if (left.size === 0) return { items, positions: null };
    const positions: number[] = [];
    for (let p = 0; positions.length < items.length; p += 1) if (!left.has(p)) positions.push(p);
    return { items, positions };
  } catch (error) {
    skipUnreadable(skipped, error, kind, owner);
    return { items: [], positions: null };
  }
}
