/**
 * How the PostgreSQL backend reads `pg` driver errors: which ones mean "the server cannot
 * serve us right now" (a {@link BackendUnavailableError}, worth a retry later), which are a
 * deadlock victim or a client-side timeout, and the typed error a call rejects with.
 */
import { BackendUnavailableError, ConfigError, redactUrlsInText, StorageError } from '../../core/index.js';

// SQLSTATE classes that mean "the server cannot serve us right now" rather than "bad request":
// 08 connection exception, 28 invalid authorization, 53 insufficient resources (too many
// connections, disk full), 57P0x server shutting down / starting up, 3D000 no such database,
// 57014 statement timeout (query canceled), 55P03 lock timeout (`lock_timeout`, from the URL or
// the role: a lock another session held too long, busy as a statement timeout on the same wait;
// until 2026-12-06 a plain StorageError).
const UNAVAILABLE_SQLSTATE = /^(08|28|53|57P0|3D000|57014|55P03)/;

/**
 * A write in a read-only transaction. On a writable store it is the server refusing writes
 * (a hot standby the address now points at after a failover, `default_transaction_read_only`
 * set by a DBA): unavailable for writing, as Redis's `READONLY` reply. On a store opened
 * read-only the core refuses writes before any I/O, so one reaching the server is a bug of
 * ours that no retry cures: a plain {@link StorageError}.
 */
const READ_ONLY_SQLSTATE = '25006';

/**
 * Insufficient privilege: the role lacks a grant (a table, a sequence, a function of the
 * schema). No retry cures it, and the server's message names the object: a
 * {@link ConfigError}, as a Redis ACL refusal (until 2026-12-05 a plain StorageError).
 */
const PRIVILEGE_SQLSTATE = '42501';

// Failures before or outside a server reply: a Node socket code (ECONNREFUSED, ENOTFOUND,
// ECONNRESET...) or the driver's own connection messages (connect timeout, terminated, pool ended).
const NETWORK_CODE = /^E[A-Z]+$/;
const CONNECTION_MESSAGE = /connect|terminated|timeout|not queryable|after calling end/i;

/**
 * pg-pool's error for a call that waited `connectionTimeoutMillis` in the pool's queue, every
 * connection busy (a new connection that does not open in time is "Connection terminated due to
 * connection timeout" instead).
 */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * Whether `error` is pg-pool's queue timeout ({@link POOL_WAIT_TIMEOUT}): the call never had a
 * connection, so no statement of it ran.
 */
export function isPoolWaitTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === POOL_WAIT_TIMEOUT;
}

/** A pool's counts at a failure (`PostgresPool`'s fields). */
interface PoolCounts {
  readonly totalCount: number;
  readonly waitingCount: number;
}

/**
 * What a pool-queue timeout means, for the call's message; `''` for any other error. The
 * driver's words read as an unreachable server, yet the connections were open and busy. The
 * storage's own queue (core/call-gate.ts) lets at most {@link POOL_QUEUE_ALLOWANCE} calls into
 * pg-pool's queue, and an owned pool's call that timed out there waits once more in the
 * storage's queue, so this comes from a given pool whose connections the application holds
 * too, or a server that stopped answering (until 2026-12-05 also from any burst larger than
 * the pool served within the timeout). `owned`: the storage made the pool, so
 * its options are named; a given pool's are the caller's.
 */
export function poolWaitNote(error: unknown, pool: PoolCounts, owned: boolean): string {
  if (!(error instanceof Error) || error.message !== POOL_WAIT_TIMEOUT) return '';
  const options = owned
    ? '`max` or `connectionTimeoutMillis`'
    : "the given pool's size or connectionTimeoutMillis";
  return (
    ` (no pooled connection came free in time: ${pool.totalCount} open, all busy, ${pool.waitingCount} more calls` +
    ` waiting; send fewer calls at once or raise ${options}, or the server stopped answering statements)`
  );
}

/**
 * How many calls past the pool's `max` go on into pg-pool's own queue (with its timer per call)
 * instead of waiting in the storage's (core/call-gate.ts). pg-pool hands a released connection
 * straight to its next queued call; a call resumed from the storage's queue takes it through
 * pg-pool's idle path instead, which cost 10-20% client CPU at 64 concurrent calls. With 64,
 * an ordinary load of up to `max` + 64 calls never waits in the storage's queue, and a call
 * waits in pg-pool's behind at most 64 / `max` statements, far under any timeout.
 */
export const POOL_QUEUE_ALLOWANCE = 64;

/** The SQLSTATE of a server error, if `error` is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether `error` is the server's deadlock victim (worth running the same work again). */
export function isDeadlock(error: unknown): boolean {
  return sqlState(error) === '40P01';
}

/**
 * How many times a statement or transaction the server chose as a deadlock victim (SQLSTATE
 * 40P01) runs again. The server rolled the victim back whole, so running it again applies it
 * once; the other side of the deadlock has gone on, so a retry usually succeeds at once.
 */
export const DEADLOCK_RETRIES = 5;

/**
 * A short random pause before retry `attempt` (from 1): 5 to 25 ms times the attempt, so two
 * victims of one cycle do not meet again in lockstep.
 */
export function deadlockBackoff(attempt: number): Promise<void> {
  const ms = attempt * (5 + Math.random() * 20);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether `error` (a driver error, or the typed error wrapping one) is the server refusing a
 * write (SQLSTATE 25006: a hot standby, `default_transaction_read_only`).
 */
export function isWriteRefused(error: unknown): boolean {
  if (sqlState(error) === READ_ONLY_SQLSTATE) return true;
  return error instanceof StorageError && sqlState(error.cause) === READ_ONLY_SQLSTATE;
}

/**
 * SQLSTATEs only a new connection gets: 28 (login refused), 3D000 (no such database), 53300
 * (too many connections), 57P03 (starting up or shutting down).
 */
const CONNECT_SQLSTATE = /^(28|3D000|53300|57P03)/;

/**
 * Whether `error` is the server refusing a new connection for want of slots (SQLSTATE 53300:
 * "sorry, too many clients already", "remaining connection slots are reserved ...", a role's or
 * database's connection limit): a server that serves the connections already open.
 */
export function isTooManyConnections(error: unknown): boolean {
  return sqlState(error) === '53300';
}

/** Socket codes of a connect that found no server (an established connection resets instead). */
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether `error` is a new connection that failed (no server there, it refused us, or it did
 * not answer within `connectionTimeoutMillis`): the calls waiting behind it would each try
 * the same server next, so they reject with it at once (core/call-gate.ts).
 */
export function isConnectFailure(error: unknown): boolean {
  if (messageOf(error) === 'Connection terminated due to connection timeout') return true;
  const state = sqlState(error);
  if (state !== undefined) return CONNECT_SQLSTATE.test(state);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECT_CODES.has(code);
}

/**
 * Whether `error` came from the connection rather than the server's answer (a socket error,
 * a connect or client timeout, a terminated connection): such a call is no sign of progress.
 */
export function isConnectionTrouble(error: unknown): boolean {
  if (sqlState(error) !== undefined) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && NETWORK_CODE.test(code)) || CONNECTION_MESSAGE.test(messageOf(error));
}

/**
 * An error's message, read without `instanceof Error`: Node's socket errors come from another
 * realm than a test runner's (or a worker's) `Error`.
 */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

/** The error `pg` gives when a statement's `query_timeout` ran out (the connection is unusable). */
export function isClientTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/**
 * An error's message with the password of any URL in it masked, should the driver ever echo
 * one; only the password field changes (a password that is also a word, such as `postgres`,
 * leaves "role "postgres"" intact).
 */
export function describeDriverError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactUrlsInText(message);
}

/**
 * Wraps a driver error in the library's typed errors, naming what was being done (`what`) and
 * where (`label`, a redacted URL); `readOnly` is whether the store was opened read-only;
 * `credentialsKey` the option that picks the role (`url`, or `pool` for a given pool); `note`
 * follows the driver's message (see {@link poolWaitNote}).
 */
export function driverErrorToStorageError(
  label: string,
  what: string,
  error: unknown,
  readOnly: boolean,
  credentialsKey: 'url' | 'pool' = 'url',
  note = '',
): StorageError {
  if (error instanceof StorageError) return error;
  const state = sqlState(error);
  const text = `postgres storage (${label}): ${what} failed: ${describeDriverError(error)}${note}`;
  if (state !== undefined) {
    if (UNAVAILABLE_SQLSTATE.test(state)) return new BackendUnavailableError(text, error);
    if (state === READ_ONLY_SQLSTATE && !readOnly) {
      return new BackendUnavailableError(
        `${text} (SQLSTATE ${state}: the server accepts no writes: a standby, or default_transaction_read_only)`,
        error,
      );
    }
    if (state === PRIVILEGE_SQLSTATE) {
      return new ConfigError(
        `${text} (SQLSTATE ${state}: the role lacks this privilege; README, postgres, "Roles and grants", lists an app role's grants)`,
        credentialsKey,
        error,
      );
    }
    return new StorageError(`${text} (SQLSTATE ${state})`, { cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  if ((typeof code === 'string' && NETWORK_CODE.test(code)) || CONNECTION_MESSAGE.test(message)) {
    return new BackendUnavailableError(text, error);
  }
  return new StorageError(text, { cause: error });
}
