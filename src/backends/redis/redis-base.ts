/**
 * The part of {@link RedisStorage} that is not about one record kind: configuration, the
 * connection and its lifecycle (layout check or upgrade, search index catch-up), the helpers
 * every record kind uses, paging, search, health and stats. The record primitives are in
 * `redis-storage.ts`.
 */
import {
  type HealthProbe,
  type JsonObject,
  type ListingName,
  type NormalizedSearchQuery,
  NotInitializedError,
  type SearchCandidate,
  type StatsSnapshot,
  StorageInterface,
  logEvent,
  openPrepared,
  redactUrl,
  type BulkCopyDefaults,
} from '../../core/index.js';
import { type ValueName, valueNameText } from '../../core/shown-text.js';
import { throwIfAborted } from '../../core/abort.js';
import { Slots } from '../../core/concurrency.js';
import { decodeObject } from './codec.js';
import { parseRedisConfig, type RedisStorageConfig, type ResolvedRedisConfig } from './config.js';
import { givenClientLabel, RedisConnection } from './connection.js';
import { KeyLayout } from './keys.js';
import { checkScriptCommands } from './acl-check.js';
import { type PreparedLayout, prepareLayout } from './layout.js';
import { describeRedisStore, RedisUpgradeRequiredError } from './layout-state.js';
import { collectRedisStats, probeRedisHealth } from './stats.js';
import { evictionWarning, readEvictionPolicies } from './eviction.js';
import { repairEmptyRawLists, withoutEmptyRawIds } from './empty-raw-repair.js';
import { RedisSearchIndex } from './search-index.js';
import { type IdFilter, readRedisIdPage, readRedisMemoryWindow, readRedisRawWindow } from './paging.js';

/**
 * Copies into Redis: groups of 32 conversations, two at once. With 64 × 4 the groups in flight
 * (~7 MB of parsed records at W6's shape) outlived V8's young generation and each scavenge
 * copied them; file→redis at 2,000 conversations ran 1,163 → 899 ms (`searchIndex: false`) and
 * 1,828 → 1,504 ms (index on), medians of 5 alternating cold runs (README, Migration).
 */
const REDIS_BULK_COPY: Readonly<BulkCopyDefaults> = Object.freeze({
  conversationBatchSize: 32,
  concurrency: 2,
});

/**
 * Searches of one store running at once; the rest wait their turn (see `searchIndex`). An
 * unscoped search sends ~130 scripts over three round trips: unbounded, a burst queued all of
 * them at once and every search's later steps waited behind the others' first ones, so 2,000
 * searches at once saw ~1,500 fail with "Command timed out" (RSS 1.2 GB), 600 against a 400 ms
 * timeout all of them. 8 keeps the pipeline as busy as unbounded: 500 searches 10.0-10.9 s at 8,
 * 10.5-10.7 s at 4, 11.8-13.2 s unbounded (RSS 166 / 158 / 504-533 MB; 2026-12-05, loaded machine).
 */
export const REDIS_SEARCH_SLOTS = 8;

/** Configuration, connection, lifecycle, shared helpers, paging, search, health and stats of the Redis backend. */
export abstract class RedisStorageBase extends StorageInterface {
  /** The validated configuration, defaults filled in. */
  protected readonly config: ResolvedRedisConfig;
  /** Key names of this store's prefix. */
  protected readonly keys: KeyLayout;
  private connection: RedisConnection | undefined;
  /** Set by a read-only open of a v1 (or part-upgraded) store: every call rejects with it. */
  private pendingUpgrade: RedisUpgradeRequiredError | undefined;
  /** A read-only open of a store not swept of earlier versions' empty raw lists (`empty-raw-repair.ts`). */
  private emptyRawPending = false;
  /** The native full-text index (see `search-index.ts`). @internal (as {@link redis}) */
  protected readonly index: RedisSearchIndex;
  /** Bounds the searches in flight (see {@link REDIS_SEARCH_SLOTS}). */
  private readonly searchSlots = new Slots(REDIS_SEARCH_SLOTS);

  /** Validates the config (throws `ConfigError`); connects in `initialize()`. */
  protected constructor(config: RedisStorageConfig) {
    super();
    this.config = parseRedisConfig(config);
    this.keys = new KeyLayout(this.config.keyPrefix);
    this.index = new RedisSearchIndex(this.keys, () => this.textExtractor, this.config.searchIndex, {
      readOnly: this.config.readOnly,
      logger: this.config.logger,
    });
  }

  /** A copy into this store goes in groups of 32 conversations, two at once (see `REDIS_BULK_COPY`). */
  override get bulkCopyDefaults(): Readonly<BulkCopyDefaults> {
    return REDIS_BULK_COPY;
  }

  /** The key prefix of this store. */
  get keyPrefix(): string {
    return this.keys.prefix;
  }

  /**
   * The open connection (rejects when a read-only open found a store that needs an upgrade).
   * @internal Kept out of the published declarations, which must not load ioredis's own types
   * (see `RedisClient` in `config.ts`).
   */
  protected get redis(): RedisConnection {
    // Only reachable when shutdown() ran while a call was on its way.
    if (!this.connection)
      throw new NotInitializedError(this.storageType, 'a call', 'closed', this.shownStore());
    if (this.pendingUpgrade) throw this.pendingUpgrade;
    return this.connection;
  }

  /** True when configured `readOnly`: opens a prefix holding a store only, and refuses every write. */
  override get isReadOnly(): boolean {
    return this.config.readOnly;
  }

  /** The `maxReasoningChainsPerAgent` option (`null`: no limit). */
  override get maxReasoningChainsPerAgent(): number | null {
    return this.config.maxReasoningChainsPerAgent;
  }

  protected override describeStore(): string {
    // As the connection names it: until 2026-12-06 a closed store on a Cluster said "client".
    const label = this.config.client ? givenClientLabel(this.config.client) : redactUrl(this.config.url);
    return describeRedisStore(this.connection?.label ?? label, this.keys.prefix);
  }

  protected async openStore(): Promise<void> {
    this.pendingUpgrade = undefined;
    this.emptyRawPending = false;
    let unindexed = false;
    let prepared: PreparedLayout | undefined;
    const swept = this.keys.store.emptyRawSwept;
    const writable = !this.config.readOnly;
    this.connection = await openPrepared(
      () => RedisConnection.open(this.config),
      async (connection) => {
        // Read-only: nothing is created or upgraded; a missing store is refused. A v1 store
        // opens, and says it needs an upgrade: in health, and in every call that reads it.
        // The empty raw-list sweep's marker and the index version are read with the layout
        // version (one MGET), and a store this open creates starts with both: it has nothing
        // to sweep and a complete, empty index.
        try {
          // A writer also checks, in the same round trip, that its ACL user may run what the
          // scripts call, so a missing grant fails the open, not each chain append later.
          [prepared] = await Promise.all([
            prepareLayout(connection, this.keys.prefix, {
              write: writable,
              alsoRead: [swept, ...(writable ? this.index.openReads : [])],
              startWith: [[swept, '1'], ...this.index.startWith],
            }),
            writable ? checkScriptCommands(connection) : undefined,
          ]);
          if (writable) unindexed = await this.index.open(connection, prepared, prepared.found[1] ?? null);
        } catch (error) {
          if (!(error instanceof RedisUpgradeRequiredError)) throw error;
          this.pendingUpgrade = error;
        }
      },
    );
    await this.warnOfEviction(this.connection);
    // A writer builds the index of a store without one (upgraded from v1, written before the
    // index or with it off) and rebuilds buckets written with `searchIndex: false`.
    // A build that gives up (writers kept changing a bucket) leaves the bucket stale: searches
    // scan it, and the open still succeeds.
    // A read-only open sweeps nothing: its listings leave those ids out instead.
    if (!writable && prepared !== undefined) this.emptyRawPending = (prepared.found[0] ?? null) === null;
    if (writable && prepared !== undefined) {
      const { found, created } = prepared;
      // Ids an earlier version kept listed for an empty raw-message list (once per store). A
      // failure (a wrong-typed index zset) is logged and the open goes on: the next one retries.
      await repairEmptyRawLists(this.connection, this.keys, created ? '1' : (found[0] ?? null)).catch(
        (error: unknown) => {
          logEvent(this.config.logger, 'warn', 'redis storage: empty raw-message lists not repaired', {
            error: error instanceof Error ? error.message : String(error),
          });
        },
      );
      await this.index
        .catchUp(this.connection, unindexed, this.scanSource, created)
        .catch((error: unknown) => {
          logEvent(this.config.logger, 'warn', 'redis storage: search index not rebuilt', {
            error: error instanceof Error ? error.message : String(error),
          });
        });
    }
  }

  /**
   * While a read-only open waits for another process to upgrade its store, each call first
   * reads the layout again: once the upgrade finished it goes on, and so do the calls after
   * it, reading v2; until then it rejects with `RedisUpgradeRequiredError` as before. (Until
   * 2026-12-06 the open's answer was kept until a restart.) An open v2 store costs nothing more.
   */
  protected override run<T>(method: string, primitive: () => Promise<T>): Promise<T> {
    if (this.pendingUpgrade === undefined) return super.run(method, primitive);
    return super.run(method, async () => {
      const pending = await this.upgradeStillPending();
      if (pending) throw pending;
      return primitive();
    });
  }

  /**
   * Whether the upgrade a read-only open found pending still is: the layout read again as a
   * read-only open reads it (one `MGET`, with the sweep marker), only while one is pending.
   */
  private async upgradeStillPending(): Promise<RedisUpgradeRequiredError | undefined> {
    const connection = this.connection;
    if (this.pendingUpgrade === undefined || connection === undefined) return undefined;
    let prepared: PreparedLayout;
    try {
      const alsoRead = [this.keys.store.emptyRawSwept];
      prepared = await prepareLayout(connection, this.keys.prefix, { write: false, alsoRead });
    } catch (error) {
      if (!(error instanceof RedisUpgradeRequiredError)) throw error;
      // Still pending (`v1` may now read `upgrading`), unless a call answered meanwhile saw v2.
      if (this.pendingUpgrade !== undefined) this.pendingUpgrade = error;
      return error;
    }
    if (this.pendingUpgrade !== undefined) {
      this.emptyRawPending = (prepared.found[0] ?? null) === null;
      this.pendingUpgrade = undefined;
    }
    return undefined;
  }

  /**
   * Logs one `warn` when the server may evict this store's keys (any `maxmemory-policy` but
   * `noeviction`): Redis does it silently, and the store cannot notice afterwards. Says nothing
   * when the policy cannot be read (neither `CONFIG GET` nor `INFO` allowed) or no logger is set.
   */
  private async warnOfEviction(connection: RedisConnection): Promise<void> {
    if (this.config.logger === undefined) return;
    const policies = await readEvictionPolicies(connection);
    const warnings = policies.flatMap((policy) => evictionWarning(policy) ?? []);
    if (warnings.length === 0) return;
    logEvent(this.config.logger, 'warn', `redis storage (${connection.label}): ${warnings.join('; ')}`, {
      maxmemoryPolicy: policies.join(','),
      keyPrefix: this.keys.prefix,
    });
  }

  protected async closeStore(): Promise<void> {
    const connection = this.connection;
    // Calls accepted before shutdown() finish first (close() drains them).
    await connection?.close();
    if (this.connection === connection) this.connection = undefined;
  }

  /** The JSON object stored at `key`, or null. */
  protected loadObject(what: ValueName, key: string): Promise<JsonObject | null> {
    const call = (): string => `load ${valueNameText(what)}`;
    return this.redis.run(call, (c) => c.get(key)).then((text) => decodeObject(text, key));
  }

  // ----- paging (see paging.ts) --------------------------------------------------------

  protected override readIdPage(listing: ListingName, after: string | null, limit: number, nowMs: number) {
    const keep = listing === 'allConversationIds' ? this.conversationIdFilter() : undefined;
    return readRedisIdPage(this.redis, this.keys, listing, { after, limit, nowMs, keep });
  }

  /**
   * How the any-kind conversation index is read: as stored, unless this is a read-only open of
   * a store whose empty raw-list sweep has not run (a writable open sweeps at open), whose
   * listings then leave out the ids the sweep would remove, reading them without writing.
   * @internal (as {@link redis})
   */
  protected conversationIdFilter(): IdFilter | undefined {
    if (!this.emptyRawPending) return undefined;
    return (ids) => withoutEmptyRawIds(this.redis, this.keys, ids);
  }

  protected override readRawMessagesWindow(conversationId: string, offset: number, limit: number | null) {
    const k = this.keys.conversation(conversationId);
    return readRedisRawWindow(this.redis, k, conversationId, { offset, limit });
  }

  protected override readMemoriesWindow(conversationId: string, offset: number, limit: number | null) {
    const k = this.keys.conversation(conversationId);
    return readRedisMemoryWindow(this.redis, k, conversationId, { offset, limit });
  }

  // ----- search (see search-index.ts) -------------------------------------------------

  /** The record reads the index rebuild and catch-up scan with. */
  protected readonly scanSource = {
    readConversation: (id: string) => this.readConversation(id),
    readRawMessages: (id: string) => this.readRawMessages(id),
    readMemories: (id: string) => this.readMemories(id),
    readChunkInfo: (id: string) => this.readChunkInfo(id),
  };

  protected override searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    // Queued in our own slots, not in the connection: a search waiting its turn runs no
    // command timer, and once its turn comes its commands wait behind a few searches only.
    return this.searchSlots.run(async () => {
      // The caller may have given up (its signal) while this search waited: nothing to send.
      throwIfAborted(query.signal, 'search');
      // Not trusted (off, not built, or a bucket written with the index off): the default scan.
      return (await this.index.search(this.redis, query)) ?? super.searchIndex(query);
    });
  }

  protected override rebuildSearchIndex(signal?: AbortSignal): Promise<number> {
    return this.index.rebuild(this.redis, this.scanSource, signal);
  }

  // ----- health and stats --------------------------------------------------------------

  protected async probeHealth(): Promise<HealthProbe> {
    const upgrade = await this.upgradeStillPending();
    if (upgrade) {
      return {
        healthy: false,
        error: upgrade.message,
        details: { needs_upgrade: true, layout: upgrade.layout, key_prefix: this.keys.prefix },
      };
    }
    return probeRedisHealth(this.redis, this.keys);
  }

  protected collectStats(nowMs: number): Promise<StatsSnapshot> {
    return collectRedisStats(this.redis, this.keys, nowMs);
  }
}
