/**
 * A list file read together with the identity of the content read, so a load can keep the
 * parsed list for the next one (see `list-cache.ts`). The identity is the descriptor's `fstat`
 * taken before reading: a change made after it (the Python reference rewrites in place) gives
 * the file another identity, so content newer than the identity is never trusted for long.
 * Callback calls, as `readFile` makes them: one open, `fstat`, read and close, no more.
 */
import fs, { type BigIntStats } from 'node:fs';
import type { JsonValue } from '../../core/index.js';
import { type FileIdentity, identityOf, jsonFromBytes, missingOrThrow } from './atomic-json.js';

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
}

/** Reads and parses `file` (errors as `readJsonFile`), with the identity of the content read. */
export async function readWithIdentity(file: string): Promise<ReadWithIdentity> {
  const started = Date.now();
  let read: { bytes: Buffer; stat: BigIntStats };
  try {
    read = await readBytesAndStat(file);
  } catch (error) {
    return { value: missingOrThrow(file, error), identity: null };
  }
  const settled = Number(read.stat.mtimeMs) < started - SETTLED_AFTER_MS;
  return { value: jsonFromBytes(file, read.bytes), identity: settled ? identityOf(read.stat) : null };
}

/** The bytes of `file` and the `fstat` of its descriptor taken before reading them. */
function readBytesAndStat(file: string): Promise<{ bytes: Buffer; stat: BigIntStats }> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      const finish = (error: Error | null, result?: { bytes: Buffer; stat: BigIntStats }) =>
        fs.close(fd, () => (error || result === undefined ? reject(error) : resolve(result)));
      fs.fstat(fd, { bigint: true }, (statError, stat) => {
        if (statError) return finish(statError);
        readAll(fd, Number(stat.size), (readError, bytes) =>
          readError || bytes === undefined ? finish(readError) : finish(null, { bytes, stat }),
        );
      });
    });
  });
}

/**
 * Reads the `size` bytes `fstat` reported, as `readFile` does (no extra read to find the end):
 * fewer if the file shrank meanwhile; content past them (a file grown meanwhile) gives the file
 * another identity anyway.
 */
function readAll(fd: number, size: number, done: (error: Error | null, bytes?: Buffer) => void): void {
  const buffer = Buffer.allocUnsafe(size);
  const next = (offset: number): void => {
    if (offset === size) return done(null, buffer);
    fs.read(fd, buffer, offset, size - offset, offset, (error, bytesRead) => {
      if (error) return done(error);
      if (bytesRead === 0) return done(null, buffer.subarray(0, offset));
      next(offset + bytesRead);
    });
  };
  next(0);
}
