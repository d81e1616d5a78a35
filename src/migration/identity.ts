/**
 * Store identities in their canonical form: how the CLI's same-store check and the resume
 * marker tell whether two identities name one store. A Redis or PostgreSQL identity is
 * `<type>://<host>:<port>/<database>#<prefix or schema>` (the CLI's `describeBackend`); its host
 * is compared canonically, so that `localhost`, `127.0.0.1` and `[::1]` (and pg's `?host=::1`
 * beside `[::1]`) are one store both for the same-store refusal and for resuming. Any other
 * identity (a path, an opaque `sourceId` of the API) is compared as it is.
 */

/** `<type>://<host>:<port><rest>`; the host up to the first `:port/` (it may hold `:` or `/`). */
const NETWORK_IDENTITY = /^(redis|postgres):\/\/(\[[^\]]*\]|[\s\S]*?):(\d+)(\/[\s\S]*)$/;

/**
 * The names of the local host as a WHATWG URL writes them: the loopback address's, and the
 * unspecified addresses `0.0.0.0` and `::`, which a client connecting to them reaches the local
 * host by (Linux, macOS): `redis://0.0.0.0` is the server `redis://127.0.0.1` is.
 */
const LOOPBACK = new Set([
  'localhost',
  'localhost.',
  '127.0.0.1',
  '[::1]',
  '[::ffff:7f00:1]',
  '0.0.0.0',
  '[::]',
  '[::ffff:0:0]',
]);

/**
 * A host name as identities compare it: lower case, an IPv6 address bracketed, an IPv4 address
 * in the form a resolver reads it as (`127.1`, `0x7f.0.0.1` are `127.0.0.1`), and every name of
 * the loopback address (`localhost`, `127.0.0.1`, `::1`, `::ffff:127.0.0.1`) and of the
 * unspecified one (`0.0.0.0`, `::`; until 2026-12-04 another host) `localhost`. Only those:
 * other names are not looked up (no DNS), and other 127.x.y.z addresses stay apart (a server
 * bound to 127.0.0.1 does not answer on them). A socket folder (pg's `host=/run/...`)
 * is a path and keeps its case: `/tmp/A` and `/tmp/a` are two folders, two servers. (Identities
 * before 2026-12-03 lower-cased it too; such a marker of a folder with capitals cannot be told
 * from one of the lower-case folder, so it is foreign now: refused, or finished with `merge`.)
 * `host` is percent-encoded as a URL writes it and decoded once, as pg does; a `%` left in the
 * result is written `%25` ({@link escapePercent}).
 */
export function canonicalHost(host: string): string {
  // pg decodes a URL's host (a socket folder is written `%2Fvar%2Frun...`); a WHATWG URL keeps
  // a postgres:// or redis:// host percent-encoded, so `%2F...` and `/...` are decoded alike.
  const decoded = decodeWith(decodeURIComponent, host);
  if (decoded === '' || decoded.startsWith('/')) return escapePercent(decoded);
  // Host names are case-insensitive (DNS): only they are lower-cased.
  const bare = decoded.toLowerCase().replace(/^\[([\s\S]*)\]$/, '$1');
  const http = `http://${bare.includes(':') ? `[${bare}]` : bare}/`;
  const name = URL.canParse(http) ? new URL(http).hostname : bare;
  return LOOPBACK.has(name) ? 'localhost' : escapePercent(name);
}

/**
 * `text` with each `%` written `%25`: how a decoded host or database is kept in an identity, so
 * that the canonical form decodes back to itself. An identity is made canonical more than once
 * (by the CLI, then by each comparison and the resume marker); without this each pass decoded
 * again, and a database pg reads as `a%41` (its URL path `/a%2541`) became `aA`: two databases
 * were one store to the same-store check and the resume marker.
 */
export function escapePercent(text: string): string {
  return text.replaceAll('%', '%25');
}

/** `text` decoded by `decode`, or as it is when it holds a malformed escape. */
function decodeWith(decode: (text: string) => string, text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decode(text);
  } catch {
    return text;
  }
}

/** A port as the drivers read it (a number: `05432` is `5432`). */
export function canonicalPort(port: string): string {
  return /^\d+$/.test(port) ? String(Number(port)) : port;
}

/**
 * A PostgreSQL database name as pg reads it from a URL's path: `decodeURI`, which decodes
 * every escape but those of reserved characters (`%2F` stays: a database may be named so),
 * then each `%` of the name escaped again ({@link escapePercent}).
 */
export function canonicalPgDatabase(database: string): string {
  return escapePercent(decodeWith(decodeURI, database));
}

/**
 * A Redis database number as ioredis reads it (`parseInt`: `01` and `1/` are database 1);
 * anything that reads as no number is kept as it is.
 */
export function canonicalRedisDb(db: string): string {
  const n = Number.parseInt(db, 10);
  return Number.isNaN(n) ? db : String(n);
}

/**
 * An identity in canonical form: a Redis or PostgreSQL identity with its host
 * ({@link canonicalHost}), port and database made canonical (a PostgreSQL database decoded as
 * pg reads it, {@link canonicalPgDatabase}; a Redis one a number, {@link canonicalRedisDb});
 * anything else unchanged. Markers written before identities were canonical (host, port and
 * database as spelled) map to the same form, so an earlier run still resumes.
 */
export function canonicalStoreId(identity: string): string {
  const match = NETWORK_IDENTITY.exec(identity);
  if (match === null) return identity;
  const [, type, host, port, rest] = match as unknown as [string, string, string, string, string];
  // `/<database>#<prefix or schema>`: a URL's path holds no `#`, so the first one ends the database.
  const hash = rest.indexOf('#');
  const database = (hash < 0 ? rest : rest.slice(0, hash)).slice(1);
  const scope = hash < 0 ? '' : rest.slice(hash);
  const canonical = type === 'postgres' ? canonicalPgDatabase(database) : canonicalRedisDb(database);
  return `${type}://${canonicalHost(host)}:${canonicalPort(port)}/${canonical}${scope}`;
}

/** Whether two store identities name one store (equal in canonical form). */
export function sameStoreId(a: string, b: string): boolean {
  return a === b || canonicalStoreId(a) === canonicalStoreId(b);
}
