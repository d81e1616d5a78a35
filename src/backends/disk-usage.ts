/**
 * The `disk_usage` health detail of the embedded backends: the space of the file system holding
 * a store, as the Python reference's file backend reports it.
 */
import { statfs } from 'node:fs/promises';
import type { JsonValue } from '../core/index.js';
import { ioReason } from './io-reason.js';

/** Total, used and free bytes of the file system holding `dir`, or `{ error }` when it cannot be read. */
export async function diskUsage(dir: string): Promise<JsonValue> {
  try {
    const s = await statfs(dir);
    return {
      total_bytes: s.blocks * s.bsize,
      used_bytes: (s.blocks - s.bfree) * s.bsize,
      free_bytes: s.bavail * s.bsize,
    };
  } catch (error) {
    // The folder is in the report already (`base_directory`, `database_path`): the reason only.
    return { error: ioReason(error) };
  }
}
