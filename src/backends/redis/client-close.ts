/**
 * Closes an ioredis client the storage opened, and resolves once its socket is closed, not on
 * QUIT's reply: until 2026-12-05 `shutdown()` resolved with the socket still open for a round
 * trip (the server's FIN), so a caller counting descriptors right after found it.
 */
import type { Redis } from 'ioredis';
import { settledWithin, withTimeout } from '../../core/waits.js';

/** How long QUIT may take before the socket is closed without its answer. */
export const QUIT_TIMEOUT_MS = 1000;

/**
 * How long a closing socket may wait for the server's side (ioredis's `disconnectTimeout`,
 * whose default, 2 s, kept a process alive that long).
 */
export const DISCONNECT_TIMEOUT_MS = 500;

/** Resolves when the client has ended (its socket closed), at once when it already has. */
function whenEnded(client: Redis): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  return new Promise((resolve) => client.once('end', () => resolve()));
}

/**
 * Closes a client whose open failed (it may never have connected, or be between retries), and
 * resolves once its socket is closed, so a failed `initialize()` holds no connection when it
 * rejects, as after a `shutdown()`. No QUIT: a client not connected would hold it (no offline
 * queue) or send it on a reconnect; the disconnect ends the socket, and the server, reading
 * the end, drops its client and closes its side, which is the `end` awaited.
 */
export async function closeFailedClient(client: Redis): Promise<void> {
  const ended = whenEnded(client);
  client.disconnect();
  await settledWithin(ended, DISCONNECT_TIMEOUT_MS + 100);
}

/**
 * Sends QUIT (bounded by {@link QUIT_TIMEOUT_MS}), then closes the connection and waits for
 * the client's `end`, which ioredis emits on the socket's `close`: the descriptor is released.
 * A dead server costs at most the QUIT timeout: its socket is destroyed without waiting.
 */
export async function closeClient(client: Redis): Promise<void> {
  // Listening before QUIT: the server's close may come in the same read as its reply.
  const ended = whenEnded(client);
  let answered = false;
  try {
    await withTimeout(client.quit(), QUIT_TIMEOUT_MS, () => new Error('quit timed out'));
    answered = true;
  } catch {
    // Closing anyway below.
  }
  // Marks the close as ours (no reconnect) and ends our side; after its reply to QUIT the
  // server closes its own, so the socket closes within a round trip.
  client.disconnect();
  // A server that left QUIT unanswered will not close its side either (ioredis would wait
  // disconnectTimeout for it): destroyed now.
  if (!answered) client.stream?.destroy();
  // ioredis destroys a socket still open after disconnectTimeout itself; the margin only
  // keeps a client that never reports its end from holding up shutdown().
  await settledWithin(ended, DISCONNECT_TIMEOUT_MS + 100);
}
