/**
 * Full-text search over stored records: `search(query)` and `reindex()`, with a default
 * built on the storage primitives (scan and rank in memory) that a backend replaces with a
 * native index by overriding {@link SearchableStorage.searchIndex} and
 * {@link SearchableStorage.rebuildSearchIndex}.
 */
import { raceAbort, throwIfAborted, validateSignal, type AbortOptions } from './abort.js';
import { ConfigError } from './errors.js';
import type { StorageLogger } from './logger.js';
import { TextExtractor, type SearchFields } from './search/fields.js';
import type { SearchCandidate, SearchHit } from './search/hits.js';
import { normalizeSearchQuery, type NormalizedSearchQuery, type SearchQuery } from './search/query.js';
import { readOptions } from './paging.js';
import { rankCandidates } from './search/rank.js';
import { scanSearch } from './search/scan.js';
import { logSkipped } from './search/unreadable.js';
import { RetentionStorage } from './storage-retention.js';

/** Full-text search over stored records. Extend `StorageInterface`, not this. */
export abstract class SearchableStorage extends RetentionStorage {
  private extractor: TextExtractor | undefined;

  /**
   * Finds records by their words. Every backend tokenizes the same way (FTS5 `unicode61
   * remove_diacritics 2` rules, see `tokenize`) and returns the same hits for `match: 'all'`.
   * Hits come best first: records with more distinct query words, then higher BM25.
   * A bad query is a `ValidationError` before any I/O; an aborted `signal` rejects with
   * `OperationAbortedError`. A record that does not parse rejects with `CorruptDataError`, or
   * with `unreadable: 'skip'` is left out and logged (`warn`).
   */
  async search(query: SearchQuery): Promise<SearchHit[]> {
    const normalized = normalizeSearchQuery(query);
    throwIfAborted(normalized.signal, 'search');
    const work = this.run('search', async () => {
      if (normalized.terms.length === 0) return []; // only punctuation: no word can match
      const hits = rankCandidates(await this.findCandidates(normalized), normalized, this.textExtractor);
      logSkipped(this.logger, normalized.skipped);
      return hits;
    });
    return raceAbort(work, normalized.signal, 'search');
  }

  /**
   * Rebuilds the backend's search index from the stored records (after changing
   * `searchFields`, or to repair it); a write, refused by a read-only store. Returns the
   * number of records indexed (0 for a backend without a native index: it has nothing to rebuild).
   * An aborted `signal` rejects with `OperationAbortedError`: before any I/O when already
   * aborted, else at the next step between two batches (never inside one), leaving the index as
   * a rebuild cut short by a crash does (searches scan or catch up what is not rebuilt yet).
   */
  async reindex(options?: AbortOptions): Promise<number> {
    const signal = reindexSignal(options);
    return this.runWrite('reindex', () => this.rebuildSearchIndex(signal));
  }

  /**
   * {@link searchIndex}'s candidates. With `unreadable: 'skip'`, a native index ranks the records
   * it then finds unreadable among the best `limit` (it indexed their text when they were
   * written): while it skipped some and came back short, it is asked again that much deeper, so
   * `limit` readable records come back whenever there are (those of a store without the bad ones).
   */
  protected async findCandidates(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    let candidates = await this.searchIndex(query);
    const { skipped } = query;
    if (skipped === null) return candidates;
    for (let seen = 0; skipped.size > seen && candidates.length < query.limit;) {
      seen = skipped.size;
      candidates = await this.searchIndex({ ...query, limit: query.limit + seen });
    }
    return candidates;
  }

  // ----- primitives a backend may implement natively -------------------------------------

  /**
   * Finds the candidates for a validated query. The default reads every record in scope
   * through the storage primitives and ranks them in memory (`scanSearch`).
   *
   * A native index overrides this. Contract:
   * - Index the text {@link textExtractor} extracts from each record, split with `tokenize`
   *   (the same tokens on every backend), one document per record: each raw message, memory,
   *   reasoning chain, conversation object and chunk info object.
   * - Return at most `query.limit` candidates of `query.kinds` within the scopes
   *   (`conversationId` for the conversation kinds, `agentId` for chains), each with at least
   *   one of `query.terms` (all of them for `match: 'all'`), the best first: most distinct
   *   terms, then highest BM25 (`bm25Score`; the index's own corpus statistics are fine).
   * - Each candidate carries the record as loads return it and its ids (`messageIndex` and
   *   `chainIndex` are positions in the loaded lists; a chain's `sequence` is the number
   *   {@link RetentionStorage.loadSequencedReasoningChains} reports for it). The core recounts the matched words on
   *   the record, builds the snippet and score, and drops a candidate without a query word.
   * - A record that does not parse: pass its `CorruptDataError` to `skipUnreadable` with
   *   `query.skipped` (it rethrows unless the query skips unreadable records) and leave the
   *   record out, as if not stored (the core asks again deeper when that leaves fewer than
   *   `query.limit`).
   * - The index follows every write in the same transaction or script as the write (stores,
   *   replaces, deletes, conversation deletes): each backend keeps that in one function its
   *   write paths call. Never return a record that no longer exists (a writer that does not
   *   maintain the index, such as the Python reference, may have changed the store).
   */
  protected searchIndex(query: NormalizedSearchQuery): Promise<SearchCandidate[]> {
    return scanSearch(
      {
        listConversationIds: () => this.listConversationIds(),
        listStoredConversationIds: () => this.listStoredConversationIds(),
        listAgentIds: () => this.listAgentIds(),
        readConversation: (id) => this.readConversation(id),
        readRawMessages: (id, skip) => this.readRawMessages(id, skip),
        readMemories: (id, skip) => this.readMemories(id, skip),
        readSequencedChains: (id, skip) => this.readSequencedChains(id, { after: null, limit: null }, skip),
        readChunkInfo: (id) => this.readChunkInfo(id),
      },
      query,
      this.textExtractor,
    );
  }

  /**
   * Rebuilds the native index from the stored records; returns how many it indexed. Default: no
   * index, 0. A native rebuild calls `throwIfAborted(signal, 'reindex')` between its batches
   * (each batch whole), so an abort leaves what a crash at that point leaves.
   */
  protected rebuildSearchIndex(signal?: AbortSignal): Promise<number> {
    throwIfAborted(signal, 'reindex');
    return Promise.resolve(0);
  }

  /**
   * The JSON paths indexed per kind. Default: the `searchFields` of the backend's `config`
   * when it has one (every built-in backend does), else every string of every record.
   */
  protected get searchFields(): SearchFields {
    // Read structurally: the core does not know each backend's config type.
    const { config } = this as { config?: { searchFields?: SearchFields } };
    return config?.searchFields ?? {};
  }

  /** Where background events (and the records a search left out) go (`undefined`: nowhere). */
  protected get logger(): StorageLogger | undefined {
    return (this as { config?: { logger?: StorageLogger } }).config?.logger;
  }

  /** Extracts the indexed text of a record (built once from {@link searchFields}). */
  protected get textExtractor(): TextExtractor {
    if (this.extractor === undefined) {
      try {
        this.extractor = new TextExtractor(this.searchFields);
      } catch (error) {
        throw new ConfigError(error instanceof Error ? error.message : String(error), 'searchFields', error);
      }
    }
    return this.extractor;
  }
}

/**
 * The signal of `reindex(options)`, validated before any I/O (unknown options, a signal that is
 * not an `AbortSignal`: `ValidationError`); an already-aborted one rejects here.
 */
export function reindexSignal(options: AbortOptions | undefined): AbortSignal | undefined {
  const signal = validateSignal(readOptions(options, ['signal'] as const).signal);
  throwIfAborted(signal, 'reindex');
  return signal;
}
