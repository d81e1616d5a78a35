/**
 * Naming a full disk in SQLite's errors: SQLite reports some of its failures on a full file
 * system (no free inode, no byte to grow the WAL index) as CANTOPEN or IOERR, which read as
 * a missing or broken database.
 */
import { statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** What is used up on the file system of `dbPath` (no free inode or byte), or `null`. */
function fileSystemFull(dbPath: string): string | null {
  if (dbPath === ':memory:') return null;
  try {
    const s = statfsSync(dirname(resolve(dbPath)));
    // File systems that make inodes on demand (btrfs) report 0 of 0: not a lack of them.
    if (s.files > 0 && s.ffree === 0) return 'no free inode on its file system';
    if (s.bavail === 0) return 'no free space on its file system';
  } catch {
    // Cannot tell: the driver's own error stands.
  }
  return null;
}

/**
 * `reason` with the full disk named first when SQLite's error is one a full disk gives without
 * saying so: CANTOPEN (no inode for a journal, a WAL or its index) and IOERR (no room to grow
 * the WAL index when a connection starts).
 */
export function withFullDisk(reason: string, error: unknown, dbPath: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_CANTOPEN' && code !== 'SQLITE_IOERR') return reason;
  const full = fileSystemFull(dbPath);
  return full === null ? reason : `${full} (ENOSPC), so SQLite cannot create or grow its files: ${reason}`;
}
