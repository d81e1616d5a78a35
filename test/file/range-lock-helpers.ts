/** Range-lock helpers of the file-backend tests (apart, so a test can mock fs-native-extensions away). */
import fs from 'node:fs';
import path from 'node:path';
import fne from 'fs-native-extensions';
import { RANGE_LOCK_FILE } from '../../src/backends/file/lock-kinds.js';

/**
 * Holds every range lock of the store at `baseDir` from a descriptor of its own (as another
 * process would) until the returned function is called.
 */
export function holdAllRangeLocks(baseDir: string): () => void {
  const file = path.join(baseDir, '.connectome-storage', 'locks', RANGE_LOCK_FILE);
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  // Length 0: from offset 0 to the end of any file, i.e. every lock's byte.
  if (!fne.tryLock(fd, 0, 0)) {
    fs.closeSync(fd);
    throw new Error(`a range lock of ${file} is already held`);
  }
  return () => fs.closeSync(fd); // closing frees the locks
}
