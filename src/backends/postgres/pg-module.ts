/**
 * Loading `pg` and the session options of a store's own pool (moved out of `connection.ts`,
 * which holds the rules for using the pool).
 */
import type { Pool } from 'pg';
import { BackendUnavailableError } from '../../core/index.js';
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

/** The server setting a read-only store's sessions carry. */
const READ_ONLY_OPTION = '-c default_transaction_read_only=on';

/**
 * The URL and session `options` of a store's own pool. pg reads a URL's `?options=` over the
 * pool's, so for a read-only store the URL's are moved into the pool's, followed by the
 * read-only setting (a later `-c` wins): a URL's options (e.g. a `search_path`) cannot drop it.
 */
export function readOnlySession(config: ResolvedPostgresConfig): { url: string; options?: string } {
  if (!config.readOnly) return { url: config.url };
  if (!URL.canParse(config.url)) return { url: config.url, options: READ_ONLY_OPTION };
  const url = new URL(config.url);
  const given = url.searchParams.getAll('options');
  if (given.length === 0) return { url: config.url, options: READ_ONLY_OPTION };
  url.searchParams.delete('options');
  return { url: url.toString(), options: [...given, READ_ONLY_OPTION].join(' ') };
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
