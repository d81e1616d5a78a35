/**
 * The Redis backend's native search index as the storage uses it: what its write scripts are
 * given ({@link SearchWriter}), what a writable open does (build a store without an index,
 * rebuild buckets marked stale), and search and reindex on it. Keys and Lua: `search-lua.ts`;
 * queries: `search-query.ts`; trust and builds: `search-state.ts`.
 */
import {
  logEvent,
  type NormalizedSearchQuery,
  type SearchCandidate,
  type StorageLogger,
  type TextExtractor,
} from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';
import { SearchWriter } from './search-writer.js';
import type { IndexFault } from './search-faults.js';
import { searchRedisIndex } from './search-query.js';
import {
  type BuildSource,
  markBucketStale,
  markSearchIndexBuilt,
  rebuildSearchIndex,
  SEARCH_INDEX_VERSION,
  searchMarkerKey,
  staleBuckets,
} from './search-state.js';
import type { PreparedLayout } from './layout.js';

/** The search index of one storage instance (its config and key layout). */
export class RedisSearchIndex {
  private searchWriter: SearchWriter | undefined;

  constructor(
    private readonly keys: KeyLayout,
    /** The storage's text extractor (built lazily: a bad `searchFields` fails where it is used). */
    private readonly extractor: () => TextExtractor,
    /** The `searchIndex` option. */
    readonly enabled: boolean,
    /** The `readOnly` and `logger` options. */
    private readonly options: { readOnly: boolean; logger: StorageLogger | undefined },
  ) {}

  /** What the write scripts are given for the index. */
  get writer(): SearchWriter {
    this.searchWriter ??= new SearchWriter(this.extractor(), this.enabled);
    return this.searchWriter;
  }

  /** The `{index}` keys a writable open reads with the layout version (the index version), when on. */
  get openReads(): string[] {
    return this.enabled ? [searchMarkerKey(this.keys)] : [];
  }

  /** What a store a writable open creates starts with: a complete, empty index (when on). */
  get startWith(): Array<[string, string]> {
    return this.enabled ? [[searchMarkerKey(this.keys), SEARCH_INDEX_VERSION]] : [];
  }

  /**
   * After a writable open's layout step, given what it found (`marker`: the index version read
   * with the layout version, `openReads`): a store without a layout version then starts with a
   * complete, empty index (written with the store when this open created it); returns whether
   * the store has no index yet (built by {@link catchUp}).
   */
  async open(redis: RedisConnection, layout: PreparedLayout, marker: string | null): Promise<boolean> {
    if (!this.enabled) return false;
    if (!layout.unmarked) return marker !== SEARCH_INDEX_VERSION;
    if (!layout.created) await markSearchIndexBuilt(redis, this.keys);
    return false;
  }

  /**
   * After a writable open with the index on: builds every bucket of a store without an index
   * (`missing`), else rebuilds the buckets written with `searchIndex: false` since their last
   * build; none in a store this open created (`created`): a concurrent unindexed writer's mark
   * makes searches scan that bucket until the next writable open rebuilds it.
   */
  async catchUp(
    redis: RedisConnection,
    missing: boolean,
    source: BuildSource,
    created = false,
  ): Promise<void> {
    if (!this.enabled || created) return;
    if (missing) await this.rebuild(redis, source);
    else {
      const stale = await staleBuckets(redis, this.keys);
      if (stale.length > 0) await rebuildSearchIndex(redis, this.keys, this.extractor(), source, stale);
    }
  }

  /** Candidates from the index; `null` when it is off or may not be trusted (the caller scans). */
  search(redis: RedisConnection, query: NormalizedSearchQuery): Promise<SearchCandidate[] | null> {
    if (!this.enabled) return Promise.resolve(null);
    return searchRedisIndex(redis, this.keys, query, (faults) => this.faulty(redis, faults));
  }

  /**
   * Buckets whose index a search could not read (a wrong-typed key): each is marked stale, so
   * searches scan it without reading its index again and the next writable open rebuilds it
   * (not by a read-only storage, which changes nothing: its searches scan while the fault
   * lasts), and logged as a warning. A failed mark is logged too: the search still scans.
   * Wrong-typed posting keys are noted with the mark: a rebuild that finds their tokens held
   * by no doc lets searches read them as no postings, so they do not mark the bucket again.
   */
  private async faulty(redis: RedisConnection, faults: readonly IndexFault[]): Promise<void> {
    await Promise.all(
      faults.map(async ({ bucket, problem, tokens }) => {
        let marked: boolean | string = false;
        if (!this.options.readOnly) {
          marked = await markBucketStale(redis, this.keys, bucket, tokens).then(
            () => true,
            (error: unknown) => (error instanceof Error ? error.message : String(error)),
          );
        }
        logEvent(this.options.logger, 'warn', 'redis storage: search index unreadable, searches scan it', {
          problem,
          markedStale: marked === true,
          ...(typeof marked === 'string' ? { markError: marked } : {}),
        });
      }),
    );
  }

  /** Rebuilds every bucket (and writes the index version); returns the docs indexed. 0 when off. */
  rebuild(redis: RedisConnection, source: BuildSource, signal?: AbortSignal): Promise<number> {
    throwIfAborted(signal, 'reindex');
    if (!this.enabled) return Promise.resolve(0);
    return rebuildSearchIndex(redis, this.keys, this.extractor(), source, undefined, signal);
  }
}
