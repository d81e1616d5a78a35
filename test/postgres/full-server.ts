/**
 * A private server at its connection limit, for the tests of a store whose new connections
 * are refused with SQLSTATE 53300: other clients ("holders") take the slots the store is not
 * to have, and a monitor connection counts the client backends, the store's among them (by
 * `application_name`). The server must run with no reserved slots
 * (`superuser_reserved_connections` 0), so the superuser the holders connect as meets the limit.
 */
import pg from 'pg';
import type { PrivatePostgres } from './private-server.js';

/** Client backends on the server now, and the store's among them. */
export interface Counts {
  all: number;
  store: number;
}

/** The holders and the monitor of one test; {@link open} before use, {@link close} after. */
export class FullServer {
  /** The clients holding slots (see {@link fill}). */
  readonly holders: pg.Client[] = [];
  private monitor: pg.Client | undefined;

  /**
   * @param server the private server.
   * @param maxConnections its `max_connections`.
   * @param app the store's `application_name`, which {@link counts} tells apart.
   */
  constructor(
    private readonly server: () => PrivatePostgres,
    readonly maxConnections: number,
    readonly app: string,
  ) {}

  /** A client holding one slot (or the refusal of one), as the superuser. */
  async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.server().url, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /**
   * Opens the monitor (a slot of its own) and waits (up to 5 s) until it is the server's only
   * client backend: the backends of an earlier test's clients leave `pg_stat_activity` a moment
   * after their clients closed, and {@link fill} counting one of them would leave a slot that
   * frees itself during the test, for the store to take.
   */
  async open(): Promise<void> {
    this.monitor = await this.connect();
    for (const deadline = Date.now() + 5000; (await this.counts()).all > 1 && Date.now() < deadline;)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Lets the holders' slots go and closes the monitor. */
  async close(): Promise<void> {
    await this.free();
    await this.monitor?.end();
    this.monitor = undefined;
  }

  /** Runs a statement on the monitor (a superuser session). */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    if (this.monitor === undefined) throw new Error('FullServer used before open()');
    return (await this.monitor.query<R>(text, values)).rows;
  }

  /** The client backends now, and the store's. */
  async counts(): Promise<Counts> {
    const [row] = await this.query<{ all: number; store: number }>(
      `SELECT count(*)::int AS all, (count(*) FILTER (WHERE application_name = $1))::int AS store
       FROM pg_stat_activity WHERE backend_type = 'client backend'`,
      [this.app],
    );
    return row!;
  }

  /**
   * Takes slots until `free` are left for others. A backend that just ended (terminated) leaves
   * `pg_stat_activity` a moment before it frees its slot: a refused holder tries again.
   */
  async fill(free: number): Promise<void> {
    const { all } = await this.counts();
    for (let i = all; i < this.maxConnections - free; i += 1) this.holders.push(await this.holder());
  }

  /** {@link connect}, again after a refusal for want of slots (for up to a second). */
  private async holder(): Promise<pg.Client> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.connect();
      } catch (error) {
        if ((error as { code?: string }).code !== '53300' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** Lets every holder's slot go (the other service closes its connections). */
  async free(): Promise<void> {
    for (const client of this.holders.splice(0)) await client.end().catch(() => undefined);
  }

  /** Samples {@link counts} every 10 ms until `done` settles; returns the largest seen. */
  async watch(done: Promise<unknown>): Promise<Counts> {
    const most = { all: 0, store: 0 };
    let settled = false;
    void done.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      const now = await this.counts();
      most.all = Math.max(most.all, now.all);
      most.store = Math.max(most.store, now.store);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return most;
  }
}
