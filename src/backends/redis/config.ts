/** Configuration of the Redis backend and the URL redaction used in every message. */
import { z } from 'zod';
import {
  ConfigError,
  type KeysWithoutEnv,
  parseBackendConfig,
  type SearchFields,
  type SharedStorageOptions,
  sharedOptionsShape,
  type StorageLogger,
} from '../../core/index.js';
import { checkConfigUrlParams } from '../../core/url-params.js';

/**
 * An `ioredis` client: a `Redis` connection or a `Cluster` instance. Typed by the members the
 * store checks a given client for, not by ioredis's own types: those (ioredis 6.1) import the
 * untyped `redis-errors`, so declarations that loaded them failed every user's strict type
 * check with `skipLibCheck: false`, Redis user or not.
 */
export interface RedisClient {
  /** The connection's state (`'ready'`, `'connecting'`, …). */
  readonly status: string;
  /** Runs a loaded script. */
  evalsha(...args: never[]): unknown;
  /** Runs a script. */
  eval(...args: never[]): unknown;
  /** Reads a string key. */
  get(...args: never[]): unknown;
  /** Writes a string key. */
  set(...args: never[]): unknown;
  /** Closes the connection. */
  disconnect(...args: never[]): unknown;
}

/** Options of {@link RedisStorage}. */
export interface RedisStorageConfig extends SharedStorageOptions {
  /**
   * `redis://[user:password@]host[:port][/db]` or `rediss://...` (TLS). Default
   * `redis://127.0.0.1:6379`. Its query may hold only `db`, `family`, `username`, `password`
   * and `tls` (ioredis makes any parameter a client option): any other is a `ConfigError`.
   */
  url?: string;
  /** Prefix of every key this store writes. Default `connectome:`. */
  keyPrefix?: string;
  /** Milliseconds to wait for the connection to open. Default 10000. */
  connectTimeout?: number;
  /** Milliseconds after which a command fails with `BackendUnavailableError`. Default 10000. */
  commandTimeout?: number;
  /**
   * An existing `ioredis` `Redis` or `Cluster` instance, used instead of `url` (needed for a
   * Redis Cluster). The storage never closes a client it was given.
   */
  client?: RedisClient;
  /** Open an existing store (the prefix has its layout key) without writing any key; every write is refused. Default false. */
  readOnly?: boolean;
}

/** The config with defaults filled in. */
export interface ResolvedRedisConfig {
  url: string;
  keyPrefix: string;
  connectTimeout: number;
  commandTimeout: number;
  client: RedisClient | undefined;
  readOnly: boolean;
  /** Where background events go (`undefined`: nowhere). */
  logger: StorageLogger | undefined;
  /** JSON paths full-text search indexes per kind (`undefined`: every string). */
  searchFields: SearchFields | undefined;
  /** Whether writes keep the native search index (`searchIndex`, default true). */
  searchIndex: boolean;
  /** Most chains kept per agent, or `null` for no limit. */
  maxReasoningChainsPerAgent: number | null;
  /** Embedder and vector store of semantic search (`undefined`: off). */
  semantic: SharedStorageOptions['semantic'];
}

/** Server used when neither `url` nor `client` is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Prefix of every key when `keyPrefix` is not given. */
export const DEFAULT_KEY_PREFIX = 'connectome:';

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Duck-typed check, so the config can be validated without loading `ioredis`. */
function isIoredisClient(value: unknown): value is RedisClient {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Record<string, unknown>;
  return (
    typeof client.status === 'string' &&
    ['evalsha', 'eval', 'get', 'set', 'disconnect'].every((name) => typeof client[name] === 'function')
  );
}

const positiveMs = z.number().int().positive().max(2_147_483_647);

const redisConfigSchema = z.object({
  url: z.string().refine(isRedisUrl, 'must be a redis:// or rediss:// URL with a host').optional(),
  keyPrefix: z
    .string()
    .min(1, 'must not be empty')
    .refine((p) => p.isWellFormed() && !p.includes('\u0000'), 'must be well-formed and without NUL')
    .default(DEFAULT_KEY_PREFIX),
  connectTimeout: positiveMs.default(10_000),
  commandTimeout: positiveMs.default(10_000),
  client: z.custom<RedisClient>(isIoredisClient, 'must be an ioredis Redis or Cluster instance').optional(),
  ...sharedOptionsShape,
});

/** Every key of the Redis config schema (the CLI's test checks each can be given as text). */
export const REDIS_CONFIG_KEYS: readonly string[] = Object.keys(redisConfigSchema.shape);

/** The Redis config keys no environment variable sets, which a backend spec's `?key=value` still takes. */
export const REDIS_KEYS_WITHOUT_ENV: KeysWithoutEnv = {
  connectTimeout: 'integer',
  commandTimeout: 'integer',
};

/**
 * A cluster hashes the text between a key's first `{` and the next `}`, but the whole key when
 * that text is empty: with a prefix whose first brace opens `{}`, a record's keys and its
 * bucket's would land in different slots and every write script fail (CROSSSLOT). A standalone
 * server has no slots, so such a prefix is refused on a cluster only.
 */
function checkClusterPrefix(prefix: string): void {
  const open = prefix.indexOf('{');
  if (open >= 0 && prefix[open + 1] === '}') {
    throw new ConfigError(
      `redis storage keyPrefix ${JSON.stringify(prefix)} opens an empty hash tag ("{}") at its first brace, ` +
        "so a Redis Cluster would hash each whole key and a record's keys would not share a slot; " +
        'use a prefix without "{}"',
      'keyPrefix',
    );
  }
}

/**
 * A given client's settings the store cannot work with. ioredis's own `keyPrefix` (a Cluster
 * takes its `redisOptions`' too) prefixes the keys of commands, not the key names the scripts
 * build from their arguments (a purge's value keys, the search index's): with one, a purge
 * removed live cache entries from the listings and searches found nothing. The store's
 * `keyPrefix` does what it would.
 */
function checkGivenClient(client: RedisClient, prefix: string): void {
  const options = (client as { options?: { keyPrefix?: unknown } }).options;
  if (typeof options?.keyPrefix === 'string' && options.keyPrefix !== '') {
    throw new ConfigError(
      `redis storage client has ioredis's own keyPrefix ${JSON.stringify(options.keyPrefix)}, which the ` +
        "store's scripts cannot follow; give a client without one and put the prefix in the store's keyPrefix",
      'client',
    );
  }
  if ((client as { isCluster?: boolean }).isCluster === true) checkClusterPrefix(prefix);
}

/** Validates a Redis config (before any I/O); throws `ConfigError` naming the key. */
export function parseRedisConfig(raw: unknown): ResolvedRedisConfig {
  const parsed = parseBackendConfig('redis', redisConfigSchema, raw);
  if (parsed.client !== undefined && parsed.url !== undefined) {
    throw new ConfigError('redis storage config sets both "url" and "client"; use one of them', 'client');
  }
  // ioredis makes every URL parameter a client option, over the library's own settings.
  checkConfigUrlParams('redis', parsed.url);
  if (parsed.client !== undefined) checkGivenClient(parsed.client, parsed.keyPrefix);
  return {
    url: parsed.url ?? DEFAULT_REDIS_URL,
    keyPrefix: parsed.keyPrefix,
    connectTimeout: parsed.connectTimeout,
    commandTimeout: parsed.commandTimeout,
    client: parsed.client,
    readOnly: parsed.readOnly,
    logger: parsed.logger,
    searchFields: parsed.searchFields,
    searchIndex: parsed.searchIndex,
    maxReasoningChainsPerAgent: parsed.maxReasoningChainsPerAgent ?? null,
    semantic: parsed.semantic,
  };
}
