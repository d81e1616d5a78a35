/**
 * Configuration of the SQLite backend: `dbPath`, `connectionTimeout`,
 * `enableWalMode`, with the reference's snake_case spellings accepted.
 */
import { z } from 'zod';
import {
  type KeysWithoutEnv,
  parseBackendConfig,
  type SharedStorageOptions,
  sharedOptionsShape,
} from '../../core/index.js';

/** Database file used when no `dbPath` is given (the reference's default). */
export const DEFAULT_SQLITE_DB_PATH = './storage_data/connectome.db';

/** Seconds a write waits for another connection's lock when none is given (the reference's default). */
export const DEFAULT_SQLITE_TIMEOUT_SECONDS = 30;

/** The names SQLite gives the files it keeps beside a database `<name>`: `<name>-wal`, `-shm`, `-journal`. */
const SIDE_FILE_SUFFIX = /-(wal|shm|journal)$/i;

/**
 * True when `path` is a name SQLite gives a file of the database beside it (the path without its
 * `-wal`, `-shm` or `-journal`, in any case: on a case-insensitive disk `x.db-WAL` is that file):
 * a database there is read as that database's log, and deleted by its next open and close.
 */
export function isSqliteSideFileName(path: string): boolean {
  return SIDE_FILE_SUFFIX.test(path);
}

/** Why {@link isSqliteSideFileName} refuses a path. */
export const SQLITE_SIDE_FILE_REASON =
  'must not end in "-wal", "-shm" or "-journal" (SQLite\'s own files beside the database of the name without it)';

// SQLite's busy timeout is a C int of milliseconds.
const MAX_TIMEOUT_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

const sqliteConfigSchema = z.object({
  // The driver hands the path to SQLite as a UTF-8 C string: a NUL ends it early (`x\0.db`
  // opened the file `x`) and a lone surrogate becomes U+FFFD, so two different paths would
  // share one database. Refused here, before any file is touched.
  dbPath: z
    .string()
    .min(1)
    .refine((p) => p.isWellFormed() && !p.includes('\u0000'), 'must be well-formed and without NUL')
    // A store at `x.db-wal` was deleted by the next open and close of a store at `x.db`.
    .refine((p) => !isSqliteSideFileName(p), SQLITE_SIDE_FILE_REASON)
    .default(DEFAULT_SQLITE_DB_PATH),
  connectionTimeout: z
    .number()
    .finite()
    .nonnegative()
    .max(MAX_TIMEOUT_SECONDS)
    .default(DEFAULT_SQLITE_TIMEOUT_SECONDS),
  enableWalMode: z.boolean().default(true),
  ...sharedOptionsShape,
});

/** Every key of the SQLite config schema (the CLI's test checks each can be given as text). */
export const SQLITE_CONFIG_KEYS: readonly string[] = Object.keys(sqliteConfigSchema.shape);

/** The SQLite config keys no environment variable sets: none, every one has its variable. */
export const SQLITE_KEYS_WITHOUT_ENV: KeysWithoutEnv = {};

/**
 * Options of {@link SQLiteStorage}. The Python reference's keys (`db_path`,
 * `connection_timeout`, `enable_wal_mode`) are accepted too; any other key is refused.
 */
export interface SQLiteStorageConfig extends SharedStorageOptions {
  /** Database file, created with its parent folder if missing; `:memory:` for a private in-memory database. Default `./storage_data/connectome.db`. */
  dbPath?: string;
  /** Seconds a statement waits for a lock held by another connection or process before failing (SQLite busy timeout). Default 30. */
  connectionTimeout?: number;
  /** Switch the database to write-ahead logging, so readers never block the writer. Default true. */
  enableWalMode?: boolean;
  /**
   * Open an existing database read-only (`OPEN_READONLY`): no file, table, `user_version` or
   * journal mode change, every write refused. Default false.
   */
  readOnly?: boolean;
  /** The reference's spelling of `dbPath`. */
  db_path?: string;
  /** The reference's spelling of `connectionTimeout`. */
  connection_timeout?: number;
  /** The reference's spelling of `enableWalMode`. */
  enable_wal_mode?: boolean;
}

/** A validated SQLite configuration with every default filled in. */
export type ResolvedSQLiteConfig = z.output<typeof sqliteConfigSchema>;

/** Validates a SQLite config object; throws `ConfigError` naming the offending key. */
export function parseSqliteConfig(raw: unknown): ResolvedSQLiteConfig {
  return parseBackendConfig('sqlite', sqliteConfigSchema, raw, { acceptSnakeCase: true });
}
