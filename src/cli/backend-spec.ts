/**
 * Backend specs: the strings that name a store on the command line.
 *
 * ```
 * file:PATH[?OPTIONS]          file backend in folder PATH (relative to the current directory)
 * file:///ABS/PATH             the same as a file URL
 * sqlite:PATH[?OPTIONS]        SQLite database file; sqlite::memory: for a private in-memory one
 * redis://[user:pass@]host[:port][/db][?prefix=P&connectTimeout=MS&commandTimeout=MS]
 * rediss://...                 Redis over TLS
 * postgres://[user:pass@]host[:port]/db[?schema=S&max=N&connectionTimeoutMillis=MS&statementTimeoutMillis=MS]
 * postgresql://...             the same
 * NAME:[?OPTIONS]              any other registered backend, configured by OPTIONS only
 * OPTIONS := key=value(&key=value)*   the backend's config keys, e.g. createBackups=false
 * ```
 * Option values are parsed like environment variables (booleans `true/false/1/0/yes/no/on/off`,
 * numbers); see `spec-options.ts`. A built-in backend takes the config keys its environment
 * variables set (`searchIndex`, `readOnly`, `preparedStatements`, ...) and the drivers' timeouts;
 * an unknown key, or one the path or URL already gives (`baseDir`, `dbPath`, `url`), is refused.
 * In Redis and PostgreSQL URLs the driver's query parameters stay in the URL (e.g.
 * `sslmode=require`; the list is in `core/url-params.ts`, which the backends check too); the
 * library's own keys are taken out first, and any other parameter is refused. A `?` in a file
 * or SQLite path is therefore not supported. A `file://` URL's path is percent-decoded (`%23`
 * for `#`) and a fragment is refused; a `file:PATH` or `sqlite:PATH` is taken as written. An
 * env file (`--from-env FILE`) gives a spec too (`env-file-spec.ts`).
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { redactQueryValues, redactUrl, redactUrlsInText } from '../core/redact.js';
import {
  canonicalHost,
  canonicalPgDatabase,
  canonicalPort,
  canonicalRedisDb,
  escapePercent,
  sameStoreId,
} from '../migration/identity.js';
import { printable } from './format.js';
import { takeOptions } from './spec-options.js';

/** A store named on the command line. */
export interface BackendSpec {
  /** Backend name for the factory. */
  type: string;
  /** Backend config for the factory. */
  config: Record<string, unknown>;
  /**
   * How the store is shown, printable as it is: URL passwords redacted and control characters
   * escaped ({@link shownStore}).
   */
  display: string;
  /**
   * Stable identity with defaults filled in, paths resolved and a network host in canonical
   * form (`canonicalHost`; no secrets): equal means same store.
   */
  identity: string;
  /** Absolute path of a file or SQLite store (none for `:memory:` and network stores). */
  localPath?: string;
}

/** URL schemes and the backend they name. */
const URL_SCHEMES: Readonly<Record<string, string>> = {
  redis: 'redis',
  rediss: 'redis',
  postgres: 'postgres',
  postgresql: 'postgres',
};

const DEFAULTS = {
  baseDir: './storage_data',
  dbPath: './storage_data/connectome.db',
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: 'connectome:',
  postgresUrl: 'postgres://127.0.0.1:5432/postgres',
  schema: 'connectome',
};

/**
 * Option names whose values are secrets, left out of a store's identity. Narrower than the
 * redaction of displayed URLs, so that it does not catch options that tell two stores apart.
 */
const SECRET_OPTION = /pass|pwd|secret|token|credential|api_?key|auth/i;

const SPEC_HELP =
  'use file:PATH, sqlite:PATH, redis://HOST[:PORT][?prefix=P], postgres://HOST/DB or NAME:[?key=value]';

/** Realpath of the deepest existing ancestor joined with the rest, so that links and new folders compare right. */
function canonicalPath(path: string, cwd: string): string {
  const absolute = resolve(cwd, path);
  const rest: string[] = [];
  for (let dir = absolute; ; dir = dirname(dir)) {
    try {
      return join(realpathSync(dir), ...rest.reverse());
    } catch {
      if (dirname(dir) === dir) return absolute;
      rest.push(basename(dir));
    }
  }
}

let memoryDatabases = 0;

/**
 * `text` as a store is shown: the passwords of URLs in it redacted, also where a path or an
 * env file's name reads as one (`file:./redis://u:pw@h`), and control characters escaped. A
 * spec's `display` is made so once, here: every command prints it as it is, in text, JSON and
 * error messages (until 2026-12-06 success output printed such a path's password).
 */
export function shownStore(text: string): string {
  return printable(redactUrlsInText(text));
}

/** Display string and identity of a backend config. */
export function describeBackend(
  type: string,
  config: Record<string, unknown>,
  cwd: string = process.cwd(),
): BackendSpec {
  const text = (key: string, fallback: string) => (typeof config[key] === 'string' ? config[key] : fallback);
  const spec = (display: string, identity: string): BackendSpec => ({
    type,
    config,
    display: shownStore(display),
    identity,
  });
  const local = (display: string, path: string): BackendSpec => ({
    ...spec(display, `${type}:${canonicalPath(path, cwd)}`),
    localPath: resolve(cwd, path),
  });
  if (type === 'file') {
    const baseDir = text('baseDir', text('base_dir', DEFAULTS.baseDir));
    return local(`file:${baseDir}`, baseDir);
  }
  if (type === 'sqlite') {
    const dbPath = text('dbPath', text('db_path', DEFAULTS.dbPath));
    if (dbPath === ':memory:') return spec('sqlite::memory:', `sqlite::memory:#${(memoryDatabases += 1)}`);
    return local(`sqlite:${dbPath}`, dbPath);
  }
  if (type === 'redis' || type === 'postgres') {
    const isRedis = type === 'redis';
    const raw = text('url', isRedis ? DEFAULTS.redisUrl : DEFAULTS.postgresUrl);
    const scope = isRedis ? text('keyPrefix', DEFAULTS.keyPrefix) : text('schema', DEFAULTS.schema);
    let identity = `${type}:${redactUrl(raw)}#${scope}`;
    if (URL.canParse(raw)) {
      const url = new URL(raw);
      const query = (name: string) => url.searchParams.get(name) ?? '';
      // pg reads the host, port and user of the query over the URL's (ioredis only its db). A
      // query's value is decoded already: escaped again, so `canonicalHost` decodes it only once.
      const host = (!isRedis && escapePercent(query('host'))) || url.hostname;
      // pg reads what the URL leaves out from PGPORT, PGDATABASE and PGUSER (an empty one is
      // unset), as its ConnectionParameters does; the identity must name that store.
      const env = (name: string) => (isRedis ? '' : (process.env[name] ?? ''));
      const port = (!isRedis && query('port')) || url.port || env('PGPORT') || (isRedis ? '6379' : '5432');
      // ioredis takes the database from the path, else from a `db` query parameter (a number:
      // `canonicalRedisDb`); pg decodes the path (`canonicalPgDatabase`), else PGDATABASE, else
      // the user's database (the URL's user, else PGUSER, else the login name pg defaults to).
      const database = isRedis
        ? canonicalRedisDb(url.pathname.replace(/^\//, '') || query('db') || '0')
        : canonicalPgDatabase(url.pathname.replace(/^\//, '')) ||
          // Names as they are (not URL-encoded): escaped as the decoded path is.
          escapePercent(
            env('PGDATABASE') ||
              query('user') ||
              decodeURIComponent(url.username) ||
              env('PGUSER') ||
              env(process.platform === 'win32' ? 'USERNAME' : 'USER') ||
              'postgres',
          );
      // Canonical (loopback names as one, pg's `?host=::1` as `[::1]`, a host or database as
      // pg decodes it, a port as a number): the resume marker holds it.
      identity = `${type}://${canonicalHost(host)}:${canonicalPort(port)}/${database}#${scope}`;
    }
    const scopeName = isRedis ? 'prefix' : 'schema';
    return spec(`${redactUrl(raw)} (${scopeName} ${JSON.stringify(scope)})`, identity);
  }
  // The identity goes into the target's resume marker: secret values stay out of it.
  const shown = Object.keys(config)
    .sort()
    .map((key) => [key, SECRET_OPTION.test(key) ? '***' : config[key]]);
  return spec(`${type}:`, `${type}:${JSON.stringify(Object.fromEntries(shown))}`);
}

/** Device and inode of the existing file or folder at `path`, or `undefined` (none, or unknown). */
function deviceInode(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    const stat = statSync(path, { bigint: true });
    // An inode of 0 is a file system that reports none: it tells nothing.
    return stat.ino === 0n ? undefined : `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined; // missing or unreadable: the resolved path alone decides
  }
}

/**
 * Whether two specs name the same store (the migration refuses to copy a store onto itself):
 * equal identities in canonical form (`sameStoreId`), so a Redis or PostgreSQL store on one
 * port, database and prefix or schema is one store whether its host is spelled `localhost`,
 * `127.0.0.1`, `[::1]` or `0.0.0.0`. The resume marker compares identities the same way. Two
 * paths that exist are also one store when they are one file (device and inode): a hard link
 * to a SQLite file, or a folder bind-mounted elsewhere, resolves to another path (until
 * 2026-12-04 such a migration wrote its marker into the source through the other name).
 */
export function sameStore(a: BackendSpec, b: BackendSpec): boolean {
  if (sameStoreId(a.identity, b.identity)) return true;
  const inode = deviceInode(a.localPath);
  return inode !== undefined && inode === deviceInode(b.localPath);
}

/**
 * The path a `file://` URL names, decoded; a ConfigError naming the spec for a URL the parser
 * refuses (another host, an encoded `/`, a malformed escape: a TypeError or URIError otherwise)
 * or a path no file system takes (a NUL or a lone surrogate, decoded from `%00`, `%ED%A0%80`).
 */
function fileUrlPath(text: string, location: string): string {
  let path: string;
  try {
    path = fileURLToPath(`file:${location}`);
  } catch (error) {
    throw new ConfigError(
      `Invalid backend spec ${shownSpec(text)}: ${(error as Error).message}`,
      'spec',
      error,
    );
  }
  if (!path.isWellFormed() || path.includes('\u0000')) {
    throw new ConfigError(
      `Invalid backend spec ${shownSpec(text)}: the path must be well-formed and without NUL`,
      'spec',
    );
  }
  return path;
}

/**
 * `text` quoted for a message, its secret-looking option values masked (`file:./x?token=***`):
 * a spec that is not a `scheme://` URL escapes the masking of URLs in the CLI's output.
 */
function shownSpec(text: string): string {
  return JSON.stringify(redactQueryValues(text));
}

/** Parses a backend spec (see the module comment); throws {@link ConfigError} for a malformed one. */
export function parseBackendSpec(text: string, cwd: string = process.cwd()): BackendSpec {
  // `_` too: a registered name may hold one (refused here until 2026-12-06), no URL scheme does.
  const scheme = /^([a-z][a-z0-9+._-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new ConfigError(`Invalid backend spec ${shownSpec(text)}: ${SPEC_HELP}`, 'spec');
  }
  const rest = text.slice(scheme.length + 1);
  const urlType = URL_SCHEMES[scheme];
  if (urlType !== undefined) {
    // pg (like libpq) reads the host from `?host=` over the URL's, so `postgres:///db?host=/run/pg`
    // (a socket folder) names one; ioredis has no such parameter.
    const hasHost = (url: URL) =>
      url.hostname !== '' || (urlType === 'postgres' && url.searchParams.get('host'));
    if (!URL.canParse(text) || !hasHost(new URL(text))) {
      throw new ConfigError(
        `Invalid ${urlType} URL ${redactUrl(text)} (a host is needed): ${SPEC_HELP}`,
        'spec',
      );
    }
    const url = new URL(text);
    const config = takeOptions(urlType, url.searchParams, redactUrl(text), true);
    // Keep the URL as written unless options were taken out of it.
    config.url = url.search === new URL(text).search ? text : url.toString();
    return describeBackend(urlType, config, cwd);
  }
  if (scheme === 'file' && rest.startsWith('//') && rest.includes('#')) {
    // The URL parser drops a fragment: `file:///tmp/a#b` would name the folder /tmp/a.
    throw new ConfigError(
      `Invalid backend spec ${shownSpec(text)}: a file URL's fragment (#...) is not part of its path; write a # in the path as %23`,
      'spec',
    );
  }
  const queryAt = rest.indexOf('?');
  const location = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  const options = takeOptions(scheme, query, shownSpec(text), false);
  if (scheme === 'file' || scheme === 'sqlite') {
    const path = scheme === 'file' && location.startsWith('//') ? fileUrlPath(text, location) : location;
    if (path === '') {
      throw new ConfigError(`Invalid backend spec ${shownSpec(text)}: the ${scheme} path is missing`, 'spec');
    }
    return describeBackend(scheme, { ...options, [scheme === 'file' ? 'baseDir' : 'dbPath']: path }, cwd);
  }
  if (location !== '') {
    throw new ConfigError(
      `Invalid backend spec ${shownSpec(text)}: backend "${scheme}" takes options only (${scheme}:?key=value); ${SPEC_HELP}`,
      'spec',
    );
  }
  return describeBackend(scheme, options, cwd);
}
