/**
 * Where everything lives under the base folder (the reference's layout), and the D3 rule that maps a cache
 * or system-state key to a file name without two keys ever sharing a file.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { StorageError } from '../../core/index.js';
import { FileNames } from './name-folding.js';
import { quoteName } from '../../core/shown-text.js';

/** File names inside `conversations/{id}/`. */
export const CONVERSATION_FILES = {
  conversation: 'current.json',
  rawMessages: 'raw_messages.json',
  memories: 'memories.json',
  chunks: 'chunks.json',
} as const;

/** Which per-conversation file: conversation, raw messages, memories or chunk info. */
export type ConversationFileKind = keyof typeof CONVERSATION_FILES;

/** File name inside `agents/{id}/`. */
export const CHAINS_FILE = 'reasoning_chains.json';

/** The reference's top-level data folders (also the keys of `directory_sizes` in stats). */
export const DATA_DIRS = ['conversations', 'agents', 'cache', 'system'] as const;

/** Folder of this library's own bookkeeping (locks, trash); the reference never looks inside. */
export const INTERNAL_DIR = '.connectome-storage';

/** Longest file stem (in bytes) a key may use as it is; longer ones get a hashed name. */
const MAX_PLAIN_STEM_BYTES = 200;
/** Longest file name (in bytes) file systems take. */
const MAX_NAME_BYTES = 255;
/** Bytes of the sanitized key kept in front of the hash in a hashed name. */
const HASHED_PREFIX_BYTES = 180;

const PLAIN_KEY = /^[A-Za-z0-9._-]+$/;
const PLAIN_CHAR = /^[A-Za-z0-9._-]$/;

/** Absolute paths of a store's folders and files. Ids must already be validated (no separators). */
export class StoreLayout {
  /** Absolute base folder. */
  readonly baseDir: string;
  /** `conversations/` */
  readonly conversationsDir: string;
  /** `agents/` */
  readonly agentsDir: string;
  /** `cache/` */
  readonly cacheDir: string;
  /** `system/` */
  readonly systemDir: string;
  /** Cross-process lock folders. */
  readonly locksDir: string;
  /** Where deleted conversations are moved before they are removed. */
  readonly trashDir: string;
  /** `.connectome-storage/`, this library's own folder (locks, trash, the start-up name probe). */
  readonly internalDir: string;
  /**
   * The data folders this library never removes or replaces while the store is open: a write's
   * fsync of one of them may be shared with concurrent writes (see `folder-sync.ts`).
   */
  readonly fixedDirs: ReadonlySet<string>;

  /**
   * @param baseDir the store's root folder.
   * @param names how entry names become paths (the store's name rules).
   */
  constructor(
    baseDir: string,
    readonly names: FileNames = new FileNames(),
  ) {
    this.baseDir = path.resolve(baseDir);
    this.internalDir = path.join(this.baseDir, INTERNAL_DIR);
    this.conversationsDir = path.join(this.baseDir, 'conversations');
    this.agentsDir = path.join(this.baseDir, 'agents');
    this.cacheDir = path.join(this.baseDir, 'cache');
    this.systemDir = path.join(this.baseDir, 'system');
    this.locksDir = path.join(this.baseDir, INTERNAL_DIR, 'locks');
    this.trashDir = path.join(this.baseDir, INTERNAL_DIR, 'trash');
    this.fixedDirs = new Set([this.conversationsDir, this.agentsDir, this.cacheDir, this.systemDir]);
  }

  /** Folders created at start-up. */
  get requiredDirs(): string[] {
    return [
      this.conversationsDir,
      this.agentsDir,
      this.cacheDir,
      this.systemDir,
      this.internalDir,
      this.locksDir,
      this.trashDir,
    ];
  }

  /** `conversations/{id}` (the reference uses the id as it is). */
  conversationDir(conversationId: string): string {
    return childOf(this.names, this.conversationsDir, conversationId);
  }

  /** One of the files of a conversation. */
  conversationFile(conversationId: string, kind: ConversationFileKind): string {
    return path.join(this.conversationDir(conversationId), CONVERSATION_FILES[kind]);
  }

  /** `agents/{id}` */
  agentDir(agentId: string): string {
    return childOf(this.names, this.agentsDir, agentId);
  }

  /** `agents/{id}/reasoning_chains.json` */
  chainsFile(agentId: string): string {
    return path.join(this.agentDir(agentId), CHAINS_FILE);
  }
}

/** `parent/name`, refusing any name that would land elsewhere (defence in depth after id validation). */
function childOf(names: FileNames, parent: string, name: string): string {
  const full = path.join(parent, name);
  if (path.dirname(full) !== parent || path.basename(full) !== name) {
    throw new StorageError(`Id ${quoteName(name)} does not map to a folder inside ${parent}`);
  }
  return names.pathOf(parent, name);
}

/** The reference's file stem for a key: each code point outside `[A-Za-z0-9._-]` becomes `_`. */
export function sanitizeKey(key: string): string {
  if (PLAIN_KEY.test(key)) return key;
  let out = '';
  for (const ch of key) out += PLAIN_CHAR.test(ch) ? ch : '_';
  return out;
}

/** True when a key owns `{key}.json` outright: only `[A-Za-z0-9._-]`, at most 200 bytes. */
export function isPlainKey(key: string): boolean {
  return key.length <= MAX_PLAIN_STEM_BYTES && PLAIN_KEY.test(key);
}

/** `{first 180 bytes of sanitized}~{first 16 hex of sha256(key)}.json`: a name only this key uses. */
export function hashedKeyFileName(key: string): string {
  const digest = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  // The sanitized key is ASCII, so characters are bytes.
  return `${sanitizeKey(key).slice(0, HASHED_PREFIX_BYTES)}~${digest}.json`;
}

/**
 * The name the reference would use (`{sanitized}.json`), or `null` when the sanitized key is
 * too long to be used as it is.
 */
export function sanitizedKeyFileName(key: string): string | null {
  const stem = sanitizeKey(key);
  return stem.length <= MAX_PLAIN_STEM_BYTES ? `${stem}.json` : null;
}

/**
 * The name the reference gives a key whose sanitized name is too long for this library to use
 * as it is (`{sanitized}.json` up to 255 bytes), or `null` for other keys. Never written here:
 * read, and replaced by the hashed name on the key's next write (one key, one file).
 */
export function legacyKeyFileName(key: string): string | null {
  const stem = sanitizeKey(key);
  return stem.length > MAX_PLAIN_STEM_BYTES && stem.length <= MAX_NAME_BYTES - 5 ? `${stem}.json` : null;
}

/** Every file name a key's entry may have, in the order reads try them. */
export function candidateKeyFileNames(key: string): string[] {
  const sanitized = sanitizedKeyFileName(key);
  const hashed = hashedKeyFileName(key);
  if (sanitized !== null) return [sanitized, hashed];
  const legacy = legacyKeyFileName(key);
  return legacy === null ? [hashed] : [hashed, legacy];
}

/**
 * Position of `name` in {@link candidateKeyFileNames}`(key)`, or -1 when `key` never uses it;
 * hashes only for a name with a `~` (listing calls this for every file).
 * `sameEntry` compares names as the file system does (a case-insensitive one folds them).
 */
export function candidateRank(
  key: string,
  name: string,
  sameEntry: (a: string, b: string) => boolean = (a, b) => a === b,
): number {
  const sanitized = sanitizedKeyFileName(key);
  if (sanitized !== null && sameEntry(name, sanitized)) return 0;
  // Sanitized names have no `~`, hashed names always do.
  if (name.includes('~')) return sameEntry(name, hashedKeyFileName(key)) ? (sanitized === null ? 0 : 1) : -1;
  const legacy = sanitized === null ? legacyKeyFileName(key) : null;
  return legacy !== null && sameEntry(name, legacy) ? 1 : -1;
}

/**
 * Name of the lock that serialises writes to every file a key may touch: all keys with the
 * same sanitized name share it (case-folded, for case-insensitive file systems).
 */
export function keyLockName(kind: string, key: string): string {
  // The lock's identity, hashed into the lock file: whole, never cut as a message would cut it
  // (a process of an earlier version takes the lock by the whole name).
  return `${kind} file ${JSON.stringify(sanitizeKey(key).toLowerCase())}`;
}

/**
 * Name of the lock of a conversation's or an agent's folder. Ids are used as folder names as
 * they are, and case-insensitive or Unicode-normalising file systems (macOS, Windows) give `Foo`
 * and `foo`, or the NFC and NFD forms of `é`, one folder: such ids must share a lock, or two
 * read-modify-writes of the same `memories.json` could run at once. Sharing a lock between ids
 * that are distinct on disk only costs a little concurrency.
 */
export function folderLockName(kind: 'conversation' | 'agent', id: string): string {
  // Whole, as `keyLockName`'s (case folding can make a 255-byte id longer than a message shows).
  return `${kind} ${JSON.stringify(id.normalize('NFC').toUpperCase().toLowerCase())}`;
}
