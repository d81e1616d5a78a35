/**
 * A list file read together with the identity of the content read, so a load can keep the
 * parsed list for the next one (see `list-cache.ts`). The identity is taken before and after
 * reading through the same descriptor: a file changed in place meanwhile (the Python reference
 * rewrites in place) shows two different ones, and its content is not kept.
 */
import fs from 'node:fs';
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
  /** The identity of what was read, or `null` when it changed meanwhile or is too recent to trust. */
  identity: FileIdentity | null;
}

/** Reads and parses `file` (errors as `readJsonFile`), with the identity of the content read. */
export async function readWithIdentity(file: string): Promise<ReadWithIdentity> {
  const started = Date.now();
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    return { value: missingOrThrow(file, error), identity: null };
  }
  let bytes: Buffer;
  let identity: FileIdentity | null = null;
  try {
    const before = await handle.stat({ bigint: true });
    bytes = await handle.readFile();
    const after = await handle.stat({ bigint: true });
    const settled = Number(after.mtimeMs) < started - SETTLED_AFTER_MS;
    if (settled && identityOf(before) === identityOf(after)) identity = identityOf(after);
  } catch (error) {
    return { value: missingOrThrow(file, error), identity: null };
  } finally {
    await handle.close();
  }
  return { value: jsonFromBytes(file, bytes), identity };
}
