/**
 * The storage factory: a registry of backends by name, with the built-ins (`file`,
 * `sqlite`, `redis`, `postgres`) registered first.
 */
import { FileStorage } from '../backends/file/index.js';
import { SQLiteStorage } from '../backends/sqlite/index.js';
import { ConfigError, describeValue, StorageError } from '../core/errors.js';
import { redactUrlsInText } from '../core/redact.js';
import { StorageInterface } from '../core/storage-interface.js';
import { missingPackages } from './availability.js';
import { parseRegisterOptions } from './register-options.js';
import { BUILTIN_BACKENDS } from './builtins.js';
import { type EnvSource, explainEnvConfigError, readEnvironment, storageConfigFromEnv } from './env.js';
import { semanticOptionsFromEnv } from './semantic-env.js';
import type {
  BackendConfig,
  BackendDefinition,
  RegisterBackendOptions,
  StorageBackendClass,
} from './types.js';

/** A registered name: an ASCII letter, then letters, digits, `-` or `_`; 64 characters at most. */
const BACKEND_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * `name` with its ASCII capitals in lower case, other characters kept: `toLowerCase()` folds
 * the Kelvin sign (U+212A) to `k` and `İ` to `i̇`, so `'\u212Aey'` was registered (and found)
 * as `key` until 2026-12-04.
 */
function backendKey(name: unknown): string {
  return typeof name === 'string' ? name.replace(/[A-Z]+/g, (caps) => caps.toLowerCase()) : '';
}

/** Collapses a description to one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isBackendClass(value: unknown): value is StorageBackendClass {
  return typeof value === 'function' && value.prototype instanceof StorageInterface;
}

/**
 * Creates storage backends by name. Names are ASCII and case-insensitive (`SQLite` is `sqlite`) and
 * listed in registration order.
 */
export class StorageFactory {
  private static readonly backends = new Map<string, BackendDefinition>(Object.entries(BUILTIN_BACKENDS));

  /**
   * Creates a backend (not yet initialized) of the given type with `config`, whose keys
   * the backend validates (camelCase or the reference's snake_case; unknown keys are a
   * {@link ConfigError} naming the key).
   * @throws {ConfigError} for an unknown type: `Unsupported storage type 'X'. Available types: file, sqlite, redis, postgres, ...`.
   * A backend whose driver package is not installed rejects its `initialize()` with a
   * `BackendUnavailableError` naming the package.
   * @throws {StorageError} naming the backend, with the original as its cause, for anything
   * but a StorageError that a (registered) backend's constructor throws, or for a constructor
   * that returns an object other than a {@link StorageInterface}.
   */
  static createStorage(type: string, config?: BackendConfig): StorageInterface {
    // The driver is loaded (and a missing one reported with BackendUnavailableError) by the
    // backend's initialize(), not checked here: creating stays free of I/O.
    const [name, definition] = StorageFactory.lookup(type);
    try {
      return asStore(name, new definition.backend(config));
    } catch (error) {
      throw typedCreateError(name, error);
    }
  }

  /**
   * Registers a backend class under `name` (case-insensitive). `options` is its one-line
   * description, or an object with the description, the npm packages it needs, its
   * environment variables and `override`.
   * A name that is already registered (a built-in included) is replaced only with
   * `{ override: true }`; otherwise registering it again is a {@link ConfigError}.
   * @throws {ConfigError} for an invalid name, a value that is not a class, a class that
   * does not extend {@link StorageInterface}, an option of the wrong type or an unknown one
   * (its `key` names it, e.g. `options.packages`), a taken name without `override`, or a
   * class (or its static `description`) that cannot be read: a getter or Proxy that throws.
   */
  static registerBackend(
    name: string,
    BackendClass: StorageBackendClass,
    options?: string | RegisterBackendOptions,
  ): void {
    const key = backendKey(name);
    if (!BACKEND_NAME.test(key)) {
      throw new ConfigError(
        `Invalid storage backend name ${describeValue(name)}: use an ASCII letter followed by ASCII letters, digits, "-" or "_" (64 characters at most)`,
        'name',
      );
    }
    const candidate: unknown = BackendClass;
    readingClass(key, 'its class', 'BackendClass', () => {
      if (isBackendClass(candidate)) return;
      const isFunction = typeof candidate === 'function';
      const what = isFunction ? candidate.name || '(anonymous)' : describeValue(candidate);
      const reason = isFunction ? 'does not extend StorageInterface' : 'is not a class';
      throw new ConfigError(`Cannot register storage backend '${key}': ${what} ${reason}`, 'BackendClass');
    });
    const opts = parseRegisterOptions(key, options);
    if (StorageFactory.backends.has(key) && opts.override !== true) {
      throw new ConfigError(
        `Storage backend '${key}' is already registered; pass { override: true } to replace it`,
        'name',
      );
    }
    const ownDescription: unknown = readingClass(
      key,
      'its static description',
      'BackendClass.description',
      () => (BackendClass as { description?: unknown }).description,
    );
    // A blank static description falls back too, as a blank option is refused (until 2026-12-06 listed as "").
    const own =
      typeof ownDescription === 'string' && ownDescription.trim() !== '' ? ownDescription : undefined;
    const description = opts.description ?? own ?? `${key} storage`;
    StorageFactory.backends.set(key, {
      backend: BackendClass,
      description: oneLine(description),
      packages: [...(opts.packages ?? [])],
      env: { ...opts.env },
    });
  }

  /**
   * Every registered backend with its one-line description. A backend whose driver
   * package is missing says so: `"SQLite database (unavailable: npm install sqlite3)"`.
   */
  static getAvailableBackends(): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, definition] of StorageFactory.backends) {
      const missing = missingPackages(definition.packages);
      result[name] =
        missing.length === 0
          ? definition.description
          : `${definition.description} (unavailable: npm install ${missing.join(' ')})`;
    }
    return result;
  }

  /**
   * Creates a {@link FileStorage} in `baseDir` (default `./storage_data`), other options
   * default; always the built-in class, even when another backend was registered as `file`.
   */
  static createDefaultFileStorage(baseDir?: string): FileStorage {
    return new FileStorage({ baseDir });
  }

  /**
   * Creates a {@link SQLiteStorage} on `dbPath` (default `./storage_data/connectome.db`);
   * always the built-in class, even when another backend was registered as `sqlite`.
   */
  static createDefaultSqliteStorage(dbPath?: string): SQLiteStorage {
    return new SQLiteStorage({ dbPath });
  }

  /**
   * Creates the backend that `CONNECTOME_STORAGE_*` variables describe. Without
   * `env`: the process environment over the current directory's `.env` file (process
   * wins); with `env`: those variables only. Only the chosen backend's variables are read.
   * With `CONNECTOME_SEMANTIC` (or an embedder or vector type set) it gets the `semantic`
   * option from `CONNECTOME_EMBEDDER_*` / `CONNECTOME_VECTOR_*` (see `semanticOptionsFromEnv`).
   * @throws {ConfigError} naming the variable for a value that does not parse or that the
   * backend refuses, or the unsupported-type error for an unknown `CONNECTOME_STORAGE_TYPE`.
   */
  static createFromEnvConfig(env?: EnvSource): StorageInterface {
    // `null`, a string or an array read as "no variables set": a default file store, silently.
    if (env !== undefined && !isEnvObject(env)) {
      throw new ConfigError(
        `The environment must be an object of variables (such as process.env), got ${describeValue(env)}`,
        'env',
      );
    }
    const source = env ?? readEnvironment();
    const { type, config } = readEnvConfig(source, (name) => StorageFactory.lookup(name)[1].env);
    const semantic = readingEnv(() => semanticOptionsFromEnv(source));
    try {
      return StorageFactory.createStorage(type, semantic === undefined ? config : { ...config, semantic });
    } catch (error) {
      throw explainEnvConfigError(error, source, StorageFactory.lookup(type)[1].env);
    }
  }

  /** The registered name and definition of `type`, or the unsupported-type error. */
  private static lookup(type: string): [string, BackendDefinition] {
    const name = backendKey(type);
    const definition = StorageFactory.backends.get(name);
    if (definition === undefined) {
      const available = [...StorageFactory.backends.keys()].join(', ');
      throw new ConfigError(
        `Unsupported storage type '${typeof type === 'string' ? type : describeValue(type)}'. Available types: ${available}`,
        'type',
      );
    }
    return [name, definition];
  }
}

/**
 * `read()` of the class being registered, a getter or Proxy in it that throws reported as a
 * ConfigError on `key` naming `what` could not be read, as for such options. Until 2026-12-06
 * its own error (a plain `Error` from a static `description` getter) escaped as it was.
 */
function readingClass<T>(name: string, what: string, key: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new ConfigError(`Cannot register storage backend '${name}': ${what} could not be read`, key, error);
  }
}

/**
 * `created` as a store: a constructor may return another object than `this`, which until
 * 2026-12-06 reached the caller as it was (and failed later as a TypeError). A check that
 * throws (a revoked Proxy returned) is wrapped by {@link typedCreateError}.
 */
function asStore(name: string, created: unknown): StorageInterface {
  if (created instanceof StorageInterface) return created;
  throw new StorageError(
    `Storage backend '${name}' could not be created: its constructor returned an object that is not a StorageInterface`,
  );
}

/**
 * What a backend's constructor threw, as the library's typed error: a {@link StorageError}
 * (a ConfigError naming a key included) as it is, anything else as a StorageError naming the
 * backend with the original as its cause (passwords of URLs in its message masked). Until
 * 2026-12-04 a registered backend's plain `Error` reached callers untyped.
 */
function typedCreateError(name: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const reason = error instanceof Error ? error.message : describeValue(error);
  return new StorageError(`Storage backend '${name}' could not be created: ${redactUrlsInText(reason)}`, {
    cause: error,
  });
}

/** Whether `env` is an object and no array (a revoked Proxy passes: reading it fails later, as a ConfigError). */
function isEnvObject(env: unknown): boolean {
  try {
    return typeof env === 'object' && env !== null && !Array.isArray(env);
  } catch {
    return true;
  }
}

/** {@link storageConfigFromEnv}, with a getter or Proxy in a caller's `env` that throws reported as a ConfigError. */
function readEnvConfig(
  ...args: Parameters<typeof storageConfigFromEnv>
): ReturnType<typeof storageConfigFromEnv> {
  return readingEnv(() => storageConfigFromEnv(...args));
}

/**
 * `read()` of a caller's `env`, a getter or Proxy in it that throws reported as a ConfigError
 * (the semantic variables' reader too: until 2026-12-06 its getter's error came out as is).
 */
function readingEnv<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new ConfigError(
      'The environment could not be read: a getter or Proxy in it threw',
      undefined,
      error,
    );
  }
}
