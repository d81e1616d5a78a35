/**
 * JSON files written the way the reference formats them, but atomically and durably (D10):
 * temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import fse from 'fs-extra';
import { CorruptDataError, type JsonValue, StorageError } from '../../core/index.js';
import { isMissing, tempEntryName } from './temp-files.js';

/**
 * JSON text as the reference's `json.dump(..., ensure_ascii=False)` writes it: 2-space indent
 * when pretty, otherwise Python's default `", "` / `": "` separators; no trailing newline;
 * non-ASCII as is.
 */
export function formatJson(value: JsonValue, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 2) : compactJson(value);
}

function compactJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const parts = Object.keys(value).map(
      (key) => `${JSON.stringify(key)}: ${compactJson(value[key] as JsonValue)}`,
    );
    return `{${parts.join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Wraps an I/O failure in a {@link StorageError} naming the path. */
export function ioError(action: string, file: string, cause: unknown): StorageError {
  if (cause instanceof StorageError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new StorageError(`Cannot ${action} ${file}: ${reason}`, { cause });
}

/**
 * Fsyncs a folder so a rename or a new entry in it survives a crash. Platforms that cannot
 * open folders (Windows) skip it.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fse.promises.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw error;
  } finally {
    await handle?.close();
  }
}

/** Creates `dir` (and parents) if needed, fsyncing each parent that gained an entry. */
export async function ensureDirDurable(dir: string): Promise<void> {
  const first = await fse.promises.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // Every folder from the first created one down to `dir` is new: fsync each one's parent.
  for (let current = dir; ; current = path.dirname(current)) {
    await fsyncDir(path.dirname(current));
    if (current === first || path.dirname(current) === current) break;
  }
}

/**
 * Replaces `file` with `value` atomically and durably: a reader sees the old or the new
 * content, never a mix, and the new content survives a crash once this resolves. The parent
 * folder must exist.
 */
export async function atomicWriteJson(file: string, value: JsonValue, pretty: boolean): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, tempEntryName(path.basename(file)));
  try {
    const handle = await fse.promises.open(temp, 'wx');
    try {
      await handle.writeFile(formatJson(value, pretty), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fse.promises.rename(temp, file);
  } catch (error) {
    await fse.promises.unlink(temp).catch(() => undefined);
    throw ioError('write', file, error);
  }
  try {
    await fsyncDir(dir);
  } catch (error) {
    throw ioError('sync folder of', file, error);
  }
}

/**
 * Reads and parses a JSON file; `undefined` when it does not exist. A file that does not
 * parse throws {@link CorruptDataError} naming the path.
 */
export async function readJsonFile(file: string): Promise<JsonValue | undefined> {
  let text: string;
  try {
    text = await fse.promises.readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    // A folder where a data file belongs is bad data, not an I/O failure of the whole store.
    if ((error as NodeJS.ErrnoException).code === 'EISDIR')
      throw new CorruptDataError(file, 'is a folder', error);
    throw ioError('read', file, error);
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CorruptDataError(file, `not valid JSON (${reason})`, error);
  }
}

/** Reads `file` and checks it with `parse`; `null` when the file does not exist. */
export async function readParsedFile<T>(
  file: string,
  parse: (file: string, value: JsonValue) => T,
): Promise<T | null> {
  const value = await readJsonFile(file);
  return value === undefined ? null : parse(file, value);
}
