/**
 * The `?key=value` options of a backend spec: which keys each built-in backend takes and how
 * their values are parsed. The table comes from the backends' environment variables (the
 * factory's `*_ENV` maps carry each config key and its kind), plus the config keys that have no
 * variable, which each backend's config module lists beside its schema, so that a spec takes
 * every option the environment does. Only the config modules are imported: they load no driver.
 */
import { FILE_KEYS_WITHOUT_ENV } from '../backends/file/config.js';
import { POSTGRES_KEYS_WITHOUT_ENV } from '../backends/postgres/config.js';
import { REDIS_KEYS_WITHOUT_ENV } from '../backends/redis/config.js';
import { SQLITE_KEYS_WITHOUT_ENV } from '../backends/sqlite/config.js';
import { type KeysWithoutEnv, snakeToCamel } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { BUILTIN_BACKENDS } from '../factory/builtins.js';
import { type EnvValueKind, parseEnvValue } from '../factory/index.js';

/** Config keys with no environment variable, per built-in backend, as the backends declare them. */
const KEYS_WITHOUT_ENV: Readonly<Record<string, KeysWithoutEnv>> = {
  file: FILE_KEYS_WITHOUT_ENV,
  sqlite: SQLITE_KEYS_WITHOUT_ENV,
  redis: REDIS_KEYS_WITHOUT_ENV,
  postgres: POSTGRES_KEYS_WITHOUT_ENV,
};

/** The config key the location part of a spec sets (the path or the URL itself). */
const LOCATION_KEYS: Readonly<Record<string, string>> = {
  file: 'baseDir',
  sqlite: 'dbPath',
  redis: 'url',
  postgres: 'url',
};

/**
 * The query parameters of a Redis or PostgreSQL URL that its driver reads, which a spec passes
 * on. Any other is refused: the driver would ignore a misspelt one silently, and ioredis makes
 * every parameter a client option (as a string) that wins over the library's own settings.
 * ioredis 5/6 (`parseURL`): the database, address family, credentials and a TLS profile name;
 * its other options (`enableOfflineQueue`, `keepAlive`, ...) arrive as strings it misreads or
 * that undo the library's choices. pg 8 (`pg-connection-string`, `ConnectionParameters`):
 * credentials, host and port (a socket folder as `host`), TLS, and the session settings.
 */
const DRIVER_URL_PARAMS: Readonly<Record<string, readonly string[]>> = {
  redis: ['db', 'family', 'username', 'password', 'tls'],
  postgres: [
    'user',
    'password',
    'host',
    'port',
    'ssl',
    'sslmode',
    'sslcert',
    'sslkey',
    'sslrootcert',
    'sslnegotiation',
    'uselibpqcompat',
    'application_name',
    'fallback_application_name',
    'client_encoding',
    'options',
    'lock_timeout',
    'query_timeout',
  ],
};

/**
 * Driver parameters the library sets from its own options: in the URL they would override
 * those silently (pg reads the URL's over the pool's config), so the spec names the option.
 */
const LIBRARY_SET_PARAMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  postgres: {
    statement_timeout: 'statementTimeoutMillis',
    idle_in_transaction_session_timeout: 'statementTimeoutMillis',
    connect_timeout: 'connectionTimeoutMillis',
  },
};

/**
 * Refuses a URL query parameter that is neither the library's nor one its driver reads.
 * `known` says what the library takes instead (its options, or where they are given).
 */
function checkDriverParam(type: string, rawKey: string, spec: string, known: string): void {
  const driver = DRIVER_URL_PARAMS[type];
  if (driver === undefined || driver.includes(rawKey)) return;
  const option = LIBRARY_SET_PARAMS[type]?.[rawKey];
  if (option !== undefined) {
    throw new ConfigError(
      `Parameter ${rawKey} of ${spec} is set by the library: give ${option} instead`,
      rawKey,
    );
  }
  throw new ConfigError(
    `Unknown parameter ${rawKey} in ${spec}; ${known}; and for its driver: ${driver.join(', ')}`,
    rawKey,
  );
}

/**
 * Refuses the query parameters of an env file's Redis or PostgreSQL URL that its driver does
 * not read: there every parameter goes to the driver (the library's options are the file's
 * variables), so a misspelt one would be ignored, or, with ioredis, override the library.
 */
export function checkEnvUrlParams(type: string, url: string, where: string): void {
  if (DRIVER_URL_PARAMS[type] === undefined || !URL.canParse(url)) return;
  const known = `the ${type} options are CONNECTOME_STORAGE_* variables there`;
  for (const rawKey of new URL(url).searchParams.keys()) checkDriverParam(type, rawKey, where, known);
}

/** Short names accepted in URL queries. */
const OPTION_ALIASES: Readonly<Record<string, string>> = { prefix: 'keyPrefix' };

/** Config keys whose values are objects, which a spec cannot give. */
export const OBJECT_KEYS: readonly string[] = ['logger', 'searchFields', 'semantic', 'client', 'pool'];

/** The options a built-in backend takes in a spec and their kinds (`undefined` for other backends). */
export function optionKinds(type: string): Readonly<Record<string, EnvValueKind>> | undefined {
  const definition = Object.hasOwn(BUILTIN_BACKENDS, type) ? BUILTIN_BACKENDS[type] : undefined;
  if (definition === undefined) return undefined;
  const kinds: Record<string, EnvValueKind> = { ...KEYS_WITHOUT_ENV[type] };
  for (const { key, kind } of Object.values(definition.env)) kinds[key] = kind;
  delete kinds[LOCATION_KEYS[type] as string];
  return kinds;
}

/** The config key a query key names: an alias, or the camelCase of a snake_case key (not in URLs). */
function configKey(rawKey: string, inUrl: boolean): string {
  return OPTION_ALIASES[rawKey] ?? (inUrl ? rawKey : snakeToCamel(rawKey));
}

/**
 * Takes the library's options out of a spec's query and parses them. For a built-in backend an
 * unknown key, an object-valued key and a key that the path or URL already gives are refused,
 * naming the key; in a Redis or PostgreSQL URL the keys that are not the library's stay in
 * `params` for the driver when the driver reads them (e.g. `sslmode`, see
 * `DRIVER_URL_PARAMS`), and are refused otherwise. Other backends get every option as a string.
 */
export function takeOptions(
  type: string,
  params: URLSearchParams,
  spec: string,
  inUrl: boolean,
): Record<string, unknown> {
  const kinds = optionKinds(type);
  const location = LOCATION_KEYS[type];
  const config: Record<string, unknown> = {};
  for (const [rawKey, value] of [...params]) {
    const key = configKey(rawKey, inUrl);
    if (key === location) {
      throw new ConfigError(
        `Option ${rawKey} of ${spec} conflicts with its ${inUrl ? 'URL' : 'path'}: give the ${type} location once, before the ?`,
        key,
      );
    }
    if (kinds !== undefined && OBJECT_KEYS.includes(key)) {
      throw new ConfigError(
        `Option ${rawKey} of ${spec} cannot be given in a spec${key === 'semantic' ? ' (use an env file with CONNECTOME_SEMANTIC=1)' : ''}`,
        key,
      );
    }
    const kind = kinds === undefined ? 'string' : kinds[key];
    if (kind === undefined) {
      const known = Object.keys(kinds ?? {}).join(', ');
      if (inUrl) {
        checkDriverParam(type, rawKey, spec, `${type} takes: ${known}`);
        continue; // the driver's parameter: stays in the URL
      }
      throw new ConfigError(`Unknown option ${rawKey} in ${spec}; ${type} takes: ${known}`, rawKey);
    }
    params.delete(rawKey);
    if (Object.hasOwn(config, key)) throw new ConfigError(`Option ${rawKey} is given twice`, key);
    config[key] = parseEnvValue(`option ${rawKey}`, value, { key, kind, allowEmpty: kind === 'string' });
  }
  return config;
}
