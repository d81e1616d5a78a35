/**
 * `mkdir -p` for the embedded backends, with the real error. Node's asynchronous recursive
 * `mkdir` reports ENOENT when a folder cannot be made for lack of space or inodes (Node 20;
 * its synchronous one reports ENOSPC), so a full disk read as a missing folder; and EEXIST
 * ("file already exists") when `dir` itself is a file, where a file further up gives ENOTDIR.
 */
import fs from 'node:fs';

/** Creates `dir` and its missing parents; resolves with the first folder created (`undefined`: none). */
export async function makeDirs(dir: string): Promise<string | undefined> {
  try {
    return await fs.promises.mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw notADirectory(dir, error);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // Once more, synchronously (only after a failure): it throws the real error, or succeeds
    // if a parent that was missing for a moment is back.
    return fs.mkdirSync(dir, { recursive: true });
  }
}

/**
 * The error of a recursive `mkdir` of a path that is a file (EEXIST), in the words Node uses for
 * a file further up the path (ENOTDIR), so that a SQLite `dbPath` under a file did not read
 * "file already exists" (until 2026-12-06).
 */
function notADirectory(dir: string, cause: unknown): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`, { cause }), {
    code: 'ENOTDIR',
    syscall: 'mkdir',
    path: dir,
  });
}
