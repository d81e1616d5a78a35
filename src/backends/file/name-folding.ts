/**
 * How the file system under the base folder compares entry names. On macOS and Windows a
 * folder is usually case-insensitive (`Abc.json` and `abc.json` are one file) and on macOS
 * also Unicode-normalisation-insensitive (NFC and NFD `é` are one name), so names the library
 * keeps apart must stay apart after that folding. A probe at start-up finds out which rules
 * apply; everything else asks {@link FileNames}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ioError } from './atomic-json.js';
import { withDescriptorSlot } from './descriptor-budget.js';
import type { LockKindName } from './lock-kinds.js';
import { isMissing, releaseTempEntry, tempEntryName } from './temp-files.js';

/** Which names the file system treats as the same entry. */
export interface NameFolding {
  /** `Abc` and `abc` name one entry. */
  caseInsensitive: boolean;
  /** The NFC and NFD forms of a name name one entry. */
  normalizationInsensitive: boolean;
  /** A name is stored in the form it was created with (APFS), not rewritten (HFS+ stores NFD). */
  preservesNormalization: boolean;
}

/** A file system that compares names byte for byte (Linux, most servers). */
export const EXACT_NAMES: Readonly<NameFolding> = Object.freeze({
  caseInsensitive: false,
  normalizationInsensitive: false,
  preservesNormalization: true,
});

/** True when some distinct names share one entry under `folding`. */
export function foldsNames(folding: NameFolding): boolean {
  return folding.caseInsensitive || folding.normalizationInsensitive;
}

/**
 * The form two names share when the file system treats them as one entry. Case folding
 * is JavaScript's (upper then lower), which folds at least what NTFS and APFS fold: folding
 * too much only refuses an id the disk could have kept apart, folding too little would lose data.
 */
export function foldName(folding: NameFolding, name: string): string {
  let out = folding.normalizationInsensitive ? name.normalize('NFC') : name;
  if (folding.caseInsensitive) out = out.toUpperCase().toLowerCase();
  return folding.normalizationInsensitive ? out.normalize('NFC') : out;
}

/**
 * How the backend turns a folder and an entry name into a path, and learns the name an entry
 * has on disk. The real one is `path.join` plus `realpath`; tests substitute a layer that folds
 * names over a real temp folder, as a case-insensitive file system would.
 */
export interface EntryNames {
  /** Path of the entry `name` in folder `dir`. */
  pathOf(dir: string, name: string): string;
  /** The name the entry `dir/name` has on disk (it may differ by case or form), or `null` when absent. */
  nameOnDisk(dir: string, name: string, folding: NameFolding): Promise<string | null>;
}

/** The operating system's own name handling. */
export const SYSTEM_ENTRY_NAMES: EntryNames = {
  pathOf: (dir, name) => path.join(dir, name),
  async nameOnDisk(dir, name, folding) {
    let real: string;
    try {
      // The native realpath (macOS, Windows) reports the case and form the entry has on disk.
      real = await fs.promises.realpath(path.join(dir, name));
    } catch (error) {
      if (isMissing(error)) return null;
      throw ioError('look up', path.join(dir, name), error);
    }
    if (path.basename(real) === name) return name;
    // A symbolic link, or a twin: the folder listing tells which.
    const names = await fs.promises.readdir(dir).catch((error: unknown) => {
      throw ioError('list', dir, error);
    });
    if (names.includes(name)) return name;
    const folded = foldName(folding, name);
    return names.find((other) => foldName(folding, other) === folded) ?? path.basename(real);
  },
};

/**
 * Not part of the public API: the second argument of `FileStorage`'s constructor, which lets
 * tests put a case-folding file-system layer under the backend. (Not tagged internal: the
 * published constructor's declaration names it, and the build strips what is.)
 */
export interface FileStorageInternals {
  /** How entry names become paths; the operating system's own by default. */
  entryNames?: EntryNames;
  /** Which kind of cross-process lock (`lock-kinds.ts`); the platform's best by default. */
  lockKind?: LockKindName;
  /** How often an open store touches its writer mark (`writer-marks.ts`); 10 minutes by default. */
  writerMarkRefreshMs?: number;
}

/** A store's name rules: the path seam and the folding found by {@link probeNameFolding}. */
export class FileNames {
  /** Exact until the probe at start-up says otherwise. */
  folding: NameFolding = EXACT_NAMES;

  constructor(readonly entries: EntryNames = SYSTEM_ENTRY_NAMES) {}

  /** True when the file system folds names (the store is case- or normalisation-insensitive). */
  get folds(): boolean {
    return foldsNames(this.folding);
  }

  /** Path of the entry `name` in `dir`. */
  pathOf(dir: string, name: string): string {
    return this.entries.pathOf(dir, name);
  }

  /** True when `a` and `b` name the same entry on this file system. */
  sameEntry(a: string, b: string): boolean {
    return a === b || (this.folds && foldName(this.folding, a) === foldName(this.folding, b));
  }

  /**
   * The name of another entry that `dir/name` resolves to on this file system (`Conv` when
   * `conv` exists), or `null` when the entry is absent or is `name` itself. Costs no I/O when
   * the file system does not fold names.
   */
  async twinOf(dir: string, name: string): Promise<string | null> {
    if (!this.folds) return null;
    const onDisk = await this.entries.nameOnDisk(dir, name, this.folding);
    if (onDisk === null || onDisk === name) return null;
    // HFS+ stores every name in its own normalised form: a name differing only by form is this one.
    const rewritten =
      !this.folding.preservesNormalization && onDisk.normalize('NFC') === name.normalize('NFC');
    return rewritten ? null : onDisk;
  }
}

/** Mixed case and a precomposed `é`: swapping either finds the probe only on a folding file system. */
const PROBE_LABEL = 'CaseProbe\u00e9';
const CASE_SWAPPED = 'cASEpROBE\u00e9';
const DECOMPOSED = 'CaseProbee\u0301';
const ASCII_LABEL = 'CaseProbe';

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.lstat(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw ioError('look up', file, error);
  }
}

/** Creates an empty probe file named after `label`; `null` when the file system refuses the name. */
async function createProbe(dir: string, names: EntryNames, label: string): Promise<string | null> {
  const name = tempEntryName(label);
  try {
    const file = names.pathOf(dir, name);
    await withDescriptorSlot(file, () => fs.promises.writeFile(file, '', { flag: 'wx' }));
    return name;
  } catch (error) {
    releaseTempEntry(name); // no longer held: a file left half made is the sweep's
    const code = (error as NodeJS.ErrnoException).code;
    if (label !== ASCII_LABEL && (code === 'EILSEQ' || code === 'EINVAL')) return null;
    throw ioError('create probe file in', dir, error);
  }
}

/**
 * Finds out how the file system holding `dir` (the library's own `.connectome-storage/`, which
 * must exist and be writable) compares names: creates a uniquely named probe file, looks it up
 * by its case-swapped and its decomposed name, and removes it. A killed probe is an ordinary
 * temp file that start-up clean-up removes. A read-only open cannot probe: see
 * {@link assumedNameFolding}.
 */
export async function probeNameFolding(dir: string, names: EntryNames): Promise<NameFolding> {
  let label = PROBE_LABEL;
  let name = await createProbe(dir, names, label);
  if (name === null) {
    // A file system that refuses non-ASCII names cannot normalise them either.
    label = ASCII_LABEL;
    name = (await createProbe(dir, names, label)) as string;
  }
  const probe = names.pathOf(dir, name);
  try {
    const swapped = label === ASCII_LABEL ? 'cASEpROBE' : CASE_SWAPPED;
    const caseInsensitive = await exists(names.pathOf(dir, name.replace(label, swapped)));
    const normalizationInsensitive =
      label !== ASCII_LABEL && (await exists(names.pathOf(dir, name.replace(label, DECOMPOSED))));
    const preservesNormalization =
      !normalizationInsensitive || (await names.nameOnDisk(dir, name, EXACT_NAMES)) === name;
    return { caseInsensitive, normalizationInsensitive, preservesNormalization };
  } finally {
    await fs.promises.unlink(probe).catch(() => undefined);
    releaseTempEntry(name);
  }
}

/**
 * The folding to assume where no probe file can be written (a read-only open): folding on
 * macOS and Windows, whose default file systems fold, exact elsewhere. Assuming folding on a
 * case-sensitive volume only costs a name lookup per conversation/agent access, because a twin
 * is recognised by the name actually found on disk.
 */
export function assumedNameFolding(platform: NodeJS.Platform = process.platform): NameFolding {
  if (platform === 'darwin') {
    return { caseInsensitive: true, normalizationInsensitive: true, preservesNormalization: true };
  }
  if (platform === 'win32') return { ...EXACT_NAMES, caseInsensitive: true };
  return EXACT_NAMES;
}
