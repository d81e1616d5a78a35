/**
 * Configuration of the PostgreSQL backend: `url`, `schema`, `max`,
 * `connectionTimeoutMillis`, `statementTimeoutMillis`, or a `pool` of the caller's own, and
 * `preparedStatements`, `statsSizeMaxAgeMillis`.
 */
import { z } from 'zod';
import {
  ConfigError,
  type KeysWithoutEnv,
  parseBackendConfig,
  redactUrl,
  type SearchFields,
  type SharedStorageOptions,
  sharedOptionsShape,
  type StorageLogger,
} from '../../core/index.js';
import { checkConfigUrlParams } from '../../core/url-params.js';

/** Server used when no `url` is given (the library default of `CONNECTOME_STORAGE_POSTGRES_URL`). */
export const DEFAULT_POSTGRES_URL = 'postgres://127.0.0.1:5432/postgres';

/** Schema that holds the tables when no `schema` is given. */
export const DEFAULT_POSTGRES_SCHEMA = 'connectome';

/** What a query on a {@link PostgresPool} or {@link PostgresPoolClient} resolves to (the parts used here). */
export interface PostgresQueryResult {
  /** The rows the statement returned. */
  rows: unknown[];
  /** How many rows the statement changed, when the server says. */
  rowCount: number | null;
}

/** One statement as `pg` takes it: a `name` makes it a named prepared statement. */
export interface PostgresQueryConfig {
  /** The SQL, with `$n` parameters. */
  text: string;
  /** The parameter values. */
  values: unknown[];
  /** Name the statement is prepared under on each connection; none: parsed on every call. */
  name?: string;
}

/** The parts of a checked-out `pg.PoolClient` this storage calls. */
export interface PostgresPoolClient {
  /** Runs one statement. */
  query(config: PostgresQueryConfig): Promise<PostgresQueryResult>;
  /** Returns the connection to its pool; an error (or `true`) discards it instead. */
  release(error?: Error | boolean): void;
  /** Listens for the connection's background errors (a `pg.PoolClient` is an EventEmitter). */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  /** Stops listening, as {@link on} started. */
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * The parts of a `pg.Pool` this storage calls. Any `pg.Pool` fits; it is declared here so that
 * the public types do not need `@types/pg`.
 */
export interface PostgresPool {
  /** Connections open in the pool. */
  readonly totalCount: number;
  /** Open connections not checked out. */
  readonly idleCount: number;
  /** Callers waiting for a connection. */
  readonly waitingCount: number;
  /** Runs one statement on any pooled connection. */
  query(config: PostgresQueryConfig): Promise<PostgresQueryResult>;
  /**
   * Checks out one connection (for a transaction) and calls back in the turn the pool hands it
   * over, as `pg.Pool#connect(callback)` does (its promise form resolves a microtask too late
   * to listen for the connection's errors from the start).
   */
  connect(callback: (error: Error | undefined, client: PostgresPoolClient | undefined) => void): void;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
  /** Listens for errors of idle connections. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /**
   * The pool's options, as `pg.Pool` keeps them: `max` bounds the storage's own queue in front
   * of the pool, `connectionTimeoutMillis` how long its waiting calls go without an answer.
   */
  readonly options?: { readonly max?: number; readonly connectionTimeoutMillis?: number };
}

/** Options of {@link PostgresStorage}. Unknown keys are refused with a `ConfigError`. */
export interface PostgresStorageConfig extends SharedStorageOptions {
  /**
   * `postgres://[user:password@]host[:port]/database[?sslmode=...]` (or `postgresql://`).
   * Default `postgres://127.0.0.1:5432/postgres`. The password never appears in errors,
   * health or stats. Its query may hold only the parameters pg reads (`sslmode`, `user`,
   * `host`, `port`, `application_name`, `options`, ...; `DRIVER_URL_PARAMS`): any other is a
   * `ConfigError`, and `statement_timeout` / `connect_timeout` name the option to give instead,
   * as does an `options` that sets such a timeout (`-c statement_timeout=5`).
   */
  url?: string;
  /** Schema holding the tables, created if missing; used exactly as written (case-sensitive). Default `connectome`. */
  schema?: string;
  /** Most connections the pool opens. Default 10. */
  max?: number;
  /**
   * Milliseconds a new connection may take to open, and that calls waiting for a connection may
   * go without any call getting an answer, before they fail with `BackendUnavailableError`. A
   * burst of calls waits in the storage's own queue, untimed while calls are answered. Default 10000.
   */
  connectionTimeoutMillis?: number;
  /** Milliseconds after which the server cancels a statement (and an idle open transaction). Default 60000. */
  statementTimeoutMillis?: number;
  /**
   * An existing `pg.Pool`, used instead of `url` (with its own size and timeouts). The storage
   * never ends a pool it was given.
   */
  pool?: PostgresPool;
  /**
   * Run the hot statements as named prepared statements, parsed and planned once per
   * connection. Default true. Set false behind PgBouncer in transaction (or statement) pooling
   * mode, where the next call may land on a server connection that never saw the statement.
   */
  preparedStatements?: boolean;
  /**
   * How old (milliseconds) the table sizes of `getStorageStats()` (`table_bytes`,
   * `total_bytes`) may be. Default 0: every call reports them as they are at the call (it
   * measures them unless no file can have changed since this instance's last measurement: see
   * the README). A positive value reuses the sizes this storage instance measured or found
   * unchanged less than that long ago (the stats then also carry `table_bytes_measured_at`);
   * the counts are always counted at the call.
   */
  statsSizeMaxAgeMillis?: number;
  /**
   * Open an existing store (schema with its `storage_meta` table) without creating or
   * upgrading anything; sessions default to read-only transactions and every write is refused.
   * Default false.
   */
  readOnly?: boolean;
}

/** The config with defaults filled in. */
export interface ResolvedPostgresConfig {
  /** Server URL (unused when `pool` is given). */
  url: string;
  /** Schema holding the tables. */
  schema: string;
  /** Pool size of a pool this storage creates. */
  max: number;
  /** Connect timeout of a pool this storage creates, in milliseconds. */
  connectionTimeoutMillis: number;
  /** Server-side statement timeout of a pool this storage creates, in milliseconds. */
  statementTimeoutMillis: number;
  /** The caller's pool, or `undefined` when this storage creates its own. */
  pool: PostgresPool | undefined;
  /** Whether statements run as named prepared statements. */
  preparedStatements: boolean;
  /** Most milliseconds a table size measurement is reused by `getStorageStats()` (0: never). */
  statsSizeMaxAgeMillis: number;
  /** Whether the store is opened read-only. */
  readOnly: boolean;
  /** Where background events go (`undefined`: nowhere). */
  logger: StorageLogger | undefined;
  /** JSON paths full-text search indexes per kind (`undefined`: every string). */
  searchFields: SearchFields | undefined;
  /** Whether writes keep the native search index (`false`: no index columns, `search()` scans). */
  searchIndex: boolean;
  /** Most chains kept per agent, or `null` for no limit. */
  maxReasoningChainsPerAgent: number | null;
  /** Embedder and vector store of semantic search (`undefined`: off). */
  semantic: SharedStorageOptions['semantic'];
}

// PostgreSQL cuts identifiers at 63 bytes (NAMEDATALEN - 1); a longer name would silently
// become another schema's name.
const MAX_IDENTIFIER_BYTES = 63;

function isPostgresUrl(value: string): boolean {
  // The `//` too: `postgres:/u:pw@h/db` parses as a path, with no host (until 2026-12-06 taken
  // and sent to pg, which connected to its default host with that text as the database).
  if (!URL.canParse(value)) return false;
  const { protocol, href } = new URL(value);
  return (protocol === 'postgres:' || protocol === 'postgresql:') && href.startsWith(`${protocol}//`);
}

/** Duck-typed check, so the config can be validated without loading `pg`. */
function isPgPool(value: unknown): value is PostgresPool {
  if (typeof value !== 'object' || value === null) return false;
  const pool = value as Record<string, unknown>;
  return (
    typeof pool.totalCount === 'number' &&
    ['connect', 'query', 'end', 'on'].every((name) => typeof pool[name] === 'function')
  );
}

const positiveMs = z.number().int().positive().max(2_147_483_647);

const postgresConfigSchema = z.object({
  url: z
    .string()
    .refine(isPostgresUrl, 'must be a postgres:// or postgresql:// URL')
    // pg decodes the URL and sends each part (user, database, options) as a C string: a NUL
    // made the server refuse the startup packet, reported as an unreachable server.
    .refine((u) => !u.includes('\u0000') && !/%00/i.test(u), 'must not contain a NUL (raw or as %00)')
    .optional(),
  schema: z
    .string()
    .min(1)
    .refine((s) => s.isWellFormed() && !s.includes('\u0000'), 'must be well-formed and without NUL')
    .refine((s) => Buffer.byteLength(s) <= MAX_IDENTIFIER_BYTES, 'must be at most 63 bytes')
    .refine((s) => !s.startsWith('pg_'), 'names starting with "pg_" are reserved by PostgreSQL')
    .default(DEFAULT_POSTGRES_SCHEMA),
  max: z.number().int().positive().max(10_000).optional(),
  connectionTimeoutMillis: positiveMs.optional(),
  statementTimeoutMillis: positiveMs.optional(),
  pool: z.custom<PostgresPool>(isPgPool, 'must be a pg.Pool instance').optional(),
  preparedStatements: z.boolean().optional(),
  statsSizeMaxAgeMillis: z.number().int().nonnegative().max(2_147_483_647).optional(),
  ...sharedOptionsShape,
});

/** Every key of the PostgreSQL config schema (the CLI's test checks each can be given as text). */
export const POSTGRES_CONFIG_KEYS: readonly string[] = Object.keys(postgresConfigSchema.shape);

/** The PostgreSQL config keys no environment variable sets (the pool's size and timeouts), which a backend spec's `?key=value` still takes. */
export const POSTGRES_KEYS_WITHOUT_ENV: KeysWithoutEnv = {
  max: 'integer',
  connectionTimeoutMillis: 'integer',
  statementTimeoutMillis: 'integer',
};

/** Keys that configure a pool this storage creates, and so mean nothing with a given `pool`. */
const POOL_KEYS = ['url', 'max', 'connectionTimeoutMillis', 'statementTimeoutMillis'] as const;

/** Validates a PostgreSQL config (before any I/O); throws `ConfigError` naming the key. */
export function parsePostgresConfig(raw: unknown): ResolvedPostgresConfig {
  const parsed = parseBackendConfig('postgres', postgresConfigSchema, raw);
  // pg ignores a misspelt parameter silently, and reads its timeouts over the pool's.
  checkConfigUrlParams('postgres', parsed.url);
  if (parsed.pool !== undefined) {
    const clash = POOL_KEYS.find((key) => parsed[key] !== undefined);
    if (clash !== undefined) {
      throw new ConfigError(
        `postgres storage config sets both "pool" and "${clash}"; configure the pool you pass instead`,
        clash,
      );
    }
  }
  return {
    url: parsed.url ?? DEFAULT_POSTGRES_URL,
    schema: parsed.schema,
    max: parsed.max ?? 10,
    connectionTimeoutMillis: parsed.connectionTimeoutMillis ?? 10_000,
    statementTimeoutMillis: parsed.statementTimeoutMillis ?? 60_000,
    pool: parsed.pool,
    preparedStatements: parsed.preparedStatements ?? true,
    statsSizeMaxAgeMillis: parsed.statsSizeMaxAgeMillis ?? 0,
    readOnly: parsed.readOnly,
    logger: parsed.logger,
    searchFields: parsed.searchFields,
    searchIndex: parsed.searchIndex,
    maxReasoningChainsPerAgent: parsed.maxReasoningChainsPerAgent ?? null,
    semantic: parsed.semantic,
  };
}

/**
 * Refuses a `PGPORT` that pg would use for `url` (a URL naming no port) when it is not a port:
 * pg reads it with `parseInt`, and a socket given `NaN` or an out-of-range port threw inside
 * pg's pool, which then never ended, so `initialize()` never settled. Checked as the pool is
 * made, when pg reads it.
 * @throws {ConfigError} naming `PGPORT`.
 */
export function checkPgPortEnv(url: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!URL.canParse(url)) return;
  const parsed = new URL(url);
  const port = env.PGPORT;
  if (parsed.port !== '' || parsed.searchParams.has('port') || port === undefined || port === '') return;
  if (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535) return;
  throw new ConfigError(
    `PGPORT=${JSON.stringify(port)}, which pg reads for ${redactUrl(url)} (it names no port), is not a port: write a number from 1 to 65535`,
    'PGPORT',
  );
}
