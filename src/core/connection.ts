/** Helpers shared by backends that hold a connection (SQLite, Redis, PostgreSQL). */

/** Anything that can be closed. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Opens a connection and prepares it (schema, layout checks). If preparing fails, the
 * connection is closed before the error is rethrown, so a failed `initialize()` leaks nothing.
 */
export async function openPrepared<C extends Closable>(
  open: () => Promise<C>,
  prepare: (connection: C) => Promise<void>,
): Promise<C> {
  const connection = await open();
  try {
    await prepare(connection);
  } catch (error) {
    // The preparation error is the one worth reporting; a failing close must not hide it.
    await connection.close().catch(() => undefined);
    throw error;
  }
  return connection;
}
