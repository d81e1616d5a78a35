/**
 * JSON data files read back: strictly decoded (damaged bytes are reported, not replaced), a
 * missing file is `undefined`, any other failure a typed error naming the path.
 */
import { CorruptDataError, type JsonValue, MAX_JSON_BYTES, parseStoredJson } from '../../core/index.js';
import { ioError } from './durable-dirs.js';
import { readFileAndStat, readFileAndStatSync } from './fd-io.js';
import { isMissing } from './temp-files.js';

/** Reads a file's bytes: two thread-pool trips (`open`, `read`), see `fd-io.ts`. */
async function readBytes(file: string): Promise<Buffer> {
  return (await readFileAndStat(file)).bytes;
}

/**
 * Strict UTF-8: a lenient decode would turn damaged bytes into U+FFFD, and the next
 * read-modify-write would store the damage for good instead of reporting the file.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a JSON file; `undefined` when it does not exist. A file that does not
 * parse throws {@link CorruptDataError} naming the path.
 */
export async function readJsonFile(file: string): Promise<JsonValue | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readBytes(file);
  } catch (error) {
    return missingOrThrow(file, error);
  }
  return jsonFromBytes(file, bytes);
}

/**
 * {@link readJsonFile}, synchronously (for batched reads of page-cached files). Read as
 * `readFileSync` would (open, fstat, read, close), but a FIFO fails at once instead of
 * blocking the event loop in `open` (see `fd-io.ts`).
 */
export function readJsonFileSync(file: string): JsonValue | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileAndStatSync(file).bytes;
  } catch (error) {
    return missingOrThrow(file, error);
  }
  return jsonFromBytes(file, bytes);
}

/** A failed read of `file`: `undefined` when it does not exist, otherwise the typed error thrown. */
export function missingOrThrow(file: string, error: unknown): undefined {
  if (isMissing(error)) return undefined;
  // A folder where a data file belongs is bad data, not an I/O failure of the whole store.
  if ((error as NodeJS.ErrnoException).code === 'EISDIR')
    throw new CorruptDataError(file, 'is a folder', error);
  throw ioError('read', file, error);
}

/** The JSON value in `bytes`, read from `file`; not UTF-8 or not JSON is a {@link CorruptDataError}. */
export function jsonFromBytes(file: string, bytes: Buffer): JsonValue {
  return parseStoredJson(textFromBytes(file, bytes), file);
}

/**
 * The text of `bytes`, read from `file`; not UTF-8, or too long for one string, is a
 * {@link CorruptDataError}.
 */
export function textFromBytes(file: string, bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch (error) {
    // Until 2026-12-06 a file past what one string holds (written before MAX_JSON_BYTES bounded
    // list files, or by another program) was called "not valid UTF-8", which it may well be.
    if ((error as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG') {
      throw new CorruptDataError(
        file,
        `is ${bytes.length} bytes, too large to read (its text is longer than one JavaScript string ` +
          `can be; this library writes at most ${MAX_JSON_BYTES} bytes, MAX_JSON_BYTES, to a list file)`,
        error,
      );
    }
    throw new CorruptDataError(file, 'not valid UTF-8', error);
  }
}

/** {@link readParsedFile}, synchronously (for batched reads of page-cached files). */
export function readParsedFileSync<T>(file: string, parse: (file: string, value: JsonValue) => T): T | null {
  const value = readJsonFileSync(file);
  return value === undefined ? null : parse(file, value);
}

/** Reads `file` and checks it with `parse`; `null` when the file does not exist. */
export async function readParsedFile<T>(
  file: string,
  parse: (file: string, value: JsonValue) => T,
): Promise<T | null> {
  const value = await readJsonFile(file);
  return value === undefined ? null : parse(file, value);
}
