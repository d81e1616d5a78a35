/**
 * `mkdir -p` for the embedded backends, with the real error. Node's asynchronous recursive
 * `mkdir` reports ENOENT when a folder cannot be made for lack of space or inodes (Node 20;
 * its synchronous one reports ENOSPC), so a full disk read as a missing folder.
 */
import fs from 'node:fs';

/** Creates `dir` and its missing parents; resolves with the first folder created (`undefined`: none). */
export async function makeDirs(dir: string): Promise<string | undefined> {
  try {
    return await fs.promises.mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Once more, synchronously (only after a failure): it throws the real error, or succeeds
    // if a parent that was missing for a moment is back.
    return fs.mkdirSync(dir, { recursive: true });
  }
}
