/** Helpers shared by backends that hold a connection (SQLite, Redis, PostgreSQL). */
import { settledWithin } from './waits.js';

/** Anything that can be closed. */
export interface Closable {
  /** Closes it; resolves once it is closed. */
  close(): Promise<void>;
}

/** How {@link openPrepared} closes a connection whose preparation failed. */
export interface FailedOpenClose {
  /**
   * How long to wait for the close before giving up on it and rejecting with the preparation
   * error anyway; without it the wait has no limit.
   */
  waitMillis: number;
  /** Told when the close did not settle within `waitMillis` (it is left running). */
  onStuck: () => void;
}

/**
 * Opens a connection and prepares it (schema, layout checks). If preparing fails, the
 * connection is closed before the error is rethrown, so a failed `initialize()` leaks nothing;
 * with `failedClose`, a close that does not settle in time is given up on, so the failure
 * always reaches the caller.
 */
export async function openPrepared<C extends Closable>(
  open: () => Promise<C>,
  prepare: (connection: C) => Promise<void>,
  failedClose?: FailedOpenClose,
): Promise<C> {
  const connection = await open();
  try {
    await prepare(connection);
  } catch (error) {
    // The preparation error is the one worth reporting; a failing close must not hide it.
    const closing = connection.close().catch(() => undefined);
    await (failedClose === undefined ? closing : settleWithin(closing, failedClose));
    throw error;
  }
  return connection;
}

/** Waits for `closing` up to `waitMillis`, then tells `onStuck` and stops waiting. */
async function settleWithin(closing: Promise<void>, { waitMillis, onStuck }: FailedOpenClose): Promise<void> {
  if (!(await settledWithin(closing, waitMillis))) onStuck();
}
