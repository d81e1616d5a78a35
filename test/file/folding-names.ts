/**
 * A fake case-folding file system for tests (CI cannot mount one): every entry name the file
 * backend turns into a path is looked up in the real temp folder by its folded form, so `Abc`
 * reaches an existing `abc` exactly as on macOS or Windows, while new entries keep their case.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { EntryNames } from '../../src/backends/file/name-folding.js';

/** What the fake file system ignores when it compares names. */
export interface FakeFolding {
  /** `Abc` and `abc` are one entry (NTFS, APFS, HFS+). */
  caseInsensitive: boolean;
  /** NFC and NFD forms are one entry (APFS, which stores the form given). */
  normalizationInsensitive: boolean;
}

/** An {@link EntryNames} layer folding names as `fake` says, over the real folders. */
export function foldingEntryNames(fake: FakeFolding): EntryNames {
  const fold = (name: string): string => {
    const formed = fake.normalizationInsensitive ? name.normalize('NFC') : name;
    return fake.caseInsensitive ? formed.toLowerCase() : formed;
  };
  const pathOf = (dir: string, name: string): string => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return path.join(dir, name);
    }
    if (names.includes(name)) return path.join(dir, name);
    const existing = names.find((other) => fold(other) === fold(name));
    return path.join(dir, existing ?? name);
  };
  return {
    pathOf,
    async nameOnDisk(dir, name) {
      const resolved = pathOf(dir, name);
      return fs.existsSync(resolved) ? path.basename(resolved) : null;
    },
  };
}

/** macOS's APFS: ignores case and normalisation, keeps the form a name was created with. */
export const APFS_LIKE: FakeFolding = { caseInsensitive: true, normalizationInsensitive: true };
/** Windows' NTFS: ignores case only. */
export const NTFS_LIKE: FakeFolding = { caseInsensitive: true, normalizationInsensitive: false };
