/**
 * A list file read together with the identity of the content read, so a load can keep the
 * parsed list for the next one (see `list-cache.ts`). The identity is the descriptor's `fstat`
 * taken before reading: a change made after it (the Python reference rewrites in place) gives
 * the file another identity, so content newer than the identity is never trusted for long.
 * Two thread-pool trips (`open`, `read`); the `fstat` and `close` are made at once (`fd-io.ts`).
 * Listings read with {@link readWithIdentitySync}, every call made at once.
 */
import { type JsonValue, parseStoredJson } from '../../core/index.js';
import { type FileIdentity, identityOf } from './atomic-json.js';
import { missingOrThrow, textFromBytes } from './json-reads.js';
import { type BytesAndStat, readFileAndStat, readFileAndStatSync } from './fd-io.js';

/**
 * A file's mtime must be at least this much older than the read for its content to be kept:
 * file systems stamp times with a coarse clock (a few ms on Linux, 2 s on FAT), so a file
 * rewritten twice within one tick keeps its mtime, and its size may be the same too.
 */
export const SETTLED_AFTER_MS = 2_000;

/** A list file as read: its value, and its identity when the content may be kept. */
export interface ReadWithIdentity {
  /** The parsed JSON; `undefined` when the file does not exist. */
  value: JsonValue | undefined;
  /** The identity of what was read, or `null` when it is too recent to trust. */
  identity: FileIdentity | null;
  /** The file's text (`''` when it does not exist). */
  text: string;
}

/** Reads and parses `file` (errors as `readJsonFile`), with the identity of the content read. */
export async function readWithIdentity(file: string): Promise<ReadWithIdentity> {
  const started = Date.now();
  let read: BytesAndStat;
  try {
    read = await readFileAndStat(file);
  } catch (error) {
    return { value: missingOrThrow(file, error), identity: null, text: '' };
  }
  return parsedWithIdentity(file, read, started);
}

/** {@link readWithIdentity} with every call made at once (listings: see `fd-io.ts`). */
export function readWithIdentitySync(file: string): ReadWithIdentity {
  const started = Date.now();
  let read: BytesAndStat;
  try {
    read = readFileAndStatSync(file);
  } catch (error) {
    return { value: missingOrThrow(file, error), identity: null, text: '' };
  }
  return parsedWithIdentity(file, read, started);
}

function parsedWithIdentity(file: string, read: BytesAndStat, started: number): ReadWithIdentity {
  const settled = Number(read.stat.mtimeMs) < started - SETTLED_AFTER_MS;
  const text = textFromBytes(file, read.bytes);
  return { value: parseStoredJson(text, file), identity: settled ? identityOf(read.stat) : null, text };
}
