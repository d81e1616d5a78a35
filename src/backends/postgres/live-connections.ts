/**
 * How many connections of a pool the storage owns are open and usable: when the server refuses
 * a new one for want of slots (SQLSTATE 53300), the calls can wait for these instead of failing
 * (gate-turns.ts). The pool's `totalCount` alone will not do: it counts the connections still
 * opening too, which a burst's refusals arrive among.
 */

/** A pooled connection as the pool's events hand it over. */
type PooledConnection = object;

/**
 * The pool events tracked (a `pg.Pool` emits them). Declared here, not taken from `pg`, so the
 * published declarations do not need `@types/pg`.
 */
interface PoolEvents {
  /** Connections open now, opening ones included (pg-pool drops a failed or removed one at once). */
  readonly totalCount: number;
  on(event: 'connect' | 'remove', listener: (client: PooledConnection) => void): unknown;
  on(event: 'release', listener: (error: unknown, client: PooledConnection) => void): unknown;
  on(event: 'error', listener: (error: unknown, client?: PooledConnection) => void): unknown;
}

/** Tracks the open connections of one pool (from its events). */
export class LiveConnections {
  private readonly open = new Set<PooledConnection>();

  /** Starts tracking `pool` (before its first connection). */
  constructor(private readonly pool: PoolEvents) {
    pool.on('connect', (client) => this.open.add(client));
    // pg-pool discards a connection released with an error, and an idle one that failed, at
    // once; its `remove` comes only once the connection has ended.
    pool.on('release', (error, client) => {
      if (error) this.open.delete(client);
    });
    pool.on('error', (_error, client) => {
      if (client !== undefined) this.open.delete(client);
    });
    pool.on('remove', (client) => this.open.delete(client));
  }

  /** Connections open and usable now (not counting ones still opening). */
  get count(): number {
    // A connection pg-pool dropped without an error (ended, used up) left `totalCount` already.
    return Math.min(this.open.size, this.pool.totalCount);
  }
}
