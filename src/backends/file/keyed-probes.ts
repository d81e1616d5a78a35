/**
 * A look at one file of a keyed folder (`keyed-files.ts`): its entry, a file that does not
 * parse, or none. A missing file (the usual case: a new key, an unused name) costs no read.
 */
import type { JsonValue } from '../../core/index.js';
import { readParsedFile, readParsedFileSync } from './json-reads.js';
import { corruptOrThrow, type ListedFile } from './kept-entries.js';
import { existsNow, existsSoon } from './metadata-now.js';

/** Checks a parsed file and says whose it is; throws `CorruptDataError` for a wrong shape. */
type Parse<T> = (file: string, value: JsonValue) => T;

const found = <T>(entry: T | null): ListedFile<T> =>
  entry === null ? { state: 'missing' } : { state: 'ok', entry };

/** `file`'s entry; `lookup`: whether its existence is checked at once or through the pool (`existsSoon`). */
export async function probeKeyedFile<T>(
  file: string,
  parse: Parse<T>,
  lookup: 'now' | 'pool' = 'now',
): Promise<ListedFile<T>> {
  const exists = lookup === 'now' ? existsNow(file, true) : await existsSoon(file, true);
  if (!exists) return { state: 'missing' };
  try {
    return found(await readParsedFile(file, parse));
  } catch (error) {
    return corruptOrThrow(error);
  }
}

/** {@link probeKeyedFile} with a synchronous read (batches of page-cached files). */
export function probeKeyedFileNow<T>(file: string, parse: Parse<T>): ListedFile<T> {
  if (!existsNow(file, true)) return { state: 'missing' };
  try {
    return found(readParsedFileSync(file, parse));
  } catch (error) {
    return corruptOrThrow(error);
  }
}
