/**
 * Configuration of the file backend: camelCase keys, the reference's snake_case
 * spellings accepted, unknown keys refused before any I/O.
 */
import { z } from 'zod';
import {
  type KeysWithoutEnv,
  parseBackendConfig,
  type SearchFields,
  type SharedStorageOptions,
  sharedOptionsShape,
  type StorageLogger,
} from '../../core/index.js';

/** Options of {@link FileStorage}. Every key is optional; the reference's snake_case spellings work too. */
export interface FileStorageConfig extends SharedStorageOptions {
  /** Root folder of the store. Default `./storage_data`. */
  baseDir?: string;
  /** Copy a file to a timestamped `.backup` file beside it before overwriting it (cache files excepted). Default `true`. */
  createBackups?: boolean;
  /**
   * Backups kept per file, newest first; `0` keeps none (an overwrite also removes the file's
   * older backups, as any lower value prunes down to it). Default `5`.
   */
  maxBackupFiles?: number;
  /** Write JSON with a 2-space indent (as the reference does); `false` writes one line. Default `true`. */
  prettyPrintJson?: boolean;
  /** Open an existing folder without creating or cleaning anything; every write is refused. Default `false`. */
  readOnly?: boolean;
  /**
   * Most descriptors the file backend keeps open at once across event-loop turns (files being
   * written or read, folders waiting for their fsync); calls past it wait their turn instead of
   * failing with EMFILE. Process-wide: stores open in one process share one budget, the smallest
   * any of them asks for. Default: a quarter of the soft descriptor limit (`ulimit -n`) on
   * Linux, between 8 and 256; 64 where the limit cannot be read.
   */
  maxOpenFiles?: number;
  /** Reference spelling of `baseDir`. */
  base_dir?: string;
  /** Reference spelling of `createBackups`. */
  create_backups?: boolean;
  /** Reference spelling of `maxBackupFiles`. */
  max_backup_files?: number;
  /** Reference spelling of `prettyPrintJson`. */
  pretty_print_json?: boolean;
}

const fileConfigSchema = z.object({
  // Node refuses a path with a NUL only at the first file operation (a TypeError), and writes a
  // lone surrogate as U+FFFD, so two different baseDirs would share one folder. Refused here,
  // before any file is touched (as SQLite's dbPath is).
  baseDir: z
    .string()
    .min(1)
    .refine((p) => p.isWellFormed() && !p.includes('\u0000'), 'must be well-formed and without NUL')
    .default('./storage_data'),
  createBackups: z.boolean().default(true),
  maxBackupFiles: z.number().int().min(0).max(10_000).default(5),
  prettyPrintJson: z.boolean().default(true),
  maxOpenFiles: z.number().int().min(1).max(1_000_000).optional(),
  ...sharedOptionsShape,
});

/** Every key of the file config schema (the CLI's test checks each can be given as text). */
export const FILE_CONFIG_KEYS: readonly string[] = Object.keys(fileConfigSchema.shape);

/** The file config keys no environment variable sets: none, every one has its variable. */
export const FILE_KEYS_WITHOUT_ENV: KeysWithoutEnv = {};

/** The file backend's options with every default filled in. */
export interface ResolvedFileStorageConfig {
  /** Root folder, as given (resolved against the working directory when used). */
  baseDir: string;
  /** Whether overwritten files are backed up. */
  createBackups: boolean;
  /** Backups kept per file. */
  maxBackupFiles: number;
  /** Whether JSON is indented. */
  prettyPrintJson: boolean;
  /** Whether the store is opened read-only. */
  readOnly: boolean;
  /** The descriptor budget this store asks for (`undefined`: the default, see `descriptor-budget.ts`). */
  maxOpenFiles?: number | undefined;
  /** Where background events go (`undefined`: nowhere). */
  logger?: StorageLogger | undefined;
  /** Whether the native full-text index is kept (`searchIndex`). */
  searchIndex: boolean;
  /** The indexed JSON paths per kind (`searchFields`). */
  searchFields?: SearchFields | undefined;
  /** Most chains kept per agent (`null` or absent: no limit). */
  maxReasoningChainsPerAgent?: number | null | undefined;
}

/** Validates a file backend config object; throws `ConfigError` naming the offending key. */
export function parseFileStorageConfig(raw: unknown): ResolvedFileStorageConfig {
  return parseBackendConfig('file', fileConfigSchema, raw, { acceptSnakeCase: true });
}
