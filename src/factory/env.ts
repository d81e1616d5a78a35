/**
 * Environment configuration: which `CONNECTOME_STORAGE_*` variables feed which
 * backend config key, and their strict parsing (D11).
 *
 * Rules:
 * - Booleans: `true/false`, `1/0`, `yes/no`, `on/off`, any case; anything else is refused.
 * - Numbers: decimal notation (`30`, `30.0`, `.5`, `1e3`); `abc`, `1e`, `Infinity` are refused.
 *   Integers (`CONNECTOME_STORAGE_MAX_BACKUPS`): digits only, as Python's `int()` reads them.
 * - An empty value is refused too (unset the variable to get the default), except where an
 *   empty string is a meaningful value (an embedder's query or document prefix).
 * - Only the variables of the chosen backend are read; the others are ignored.
 * Every refusal is a {@link ConfigError} whose message names the variable and the value
 * (URLs with their secrets redacted).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type { ConfigValueKind } from '../core/config.js';
import { ConfigError, describeValue } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';

/** Environment variables as `process.env` holds them. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** A parsed environment value, as it goes into a backend config. */
export type EnvConfigValue = string | number | boolean;

/** How a variable's text is read: `url` is a string whose secrets are never shown. */
export type EnvValueKind = ConfigValueKind;

/** How one environment variable maps to a backend config key. */
export interface EnvVarSpec {
  /** The backend config key it sets, e.g. `baseDir`. */
  readonly key: string;
  /** How its text is parsed. */
  readonly kind: EnvValueKind;
  /** True when an empty value is a value (e.g. "no query prefix") rather than an error. */
  readonly allowEmpty?: boolean;
}

/** A backend's environment variables: variable name -> how it maps to the config. */
export type EnvVarMap = Readonly<Record<string, EnvVarSpec>>;

/** The backend type and config that the environment describes. */
export interface EnvStorageConfig {
  /** Backend name (`CONNECTOME_STORAGE_TYPE`, default `file`), as written. */
  type: string;
  /** Config for that backend, from its variables only. */
  config: Record<string, EnvConfigValue>;
}

/** The variable that chooses the backend. */
export const STORAGE_TYPE_VAR = 'CONNECTOME_STORAGE_TYPE';

/** The backend used when `CONNECTOME_STORAGE_TYPE` is not set. */
export const DEFAULT_STORAGE_TYPE = 'file';

/** `CONNECTOME_STORAGE_READ_ONLY`: the `readOnly` option, which every built-in backend takes. */
export const READ_ONLY_ENV: EnvVarMap = {
  CONNECTOME_STORAGE_READ_ONLY: { key: 'readOnly', kind: 'boolean' },
};

/** `CONNECTOME_STORAGE_MAX_REASONING_CHAINS_PER_AGENT`: the `maxReasoningChainsPerAgent` option of every built-in backend. */
export const RETENTION_ENV: EnvVarMap = {
  CONNECTOME_STORAGE_MAX_REASONING_CHAINS_PER_AGENT: { key: 'maxReasoningChainsPerAgent', kind: 'integer' },
};

/** `CONNECTOME_STORAGE_SEARCH_INDEX`: the `searchIndex` option of every built-in backend. */
export const SEARCH_INDEX_ENV: EnvVarMap = {
  CONNECTOME_STORAGE_SEARCH_INDEX: { key: 'searchIndex', kind: 'boolean' },
};

/** Environment variables of the file backend. */
export const FILE_ENV: EnvVarMap = {
  ...READ_ONLY_ENV,
  ...RETENTION_ENV,
  ...SEARCH_INDEX_ENV,
  CONNECTOME_STORAGE_BASE_DIR: { key: 'baseDir', kind: 'string' },
  CONNECTOME_STORAGE_CREATE_BACKUPS: { key: 'createBackups', kind: 'boolean' },
  CONNECTOME_STORAGE_PRETTY_JSON: { key: 'prettyPrintJson', kind: 'boolean' },
  CONNECTOME_STORAGE_MAX_BACKUPS: { key: 'maxBackupFiles', kind: 'integer' },
  CONNECTOME_STORAGE_MAX_OPEN_FILES: { key: 'maxOpenFiles', kind: 'integer' },
};

/** Environment variables of the SQLite backend. */
export const SQLITE_ENV: EnvVarMap = {
  ...READ_ONLY_ENV,
  ...RETENTION_ENV,
  ...SEARCH_INDEX_ENV,
  CONNECTOME_STORAGE_DB_PATH: { key: 'dbPath', kind: 'string' },
  CONNECTOME_STORAGE_WAL_MODE: { key: 'enableWalMode', kind: 'boolean' },
  CONNECTOME_STORAGE_TIMEOUT: { key: 'connectionTimeout', kind: 'number' },
};

/** Environment variables of the Redis backend. */
export const REDIS_ENV: EnvVarMap = {
  ...READ_ONLY_ENV,
  ...RETENTION_ENV,
  ...SEARCH_INDEX_ENV,
  CONNECTOME_STORAGE_REDIS_URL: { key: 'url', kind: 'url' },
  CONNECTOME_STORAGE_REDIS_PREFIX: { key: 'keyPrefix', kind: 'string' },
};

/** Environment variables of the PostgreSQL backend. */
export const POSTGRES_ENV: EnvVarMap = {
  ...READ_ONLY_ENV,
  ...RETENTION_ENV,
  ...SEARCH_INDEX_ENV,
  CONNECTOME_STORAGE_POSTGRES_URL: { key: 'url', kind: 'url' },
  CONNECTOME_STORAGE_POSTGRES_SCHEMA: { key: 'schema', kind: 'string' },
  CONNECTOME_STORAGE_POSTGRES_PREPARED_STATEMENTS: { key: 'preparedStatements', kind: 'boolean' },
  CONNECTOME_STORAGE_POSTGRES_STATS_SIZE_MAX_AGE_MS: { key: 'statsSizeMaxAgeMillis', kind: 'integer' },
};

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  yes: true,
  on: true,
  false: false,
  '0': false,
  no: false,
  off: false,
};

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const INTEGER = /^\d+$/;

/** How a value is shown in an error message: quoted, truncated, URL secrets redacted. */
function shown(value: string, kind: EnvValueKind): string {
  return describeValue(kind === 'url' ? redactUrl(value) : value);
}

function emptyValue(name: string): ConfigError {
  return new ConfigError(`${name} is set but empty; unset it to use the default`, name);
}

function invalid(name: string, value: string, kind: EnvValueKind, expected: string): ConfigError {
  return new ConfigError(`Invalid ${name}=${shown(value, kind)}: expected ${expected}`, name);
}

/**
 * Refuses a variable whose value is not text: an `env` object built in code may hold `true` or
 * `3`, which reached `toLowerCase()` (a TypeError, or a ConfigError blaming a getter) or went
 * to the backend unparsed.
 */
export function checkEnvText(name: string, value: unknown): asserts value is string | undefined {
  if (value === undefined || typeof value === 'string') return;
  throw new ConfigError(
    `${name} must be a string, as environment variables are (e.g. "true", "30"), got ${describeValue(value)}`,
    name,
  );
}

/** Parses one variable's text by its spec; throws {@link ConfigError} naming the variable. */
export function parseEnvValue(name: string, value: string, spec: EnvVarSpec): EnvConfigValue {
  checkEnvText(name, value);
  if (value === '') {
    if (spec.allowEmpty) return value;
    throw emptyValue(name);
  }
  switch (spec.kind) {
    case 'boolean': {
      const word = value.toLowerCase();
      if (Object.hasOwn(BOOLEAN_WORDS, word)) return BOOLEAN_WORDS[word] as boolean;
      throw invalid(name, value, spec.kind, 'true/false, 1/0, yes/no or on/off');
    }
    case 'number':
      if (NUMBER.test(value) && Number.isFinite(Number(value))) return Number(value);
      throw invalid(name, value, spec.kind, 'a number');
    case 'integer':
      if (INTEGER.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
      throw invalid(name, value, spec.kind, 'a whole number (digits only)');
    case 'url':
      if (URL.canParse(value)) return value;
      throw invalid(name, value, spec.kind, 'a URL');
    case 'string':
      return value;
  }
}

/** The config a backend gets from its environment variables; unset ones are left out. */
export function configFromEnv(env: EnvSource, vars: EnvVarMap): Record<string, EnvConfigValue> {
  const config: Record<string, EnvConfigValue> = {};
  for (const [name, spec] of Object.entries(vars)) {
    const value = env[name];
    if (value !== undefined) config[spec.key] = parseEnvValue(name, value, spec);
  }
  return config;
}

/**
 * Reads the backend type and its config from `env`. `varsOf` gives the environment
 * variables of a backend type (and throws for an unknown type).
 */
export function storageConfigFromEnv(env: EnvSource, varsOf: (type: string) => EnvVarMap): EnvStorageConfig {
  const type = env[STORAGE_TYPE_VAR] ?? DEFAULT_STORAGE_TYPE;
  checkEnvText(STORAGE_TYPE_VAR, type);
  if (type === '') throw emptyValue(STORAGE_TYPE_VAR);
  return { type, config: configFromEnv(env, varsOf(type)) };
}

/**
 * The process environment merged over the `.env` file of `cwd` (default: the current
 * directory), parsed with dotenv; variables already set in the process win. Neither
 * `process.env` nor the file is changed. A missing `.env` file is fine.
 */
export function readEnvironment(cwd: string = process.cwd()): Record<string, string | undefined> {
  const path = join(cwd, '.env');
  let fromFile: Record<string, string> = {};
  try {
    fromFile = dotenv.parse(readFileSync(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`Cannot read ${path}: ${(error as Error).message}`, path, error);
    }
  }
  return { ...fromFile, ...process.env };
}

/**
 * Puts a backend's config error in environment terms: when `error` is a {@link ConfigError}
 * about a key one of `vars` feeds, the result names that variable, with its (redacted) value
 * when it is set and "is not set" when it is not (a required key left out), and has the
 * original error as its cause. Anything else is returned unchanged.
 */
export function explainEnvConfigError(error: unknown, env: EnvSource, vars: EnvVarMap): unknown {
  if (!(error instanceof ConfigError)) return error;
  for (const [name, spec] of Object.entries(vars)) {
    if (spec.key !== error.key) continue;
    const value = env[name];
    const problem = value === undefined ? `${name} is not set` : `Invalid ${name}=${shown(value, spec.kind)}`;
    return new ConfigError(`${problem}: ${error.message}`, name, error);
  }
  return error;
}
