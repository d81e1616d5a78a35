/**
 * The open-time refusal of a writable store inside another store's data folders: a `baseDir`
 * under `<outer>/conversations`, `agents`, `cache`, `system` or `.connectome-storage`, where
 * `<outer>` holds `.connectome-storage` (a store this library has opened writable; a
 * `FileVectorStore` makes one too). Such a store shares its files with the outer one: the outer
 * store's writes to an id land in its root, its deletes and crash clean-up remove its files, its
 * stats count them. Only the ancestors of the
 * folder are looked at (one `lstat` each); the reverse, a store already inside this one's data
 * folders, would cost a walk of every data folder and is documented instead (README).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/index.js';
import { DATA_DIRS, INTERNAL_DIR } from './layout.js';
import { isMissing } from './temp-files.js';

/** The folders of a store that belong to it alone: a store inside one of them is nested. */
const STORE_FOLDERS: ReadonlySet<string> = new Set([...DATA_DIRS, INTERNAL_DIR]);

/**
 * Throws a `ConfigError` naming both folders when `baseDir` (absolute) lies inside a data folder
 * of another store; touches nothing. Symbolic links on the way are followed (the real location
 * is what the two stores share); a folder that cannot be looked at counts as no store.
 */
export async function assertNotInsideStore(baseDir: string): Promise<void> {
  const real = await realLocation(baseDir);
  // `child` is always the entry of `outer` on the way down to `real`.
  for (
    let child = real, outer = path.dirname(real);
    outer !== child;
    child = outer, outer = path.dirname(outer)
  ) {
    const folder = path.basename(child);
    if (STORE_FOLDERS.has(folder) && holdsStoreFolder(outer)) {
      throw nestedStoreError(baseDir, real, outer, folder);
    }
  }
}

/**
 * The real path of `dir`: its longest existing part through `realpath` (links resolved; the
 * native call also reports the case an entry has on disk), the missing rest appended as given.
 */
async function realLocation(dir: string): Promise<string> {
  try {
    return await fs.promises.realpath(dir);
  } catch (error) {
    const parent = path.dirname(dir);
    // Not there yet (a writable open creates it), or not resolvable (left to the open to report).
    if (!isMissing(error) || parent === dir) return dir;
    return path.join(await realLocation(parent), path.basename(dir));
  }
}

/** True when `dir` holds this library's internal folder, as a store's `baseDir` does. */
function holdsStoreFolder(dir: string): boolean {
  // A look-up the kernel answers from memory: made at once, not on the thread pool (see README).
  try {
    return fs.lstatSync(path.join(dir, INTERNAL_DIR), { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false; // cannot be looked at (EACCES): nothing known of a store there
  }
}

/** The refusal, naming the folder asked for (and its real path when a link led there) and the outer store. */
function nestedStoreError(baseDir: string, real: string, outer: string, folder: string): ConfigError {
  const shown = real === baseDir ? baseDir : `${baseDir} (really ${real})`;
  return new ConfigError(
    `Cannot open the file store at ${shown}: it lies inside ${path.join(outer, folder)}, a data folder ` +
      `of the store at ${outer} (it holds ${INTERNAL_DIR}), whose writes, deletes and stats would take ` +
      `this store's files as its own; nothing was created. Give this store a folder outside that ` +
      `store's data folders (beside it, or in another folder of ${outer}), or open it readOnly to copy its data out`,
    'baseDir',
  );
}
