/**
 * Backend config parsing shared by every backend: camelCase keys, the
 * reference's snake_case spellings accepted, unknown keys refused with a {@link ConfigError}
 * naming the key, defaults filled in.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { loggerOption, type StorageLogger } from './logger.js';
import { searchFieldsOption, type SearchFields } from './search/fields.js';
import { semanticOption, type SemanticOptions } from './semantic/options.js';

/**
 * The `readOnly` option every built-in backend takes (default `false`): open an existing store
 * without creating, upgrading or changing anything, and refuse every write.
 */
export const readOnlyOption = z.boolean().default(false);

/**
 * The `searchIndex` option every built-in backend takes (default `true`): keep the backend's
 * native full-text index. `false` maintains no index (writes skip its cost) and `search()` scans.
 */
export const searchIndexOption = z.boolean().default(true);

/**
 * The `maxReasoningChainsPerAgent` option every built-in backend takes: a positive integer, or
 * `null`/absent for no limit. Each append then keeps only that many most recent chains.
 */
export const maxReasoningChainsOption = z
  .number()
  .int()
  .positive()
  .max(Number.MAX_SAFE_INTEGER)
  .nullable()
  .optional();

/**
 * The schema keys every built-in backend shares (`readOnly`, `logger`, `searchFields`,
 * `searchIndex`, `maxReasoningChainsPerAgent`, `semantic`), spread into each backend's schema.
 */
export const sharedOptionsShape = {
  semantic: semanticOption,
  readOnly: readOnlyOption,
  logger: loggerOption,
  searchFields: searchFieldsOption,
  searchIndex: searchIndexOption,
  maxReasoningChainsPerAgent: maxReasoningChainsOption,
};

/** Options every built-in backend takes, beside its own. */
export interface SharedStorageOptions {
  /** Open an existing store without creating, upgrading or changing anything; every write is refused. Default `false`. */
  readOnly?: boolean;
  /** Snake_case spelling of `readOnly`. */
  read_only?: boolean;
  /** Receives background events (see the README's Logging section); `console` and pino fit. Silent by default. */
  logger?: StorageLogger;
  /** Per search kind, the JSON paths whose strings full-text search indexes (default: every string); see `SearchFields`. */
  searchFields?: SearchFields;
  /**
   * Keep the backend's native full-text index (default `true`). With `false` writes do not
   * maintain it and `search()` reads every record in scope; turning it back on rebuilds it.
   */
  searchIndex?: boolean;
  /**
   * Keep at most this many reasoning chains per agent: an append that goes beyond removes the
   * oldest in the same atomic step. A positive integer; absent or `null` for no limit.
   */
  maxReasoningChainsPerAgent?: number | null;
  /**
   * Semantic search: `{ embedder, vectorStore }`. Writes embed records into the vector store and
   * `search()` takes `mode: 'vector' | 'hybrid'` (see the README's "Semantic search"). Default: off.
   */
  semantic?: SemanticOptions;
}

/** How a config value given as text (an environment variable, a spec option) is read: `url` is a string whose secrets are never shown. */
export type ConfigValueKind = 'string' | 'url' | 'boolean' | 'number' | 'integer';

/**
 * The config keys of a backend that no environment variable sets, with how each is read from
 * text; next to the backend's schema so that a key added there is added here too.
 */
export type KeysWithoutEnv = Readonly<Record<string, ConfigValueKind>>;

/** Converts `base_dir` to `baseDir`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses a backend's config object with a strict zod schema. Snake_case keys are mapped to
 * camelCase first (when `acceptSnakeCase`), so a Python config dict works as is.
 * Throws {@link ConfigError} naming the offending key.
 */
export function parseBackendConfig<S extends z.ZodObject<z.ZodRawShape>>(
  backend: string,
  schema: S,
  raw: unknown,
  options: { acceptSnakeCase?: boolean } = {},
): z.output<S> {
  let result;
  // The caller's spelling of each key read (`key_prefix`), for the errors: they name what was given.
  const given = new Map<string, string>();
  try {
    result = schema
      .strict()
      .safeParse(readConfigObject(backend, raw, options.acceptSnakeCase === true, given));
  } catch (error) {
    // A getter or Proxy in the caller's config threw: report it as a config problem.
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `${backend} storage config could not be read: a getter or Proxy in it threw`,
      undefined,
      error,
    );
  }
  if (result.success) return result.data as z.output<S>;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const read = issue.keys[0] ?? '?';
    const key = given.get(read) ?? read;
    const known = Object.keys(schema.shape).join(', ');
    throw new ConfigError(`Unknown ${backend} storage config key "${key}". Known keys: ${known}`, key);
  }
  const [first, ...rest] = issue?.path.map(String) ?? [];
  const key = [first === undefined ? '' : (given.get(first) ?? first), ...rest].join('.');
  throw new ConfigError(
    `Invalid ${backend} storage config "${key}": ${issue?.message ?? 'invalid value'}`,
    key,
    result.error,
  );
}

/**
 * Copies the caller's config into a plain object, mapping snake_case keys when asked; `given`
 * receives each read key's spelling in the caller's object. A Map, Date or other object that
 * is not a plain one is refused (until 2026-12-06 it read as an empty config: the defaults).
 */
function readConfigObject(
  backend: string,
  raw: unknown,
  acceptSnakeCase: boolean,
  given: Map<string, string>,
): Record<string, unknown> {
  const plain = Object.prototype.toString.call(raw) === '[object Object]';
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || !plain)) {
    throw new ConfigError(`${backend} storage config must be a plain object`);
  }
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    // `read_only` is accepted by every backend, also those that take only camelCase otherwise;
    // a key with no letter after its `_` (`__proto__`) is no snake_case spelling.
    const snake = (acceptSnakeCase || key === 'read_only') && /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key);
    const name = snake ? snakeToCamel(key) : key;
    if (given.has(name)) {
      throw new ConfigError(
        `${backend} storage config sets "${name}" twice (as "${given.get(name)}" and "${key}")`,
        key,
      );
    }
    given.set(name, key);
    // `undefined` means "use the default", as it does for function arguments. Defined, not
    // assigned: an own `__proto__` (JSON.parse makes one) would set the prototype instead.
    if (value !== undefined)
      Object.defineProperty(input, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return input;
}
