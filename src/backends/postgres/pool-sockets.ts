/**
 * The connections of a pool the storage owns whose sockets are still open, so that closing the
 * store can close them. pg-pool's `end()` resolves once it has asked every connection to end
 * (queued its Terminate message and FIN), not when their sockets have closed, which pg leaves to
 * the server's FIN: until 2026-12-05 `shutdown()` resolved with every pooled socket still open
 * (on a live server for the 20-90 ms its backends take to exit, on a dead path until TCP gave up).
 */
import { settledWithin } from '../../core/waits.js';

/** The part of a connection's socket used here (a `net.Socket`). */
interface PooledStream {
  /** True once everything written, the FIN included, is handed to the kernel. */
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
  destroy(): void;
}

/** A pooled connection as the pool's `connect` event hands it over (a `pg.Client`). */
interface PooledClient {
  once(event: 'end', listener: () => void): unknown;
  /** pg's connection and its socket. */
  readonly connection?: { readonly stream?: PooledStream };
}

/** The pool event tracked (a `pg.Pool` emits it once per new connection). */
interface PoolConnectEvents {
  on(event: 'connect', listener: (client: PooledClient) => void): unknown;
}

/**
 * How long a close waits for a connection's goodbye (Terminate and FIN) to reach the kernel: at
 * once, unless its send buffer is full (a dead network path under a large write).
 */
export const SOCKET_CLOSE_WAIT_MS = 1000;

/** Resolves when everything written to `stream` is handed to the kernel, or the stream is gone. */
function flushed(stream: PooledStream): Promise<void> {
  if (stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', resolve);
    stream.once('close', resolve);
  });
}

/** Tracks which connections of one pool still have their socket open. */
export class PoolSockets {
  private readonly open = new Set<PooledClient>();

  /** Starts tracking `pool` (before its first connection). */
  constructor(pool: PoolConnectEvents) {
    pool.on('connect', (client) => {
      this.open.add(client);
      // pg emits a client's `end` after its socket's `close`.
      client.once('end', () => this.open.delete(client));
    });
  }

  /**
   * Closes every tracked socket (call it after the pool's `end()`) once its goodbye is handed to
   * the kernel, which delivers it after the close as it would before: the server still reads a
   * Terminate and a FIN. Waits at most `waitMs` for that, then closes anyway.
   */
  async closed(waitMs: number = SOCKET_CLOSE_WAIT_MS): Promise<void> {
    const streams: PooledStream[] = [];
    for (const client of this.open) if (client.connection?.stream) streams.push(client.connection.stream);
    this.open.clear();
    if (streams.length === 0) return;
    await settledWithin(Promise.all(streams.map(flushed)), waitMs);
    // Closes the descriptor now; the server's own FIN, a round trip later, is the kernel's.
    for (const stream of streams) stream.destroy();
  }
}
