/**
 * The query parameters a Redis or PostgreSQL URL may carry. Checked by each backend's config
 * parsing (so `createStorage('redis', { url })`, the `CONNECTOME_STORAGE_*_URL` variables and
 * the CLI all refuse the same ones, before any I/O) and by the CLI's spec parsing, which gives
 * its own hint about where the library's options go.
 */
import { ConfigError } from './errors.js';
import { pgOptionsSettings } from './pg-options.js';
import { redactUrl } from './redact.js';
import { quoteName } from './shown-text.js';

/** The backends whose `url` goes to a driver that reads query parameters. */
export type UrlParamBackend = 'redis' | 'postgres';

/**
 * The query parameters of a Redis or PostgreSQL URL that its driver reads. Any other is
 * refused: the driver would ignore a misspelt one silently, and ioredis makes every parameter
 * a client option (as a string) that wins over the library's own settings (`?keyPrefix=x`
 * would change the client's prefix under the store's keys). ioredis 5/6 (`parseURL`): the
 * database, address family, credentials and a TLS profile name; its other options
 * (`enableOfflineQueue`, `keepAlive`, ...) arrive as strings it misreads or that undo the
 * library's choices. pg 8 (`pg-connection-string`, `ConnectionParameters`): credentials, host
 * and port (a socket folder as `host`), TLS, and the session settings.
 */
export const DRIVER_URL_PARAMS: Readonly<Record<UrlParamBackend, readonly string[]>> = {
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
 * those silently (pg reads the URL's over the pool's config), so the error names the option.
 * Set in a PostgreSQL URL's `options` they would be overridden silently instead, and are
 * refused the same way.
 */
const LIBRARY_SET_PARAMS: Readonly<Record<UrlParamBackend, Readonly<Record<string, string>>>> = {
  redis: {},
  postgres: {
    statement_timeout: 'statementTimeoutMillis',
    idle_in_transaction_session_timeout: 'statementTimeoutMillis',
    connect_timeout: 'connectionTimeoutMillis',
  },
};

/** Whether `type` names a backend whose URL parameters are checked. */
export function isUrlParamBackend(type: string): type is UrlParamBackend {
  return Object.hasOwn(DRIVER_URL_PARAMS, type);
}

/** Where a refused parameter was found and what to tell the user about the library's options. */
export interface UrlParamContext {
  /** The URL as the message shows it (redacted), e.g. `the URL redis://h?x=1 of ./a.env`. */
  where: string;
  /** Where the library's own options go instead, e.g. `redis takes: keyPrefix, ...`. */
  hint: string;
  /** The config key the error names (`ConfigError.key`); default: the first refused parameter. */
  key?: string;
}

/**
 * Refuses the parameters among `names` that `backend`'s driver does not read, with a
 * {@link ConfigError} whose message names every refused one: a parameter the library sets
 * itself names the option to give instead, any other lists the driver's parameters. A
 * driver's parameter given twice is refused too. Reads nothing but its arguments (no I/O).
 */
export function checkUrlParamNames(
  backend: UrlParamBackend,
  names: Iterable<string>,
  context: UrlParamContext,
): void {
  const driver = DRIVER_URL_PARAMS[backend];
  const librarySet = LIBRARY_SET_PARAMS[backend];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      // pg reads the last of a repeated parameter, ioredis makes it an array: the store's
      // identity (the same-store check) and the value the user meant would differ.
      if (!driver.includes(name)) continue;
      throw new ConfigError(
        `Parameter ${name} is given more than once in ${context.where}: give it once`,
        context.key ?? name,
      );
    }
    seen.add(name);
    if (driver.includes(name)) continue;
    const option = librarySet[name];
    if (option !== undefined) {
      throw new ConfigError(
        `Parameter ${name} of ${context.where} is set by the library: give ${option} instead`,
        context.key ?? name,
      );
    }
    unknown.push(name);
  }
  if (unknown.length === 0) return;
  throw new ConfigError(
    `Unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in ${context.where}; ` +
      `${context.hint}; and for its driver: ${driver.join(', ')}`,
    context.key ?? unknown[0],
  );
}

/**
 * Refuses a `url` with spaces or control characters around it, or whose query holds a
 * parameter its driver does not read (see {@link checkUrlParamNames}) or a value it misreads;
 * a URL that does not parse is left to the caller's own check.
 */
export function checkUrlParams(backend: UrlParamBackend, url: string, context: UrlParamContext): void {
  // `new URL()` drops spaces and control characters around a URL, the drivers do not: ioredis
  // threw a TypeError ("Invalid URL") for a leading space, pg took one for the host "base" and
  // a trailing one as part of the database name.
  const around = (index: number) => url.length > 0 && url.charCodeAt(index) <= 0x20;
  if (around(0) || around(url.length - 1)) {
    throw new ConfigError(
      `${context.where} has spaces or control characters before or after it: remove them`,
      context.key ?? 'url',
    );
  }
  if (!URL.canParse(url)) return;
  const parsed = new URL(url);
  checkUrlParamNames(backend, parsed.searchParams.keys(), context);
  checkUrlValues(backend, parsed, context);
}

/**
 * The TLS profiles ioredis 5/6 knows (`TLSProfiles`). It takes any other `?tls=` text as TLS
 * options, so `?tls=false` turned TLS on.
 */
const REDIS_TLS_PROFILES: readonly string[] = ['RedisCloudFixed', 'RedisCloudFlexible'];

/** The `sslmode` values pg 8 (`pg-connection-string`) knows. */
const PG_SSL_MODES: readonly string[] = [
  'disable',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
  'no-verify',
];

/** Whether `decodeURIComponent` takes `text`. */
function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** Digits only: how a Redis database number and a PostgreSQL port must be written. */
const DIGITS = /^\d+$/;

/**
 * Refuses what a driver misreads: a Redis database (the URL's path or `?db=`) or a
 * PostgreSQL `?port=` not written in digits, a Redis path and `?db=` naming two databases, a port outside 1–65535, a Redis `?family=` other
 * than 0, 4 or 6, a Redis `?tls=` naming no TLS profile, and a PostgreSQL `?ssl=` or
 * `?sslmode=` that pg does not know. Both drivers read the numbers with `parseInt`: ioredis selects no
 * database for one that reads as no number (`/abc`, `%31`) and a refused SELECT (`/-1`) only
 * emits an error, so either wrote into database 0; pg passed `NaN` or an out-of-range port to
 * the socket, which threw inside its pool, and the pool's `end()` then never settled, nor
 * did `initialize()`.
 */
function checkUrlValues(backend: UrlParamBackend, url: URL, context: UrlParamContext): void {
  const refuse = (param: string, shown: string, value: string, rule: string): never => {
    throw new ConfigError(`${shown} ${quoteName(value)} of ${context.where} ${rule}`, context.key ?? param);
  };
  if (backend === 'redis' && url.host === '') {
    // Before the path is read as a database: without its `//` (`redis:/u:pw@h`) the user
    // info is in the path, and the refusal below quoted it, password and all (until 2026-12-06).
    throw new ConfigError(`${context.where} names no host: write redis://host:6379`, context.key ?? 'url');
  }
  if (backend === 'redis') {
    // ioredis decodes the user and password with decodeURIComponent, which threw a bare
    // URIError out of initialize() for a malformed escape (`%E0%A4%A`).
    if (!decodes(url.username) || !decodes(url.password)) {
      throw new ConfigError(
        `The user or password of ${context.where} holds a malformed %-escape: write % as %25`,
        context.key ?? 'url',
      );
    }
    // ioredis takes the path after its "/" whole (`/1/2` is "1/2"), else the query's `db`.
    const path = url.pathname.slice(1);
    const query = url.searchParams.get('db');
    for (const db of [path !== '' ? path : null, query]) {
      if (db !== null && !DIGITS.test(db)) {
        refuse('db', 'Database', db, 'is not a database number: write it in digits (redis://host:6379/1)');
      }
    }
    // ioredis ignores `?db=` when the path names a database: `redis://h/2?db=3` used 2.
    if (path !== '' && query !== null && Number(path) !== Number(query)) {
      refuse('db', 'Parameter db', query, `names another database than the path's ${path}: give one`);
    }
    // Node's socket takes 0 (either), 4 or 6, and IPv4 or IPv6 (which ioredis passes on as
    // text and the socket reads as 4 or 6), and threw for anything else at connect time,
    // reported as an unavailable server (worth retrying) rather than a bad URL.
    const family = url.searchParams.get('family');
    if (family !== null && !['0', '4', '6', 'IPv4', 'IPv6'].includes(family)) {
      refuse('family', 'Parameter family', family, 'is not an address family: write 4, 6 or 0 (either)');
    }
    const tls = url.searchParams.get('tls');
    if (tls !== null && !REDIS_TLS_PROFILES.includes(tls)) {
      const profiles = REDIS_TLS_PROFILES.join(', ');
      refuse(
        'tls',
        'Parameter tls',
        tls,
        `is not a TLS profile of ioredis (${profiles}): for TLS write rediss://`,
      );
    }
    return;
  }
  // pg-connection-string reads `ssl` as true for "true"/"1" and false for "0", and keeps any
  // other text, which turns TLS on ("false" too); an `sslmode` it does not know (libpq's
  // "allow", a typo) means full verification.
  const ssl = url.searchParams.get('ssl');
  if (ssl !== null && !['true', '1', '0'].includes(ssl)) {
    refuse('ssl', 'Parameter ssl', ssl, 'is not read as a switch by pg: write ssl=true, 1 or 0');
  }
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== null && !PG_SSL_MODES.includes(sslmode)) {
    refuse(
      'sslmode',
      'Parameter sslmode',
      sslmode,
      `is not an sslmode pg knows (${PG_SSL_MODES.join(', ')})`,
    );
  }
  const port = url.searchParams.get('port');
  if (port !== null && !(DIGITS.test(port) && Number(port) >= 1 && Number(port) <= 65_535)) {
    refuse('port', 'Parameter port', port, 'is not a port: write a number from 1 to 65535');
  }
  checkPgOptions(url, context);
}

/**
 * Refuses a PostgreSQL `?options=` that sets a session setting the library sets itself
 * (`-c statement_timeout=5`, `--idle-in-transaction-session-timeout=5`), naming the option to
 * give: the pool sends its own as a startup parameter, which the server applies after
 * `options`, so the URL's was dropped silently (until 2026-12-06; as a parameter of its own it
 * was refused already). Other settings (`lock_timeout`, `search_path`) stay the URL's.
 */
function checkPgOptions(url: URL, context: UrlParamContext): void {
  for (const options of url.searchParams.getAll('options')) {
    const set = librarySetPgOption(options);
    if (set === null) continue;
    throw new ConfigError(
      `Parameter options of ${context.where} sets ${set.name}, which is set by the library: give ${set.option} instead`,
      context.key ?? 'options',
    );
  }
}

/**
 * The first setting that `options` (the text of PostgreSQL's `options` startup parameter: a
 * URL's `?options=`, or `PGOPTIONS`) sets which the library sets itself, with the library
 * option to give instead; `null` when it sets none.
 */
export function librarySetPgOption(options: string): { name: string; option: string } | null {
  const librarySet = LIBRARY_SET_PARAMS.postgres;
  const name = pgOptionsSettings(options).find((setting) => Object.hasOwn(librarySet, setting));
  return name === undefined ? null : { name, option: librarySet[name] as string };
}

/**
 * The check of a backend's config: a `url` parameter that the driver does not read is refused
 * with a {@link ConfigError} on the key `url` (so an environment variable's error names the
 * variable), telling that the library's options are config keys.
 */
export function checkConfigUrlParams(backend: UrlParamBackend, url: string | undefined): void {
  if (url === undefined) return;
  checkUrlParams(backend, url, {
    where: `${backend} storage config "url" (${redactUrl(url)})`,
    hint: `the ${backend} storage options are config keys, not URL parameters`,
    key: 'url',
  });
}
