/**
 * The idle connections of a pool the storage owns, so that a call whose reply never came (a
 * client-side timeout: the network path to the server is likely dead, with no FIN or RST to
 * tell) can close them at once: they share that path, and each call that took one next would
 * wait a whole timeout on it before the pool's idle timeout closed it.
 */
import type { EventEmitter } from 'node:events';

/** A pooled connection as the pool's events hand it over (a `pg.PoolClient` is an EventEmitter). */
type PooledConnection = Pick<EventEmitter, 'emit' | 'listenerCount'>;

/**
 * The pool events tracked (a `pg.Pool` emits them). Declared here, not taken from `pg`, so the
 * published declarations do not need `@types/pg`.
 */
interface PoolEvents {
  on(event: 'acquire' | 'remove', listener: (client: PooledConnection) => void): unknown;
  on(event: 'release', listener: (error: Error | undefined, client: PooledConnection) => void): unknown;
}

/**
 * The error an idle connection is closed with. pg-pool's own listener on an idle connection
 * removes and ends a connection that emits an error (its one public way to drop an idle one);
 * the pool then reports it, which the storage's pool listener skips.
 */
export class ClosedAfterTimeout extends Error {
  constructor() {
    super('closed: another connection of the pool timed out (network path likely dead)');
    this.name = 'ClosedAfterTimeout';
  }
}

/** Tracks which connections of one pool are idle (from the pool's events) and closes them on demand. */
export class IdleConnections {
  private readonly idle = new Set<PooledConnection>();

  /** Starts tracking `pool` (before its first connection). */
  constructor(pool: PoolEvents) {
    pool.on('acquire', (client) => this.idle.delete(client));
    pool.on('release', (error, client) => {
      if (error) this.idle.delete(client);
      else this.idle.add(client);
    });
    pool.on('remove', (client) => this.idle.delete(client));
  }

  /**
   * Closes every connection idle now; returns how many. Connections in use are left alone:
   * their calls end on their own reply or timeout. A live connection closed by mistake costs
   * only a reconnect.
   */
  closeAll(): number {
    const clients = [...this.idle];
    this.idle.clear();
    // Every pooled connection carries pg-pool's listener; the check only keeps an emit from throwing.
    for (const client of clients)
      if (client.listenerCount('error') > 0) client.emit('error', new ClosedAfterTimeout());
    return clients.length;
  }
}
