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
import { checkUrlParamNames, checkUrlParams, isUrlParamBackend } from '../core/url-params.js';
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
 * Refuses the query parameters of an env file's Redis or PostgreSQL URL that its driver does
 * not read (the backends' own check, `core/url-params.ts`, with the CLI's hint): there every
 * parameter goes to the driver (the library's options are the file's variables).
 */
export function checkEnvUrlParams(type: string, url: string, where: string): void {
  if (!isUrlParamBackend(type)) return;
  checkUrlParams(type, url, { where, hint: `the ${type} options are CONNECTOME_STORAGE_* variables there` });
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

/**
 * The config key a query key names: for a built-in backend an alias, or the camelCase of a
 * snake_case key (not in URLs); for another backend the key as given (until 2026-12-06 renamed
 * too, and `constructor` or `toString` looked up on the aliases' prototype).
 */
function configKey(rawKey: string, inUrl: boolean, builtin: boolean): string {
  if (!builtin) return rawKey;
  if (Object.hasOwn(OPTION_ALIASES, rawKey)) return OPTION_ALIASES[rawKey] as string;
  return inUrl ? rawKey : snakeToCamel(rawKey);
}

/**
 * Takes the library's options out of a spec's query and parses them. For a built-in backend an
 * unknown key, an object-valued key and a key that the path or URL already gives are refused,
 * naming the key; in a Redis or PostgreSQL URL the keys that are not the library's stay in
 * `params` for the driver when the driver reads them (e.g. `sslmode`, see
 * `DRIVER_URL_PARAMS` in `core/url-params.ts`), and are refused otherwise, all named at once. Other backends get every option as a string.
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
  const driverParams: string[] = [];
  for (const [rawKey, value] of [...params]) {
    const key = configKey(rawKey, inUrl, kinds !== undefined);
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
      if (inUrl && isUrlParamBackend(type)) {
        driverParams.push(rawKey); // the driver's parameter, if it reads it: stays in the URL
        continue;
      }
      throw new ConfigError(`Unknown option ${rawKey} in ${spec}; ${type} takes: ${known}`, rawKey);
    }
    params.delete(rawKey);
    if (Object.hasOwn(config, key)) throw new ConfigError(`Option ${rawKey} is given twice`, key);
    config[key] = parseEnvValue(`option ${rawKey}`, value, { key, kind, allowEmpty: kind === 'string' });
  }
  if (isUrlParamBackend(type)) {
    const hint = `${type} takes: ${Object.keys(kinds ?? {}).join(', ')}`;
    checkUrlParamNames(type, driverParams, { where: spec, hint });
  }
  return config;
}
