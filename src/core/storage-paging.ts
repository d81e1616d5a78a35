/**
 * Paged listings, windowed loads and cancellation for long-running applications. Listings
 * called without options return every id as before; with options they return one page and an
 * opaque cursor. Pages are keyset pages in code point order (each id after the cursor's last
 * id), so a walk is stable under concurrent writes: an id that exists for the whole walk is
 * returned exactly once. The defaults here build on the full-list primitives; the built-in
 * backends override them with native keyset queries and window reads.
 */
import { raceAbort, throwIfAborted, validateSignal, type AbortOptions } from './abort.js';
import { describeValue, ValidationError } from './errors.js';
import { validateId } from './ids.js';
import type { JsonObject, JsonValue } from './json.js';
import { compareCodePoints, sortedByCodePoint } from './order.js';
import {
  decodeCursor,
  encodeCursor,
  LISTING_NAMES,
  readOptions,
  validatePageOptions,
  validatePageSize,
  validateWindow,
  type IterateOptions,
  type ListingName,
  type Page,
  type PageOptions,
  type WindowOptions,
} from './paging.js';
import { checkFor, recordText } from './record-names.js';
import type { StorageStats } from './records.js';
import { BatchStorage } from './storage-batches.js';

/** The public method of each listing, for error messages and the call guards. */
const LISTING_METHODS: Record<ListingName, string> = {
  conversations: 'listConversations',
  allConversationIds: 'listAllConversationIds',
  agents: 'listAgents',
  cacheKeys: 'listCacheKeys',
  systemStateKeys: 'listSystemStateKeys',
};

/** Paged listings, windowed loads and cancellation. Extend `StorageInterface`, not this. */
export abstract class PagedStorage extends BatchStorage {
  // ----- listings ------------------------------------------------------------------------

  /** Ids of stored conversations, sorted; with options, one page of them. */
  listConversations(): Promise<string[]>;
  listConversations(options: PageOptions): Promise<Page<string>>;
  listConversations(options?: PageOptions): Promise<string[] | Page<string>>;
  listConversations(options?: PageOptions): Promise<string[] | Page<string>> {
    return this.listing('conversations', options);
  }

  /** Every conversation id with any stored kind (conversation, raw messages, memories, chunk info), sorted; with options, one page. */
  listAllConversationIds(): Promise<string[]>;
  listAllConversationIds(options: PageOptions): Promise<Page<string>>;
  listAllConversationIds(options?: PageOptions): Promise<string[] | Page<string>>;
  listAllConversationIds(options?: PageOptions): Promise<string[] | Page<string>> {
    return this.listing('allConversationIds', options);
  }

  /** Ids of agents with stored reasoning chains, sorted; with options, one page. */
  listAgents(): Promise<string[]>;
  listAgents(options: PageOptions): Promise<Page<string>>;
  listAgents(options?: PageOptions): Promise<string[] | Page<string>>;
  listAgents(options?: PageOptions): Promise<string[] | Page<string>> {
    return this.listing('agents', options);
  }

  /** Keys of live cache entries, sorted; with options, one page of them. */
  listCacheKeys(): Promise<string[]>;
  listCacheKeys(options: PageOptions): Promise<Page<string>>;
  listCacheKeys(options?: PageOptions): Promise<string[] | Page<string>>;
  listCacheKeys(options?: PageOptions): Promise<string[] | Page<string>> {
    return this.listing('cacheKeys', options);
  }

  /** Keys of stored system state, sorted; with options, one page of them. */
  listSystemStateKeys(): Promise<string[]>;
  listSystemStateKeys(options: PageOptions): Promise<Page<string>>;
  listSystemStateKeys(options?: PageOptions): Promise<string[] | Page<string>>;
  listSystemStateKeys(options?: PageOptions): Promise<string[] | Page<string>> {
    return this.listing('systemStateKeys', options);
  }

  /**
   * Walks a whole listing page by page, yielding each id in code point order. Bad options
   * throw a `ValidationError` at once; an aborted `signal` rejects the next step with
   * `OperationAbortedError`. Stable under concurrent writes like the pages it reads.
   */
  iterate(listing: ListingName, options?: IterateOptions): AsyncIterableIterator<string> {
    if (!LISTING_NAMES.includes(listing)) {
      throw new ValidationError(
        'listing',
        `must be one of ${LISTING_NAMES.join(', ')} (got ${describeValue(listing)})`,
      );
    }
    const values = readOptions(options, ['after', 'pageSize', 'signal'] as const);
    decodeCursor(listing, values.after);
    const first: PageOptions = {
      after: values.after as string | null | undefined,
      limit: validatePageSize('pageSize', values.pageSize),
      signal: validateSignal(values.signal),
    };
    return this.walk(listing, first);
  }

  // ----- windows -------------------------------------------------------------------------

  /** Loads the raw messages of a conversation (`[]` when none); with a window, only those positions. */
  override async loadRawMessages(conversationId: string, window?: WindowOptions): Promise<JsonValue[]> {
    if (window === undefined) return super.loadRawMessages(conversationId);
    validateId('conversationId', conversationId);
    const { offset, limit } = checkFor(recordText.rawMessages(conversationId), () => validateWindow(window));
    return this.run('loadRawMessages', () => this.readRawMessagesWindow(conversationId, offset, limit));
  }

  /** Loads a conversation's memories, oldest first; with a window, only those positions. */
  override async loadMemories(conversationId: string, window?: WindowOptions): Promise<JsonObject[]> {
    if (window === undefined) return super.loadMemories(conversationId);
    validateId('conversationId', conversationId);
    const { offset, limit } = checkFor(recordText.memories(conversationId), () => validateWindow(window));
    return this.run('loadMemories', () => this.readMemoriesWindow(conversationId, offset, limit));
  }

  // ----- cancellable long calls ----------------------------------------------------------

  /**
   * Counts of everything stored (the same core keys in every backend) plus backend extras. Not
   * an `async` function: one returning the inner call's promise waits two more microtask turns
   * for it (a thenable resolve), so bad options are rejections made here instead.
   */
  override getStorageStats(options?: AbortOptions): Promise<StorageStats> {
    try {
      const signal = validateSignal(readOptions(options, ['signal'] as const).signal);
      throwIfAborted(signal, 'getStorageStats');
      return raceAbort(super.getStorageStats(), signal, 'getStorageStats');
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Removes expired cache entries in bulk; returns how many it removed. An abort stops it
   * between two deletes (each delete is whole); what was removed stays removed.
   */
  async purgeExpiredCache(options?: AbortOptions): Promise<number> {
    const signal = validateSignal(readOptions(options, ['signal'] as const).signal);
    throwIfAborted(signal, 'purgeExpiredCache');
    return this.runWrite('purgeExpiredCache', () => this.removeExpiredCache(Date.now(), signal));
  }

  // ----- primitives with defaults (backends override them natively) -----------------------

  /**
   * Up to `limit` ids of `listing` that sort after `after` (all when `null`), in code point
   * order; cache keys: live at `nowMs` only. Default: the full listing, sorted and sliced.
   */
  protected async readIdPage(
    listing: ListingName,
    after: string | null,
    limit: number,
    nowMs: number,
  ): Promise<string[]> {
    const ids = sortedByCodePoint(await this.readFullListing(listing, nowMs));
    let start = 0;
    if (after !== null) {
      // First index whose id sorts after `after` (binary search: the list is sorted).
      let end = ids.length;
      while (start < end) {
        const middle = (start + end) >>> 1;
        if (compareCodePoints(ids[middle] as string, after) <= 0) start = middle + 1;
        else end = middle;
      }
    }
    return ids.slice(start, start + limit);
  }

  /** Raw messages at positions `offset` to `offset + limit` (to the end when `null`); `[]` when none. */
  protected async readRawMessagesWindow(
    conversationId: string,
    offset: number,
    limit: number | null,
  ): Promise<JsonValue[]> {
    const all = (await this.readRawMessages(conversationId)) ?? [];
    return all.slice(offset, limit === null ? undefined : offset + limit);
  }

  /** Memories at positions `offset` to `offset + limit` (to the end when `null`), oldest first. */
  protected async readMemoriesWindow(
    conversationId: string,
    offset: number,
    limit: number | null,
  ): Promise<JsonObject[]> {
    const all = await this.readMemories(conversationId);
    return all.slice(offset, limit === null ? undefined : offset + limit);
  }

  // ----- helpers -------------------------------------------------------------------------

  /** A listing: every id, sorted, without options; one page with them. */
  private async listing(
    listing: ListingName,
    options: PageOptions | undefined,
  ): Promise<string[] | Page<string>> {
    const method = LISTING_METHODS[listing];
    if (options === undefined) {
      return sortedByCodePoint(await this.run(method, () => this.readFullListing(listing, Date.now())));
    }
    return this.listPage(listing, options);
  }

  /** One page: `limit + 1` ids are read, so the last page says so without another round trip. */
  private async listPage(listing: ListingName, options: PageOptions): Promise<Page<string>> {
    const method = LISTING_METHODS[listing];
    const { after, limit, signal } = validatePageOptions(listing, options);
    throwIfAborted(signal, method);
    const read = this.run(method, () => this.readIdPage(listing, after, limit + 1, Date.now()));
    const ids = await raceAbort(read, signal, method);
    const items = ids.slice(0, limit);
    const last = items[items.length - 1];
    return { items, next: ids.length > limit && last !== undefined ? encodeCursor(listing, last) : null };
  }

  /** The pages of a walk, one round trip each, checking the signal between ids and pages. */
  private async *walk(listing: ListingName, first: PageOptions): AsyncGenerator<string, void, undefined> {
    let after = first.after ?? null;
    do {
      const page = await this.listPage(listing, { ...first, after });
      for (const id of page.items) {
        throwIfAborted(first.signal, LISTING_METHODS[listing]);
        yield id;
      }
      after = page.next;
    } while (after !== null);
  }

  /** Every id of `listing` from the full-list primitives (unsorted). */
  private readFullListing(listing: ListingName, nowMs: number): Promise<string[]> {
    switch (listing) {
      case 'conversations':
        return this.listConversationIds();
      case 'allConversationIds':
        return this.listStoredConversationIds();
      case 'agents':
        return this.listAgentIds();
      case 'cacheKeys':
        return this.listLiveCacheKeys(nowMs);
      case 'systemStateKeys':
        return this.listStateKeys();
    }
  }
}
