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
}

/**
 * Tracks the open connections of one pool, from its events that come once per connection
 * (none per call: `release` would cost every call a listener).
 */
export class LiveConnections {
  private readonly opened = new Set<PooledConnection>();

  /**
   * Starts tracking `pool` (before its first connection); `onOpen` hears each new connection
   * (the gate's `connectionOpened`, core/call-gate.ts).
   */
  constructor(
    private readonly pool: PoolEvents,
    onOpen: () => void = () => undefined,
  ) {
    pool.on('connect', (client) => {
      this.opened.add(client);
      onOpen();
    });
    pool.on('remove', (client) => this.opened.delete(client));
  }

  /**
   * Connections open and usable now, not counting ones still opening. pg-pool drops a
   * connection it discards (released with an error, failed while idle, timed out idle) from
   * `totalCount` at once, but says `remove` only once it has ended: the smaller of the two
   * counts is exact unless a connection is opening while another is ending.
   */
  get count(): number {
    return Math.min(this.opened.size, this.pool.totalCount);
  }

  /**
   * Connections open or still opening now (the pool's `totalCount`; a refused one is dropped
   * from it before its caller hears). A refusal while others are opening is not the server
   * refusing the store entirely: they may open yet (the server let them in first).
   */
  get openOrOpening(): number {
    return this.pool.totalCount;
  }
}
