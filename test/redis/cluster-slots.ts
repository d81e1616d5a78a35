/**
 * Drives a slot migration of a test cluster by hand, step by step (what `redis-cli --cluster
 * reshard` does per slot): `begin` marks the slot IMPORTING on the target and MIGRATING on its
 * owner, `move` migrates chosen keys, `finish` moves the rest and gives the slot to the target.
 * Tests act between the steps, so the topology changes at a point they control.
 */
import Redis from 'ioredis';
import type { RedisClusterProcesses } from './redis-server.js';

/** One slot's migration from its owner to another master. */
export class SlotMigration {
  private finished = false;

  private constructor(
    readonly slot: number,
    private readonly source: Redis,
    private readonly target: Redis,
    private readonly targetPort: number,
    private readonly nodeIds: { source: string; target: string },
    private readonly admins: Redis[],
  ) {}

  /** Starts migrating the slot of `key` from its master to the next master of `processes`. */
  static async begin(processes: RedisClusterProcesses, key: string): Promise<SlotMigration> {
    const masters = processes.servers.slice(0, 3);
    const admins = masters.map((server) => new Redis(server.port, '127.0.0.1'));
    const slot = Number(await admins[0]!.cluster('KEYSLOT', key));
    const ranges = await admins[0]!.cluster('SLOTS');
    const ownerPort = ranges.find(([low, high]) => slot >= low && slot <= high)![2]![1];
    const from = masters.findIndex((server) => server.port === ownerPort);
    const to = (from + 1) % masters.length;
    const [source, target] = [admins[from]!, admins[to]!];
    const ids = {
      source: String(await source.cluster('MYID')),
      target: String(await target.cluster('MYID')),
    };
    await target.cluster('SETSLOT', slot, 'IMPORTING', ids.source);
    await source.cluster('SETSLOT', slot, 'MIGRATING', ids.target);
    return new SlotMigration(slot, source, target, masters[to]!.port, ids, admins);
  }

  /** The slot's keys still on the source. */
  async keysLeft(): Promise<string[]> {
    return (await this.source.cluster('GETKEYSINSLOT', this.slot, 100_000)) as string[];
  }

  /** Migrates `keys` (without REPLACE: a key the target holds already fails, as in a reshard). */
  async move(keys: string[]): Promise<void> {
    for (const key of keys) await this.source.migrate('127.0.0.1', this.targetPort, key, 0, 5000);
  }

  /** How many `TRYAGAIN` replies the slot's two nodes have sent (their `INFO errorstats`). */
  async tryAgainReplies(): Promise<number> {
    let total = 0;
    for (const node of [this.source, this.target]) {
      const info = await node.info('errorstats');
      total += Number(/errorstat_TRYAGAIN:count=(\d+)/.exec(info)?.[1] ?? 0);
    }
    return total;
  }

  /** Moves the keys left and gives the slot to the target on every master. */
  async finish(): Promise<void> {
    await this.move(await this.keysLeft());
    // The target first, then the source (as Redis's docs order it), then the other master.
    const order = [
      this.target,
      this.source,
      ...this.admins.filter((a) => a !== this.target && a !== this.source),
    ];
    for (const admin of order) await admin.cluster('SETSLOT', this.slot, 'NODE', this.nodeIds.target);
    this.finished = true;
  }

  /** Finishes the migration if a test stopped before it did (the next test needs a stable slot), and disconnects. */
  async close(): Promise<void> {
    try {
      if (!this.finished) await this.finish();
    } finally {
      for (const admin of this.admins) admin.disconnect();
    }
  }
}
