/**
 * Loading `pg` and the session options of a store's own pool (moved out of `connection.ts`,
 * which holds the rules for using the pool).
 */
import type { Pool } from 'pg';
import { BackendUnavailableError, redactUrl } from '../../core/index.js';
import { librarySetPgOption } from '../../core/url-params.js';
import type { ResolvedPostgresConfig } from './config.js';

/**
 * The part of the `pg` module this backend uses. @internal (with {@link loadPg} and
 * {@link createPool}: kept out of the declarations, which must not need `@types/pg`)
 */
export type PgModule = { Pool: typeof Pool };

/** Loads `pg` on first use, so the library loads (and other backends work) without it. @internal */
export async function loadPg(): Promise<PgModule> {
  try {
    // pg is CommonJS: an ES import exposes it as `default`; the ES and CommonJS typings disagree.
    const mod = (await import('pg')) as unknown as PgModule & { default?: PgModule };
    return mod.default ?? mod;
  } catch (error) {
    throw new BackendUnavailableError(
      'The postgres storage backend needs the "pg" package: npm install pg',
      error,
    );
  }
}

/**
 * The `PGOPTIONS` pg sends as the session's `options` for `url`, or `null`: pg reads the
 * variable when neither the URL nor the pool's config gives options (an empty one gives none).
 */
function envOptionsFor(url: string, env: NodeJS.ProcessEnv): string | null {
  const options = env.PGOPTIONS;
  if (options === undefined || options === '') return null;
  const given = URL.canParse(url) ? new URL(url).searchParams.get('options') : null;
  return given === null || given === '' ? options : null;
}

/**
 * What to warn about a `PGOPTIONS` that pg sends for `url` when it sets a session setting the
 * library sets itself (`-c statement_timeout=5`), or `null`: the pool's own startup parameter
 * wins over `options`, so the variable's value does not apply (until 2026-12-06 silently). A
 * warning, not a refusal as for a URL's `?options=` (see `url-params.ts`): the variable is the
 * whole process's, often set for other clients (psql), and the library's setting stands.
 */
export function pgOptionsEnvOverride(url: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const options = envOptionsFor(url, env);
  const set = options === null ? null : librarySetPgOption(options);
  if (set === null) return null;
  return (
    `postgres storage: PGOPTIONS=${JSON.stringify(options)}, which pg reads for ${redactUrl(url)} ` +
    `(it gives no options), sets ${set.name}, which the library sets itself: the library's value ` +
    `applies (give ${set.option} to change it)`
  );
}

/** The server setting a read-only store's sessions carry. */
const READ_ONLY_OPTION = '-c default_transaction_read_only=on';

/**
 * The URL and session `options` of a store's own pool. pg reads a URL's `?options=` over the
 * pool's, so for a read-only store the URL's are moved into the pool's, followed by the
 * read-only setting (a later `-c` wins): a URL's options (e.g. a `search_path`) cannot drop it.
 * pg reads `PGOPTIONS` only when no options are given, so a read-only store's own dropped it
 * whole (until 2026-12-06: a `search_path` or `lock_timeout` there applied to writable stores
 * only); it goes in before the read-only setting too, where pg would have read it.
 */
export function readOnlySession(
  config: ResolvedPostgresConfig,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; options?: string } {
  if (!config.readOnly) return { url: config.url };
  const fromEnv = envOptionsFor(config.url, env);
  const parsed = URL.canParse(config.url) ? new URL(config.url) : null;
  const given = parsed?.searchParams.getAll('options') ?? [];
  parsed?.searchParams.delete('options');
  const url = parsed === null || given.length === 0 ? config.url : parsed.toString();
  const options = [...given, fromEnv ?? '', READ_ONLY_OPTION].filter((part) => part !== '');
  return { url, options: options.join(' ') };
}

/** How much longer than `statementTimeoutMillis` the client waits for a reply before giving up. */
const CLIENT_TIMEOUT_MARGIN_MILLIS = 5000;

/** How long a pooled connection stays open unused. */
const IDLE_TIMEOUT_MILLIS = 10_000;

/** A store's own pool for `config.url` (connects lazily). @internal */
export async function createPool(config: ResolvedPostgresConfig): Promise<Pool> {
  const pg = await loadPg();
  const { url, options } = readOnlySession(config);
  return new pg.Pool({
    connectionString: url,
    max: config.max,
    // The driver's default, 0, waits for a connection forever. With the storage's own queue in
    // front (core/call-gate.ts), pg-pool's queue holds at most POOL_QUEUE_ALLOWANCE calls, which
    // drain in a few statements' time: this times connects, and a server that stopped answering.
    connectionTimeoutMillis: config.connectionTimeoutMillis,
    statement_timeout: config.statementTimeoutMillis,
    // The server's statement_timeout cannot answer over a dead network path (no FIN, no
    // RST): without a client-side bound a call waited for TCP keepalive, hours. A little
    // later than the server's, so a live server's own timeout error comes first.
    query_timeout: config.statementTimeoutMillis + CLIENT_TIMEOUT_MARGIN_MILLIS,
    // A process that dies inside a transaction would otherwise hold its locks until the
    // server notices the dead socket; ours never leave a transaction idle that long.
    idle_in_transaction_session_timeout: config.statementTimeoutMillis,
    // An idle connection whose path died silently costs the call that next takes it up to
    // query_timeout, which then closes the other idle ones (IdleConnections); closing idle
    // ones soon too (pg-pool's default, set so it cannot drift) bounds how long one lingers.
    // TCP keepalive cannot find it sooner: Node sets only its start, and Linux then waits 9
    // probes 75 s apart.
    idleTimeoutMillis: IDLE_TIMEOUT_MILLIS,
    keepAlive: true,
    application_name: 'connectome-storage',
    // Idle pooled connections alone do not keep the process running.
    allowExitOnIdle: true,
    // Read-only: the server itself refuses any write, should one ever slip past the core.
    ...(options !== undefined ? { options } : {}),
  });
}
