/**
 * The read side of semantic search: the store's embedder and vector store (opened and closed
 * with the store), `search()` with `mode: 'vector' | 'hybrid'` and `reindex()` re-embedding
 * every record. The writes that keep the vectors in step are the next layer's
 * (`storage-semantic.ts`). Without the `semantic` option this layer passes every call through.
 */
import { raceAbort, throwIfAborted, type AbortOptions } from './abort.js';
import { ValidationError } from './errors.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { StorageLogger } from './logger.js';
import type { SearchHit } from './search/hits.js';
import { normalizeSearchQuery, type NormalizedSearchQuery, type SearchQuery } from './search/query.js';
import { rankCandidates } from './search/rank.js';
import { logSkipped, type SkipItem } from './search/unreadable.js';
import type { SemanticOptions } from './semantic/options.js';
import { reembedAll } from './semantic/reindex.js';
import { SemanticIndex } from './semantic/semantic-index.js';
import { fuseHits, HYBRID_DEPTH, type RecordReader, vectorHits } from './semantic/vector-search.js';
import type { SequencedChain } from './storage-retention.js';
import { reindexSignal, SearchableStorage } from './storage-search.js';

/** Vector and hybrid search and the re-embedding `reindex()`. Extend `StorageInterface`, not this. */
export abstract class SemanticSearchStorage extends SearchableStorage {
  private semanticIndex: SemanticIndex | null | undefined;
  /** Serialises the semantic writes of one owner (`c/<conversationId>`, `a/<agentId>`) with each other and with `reindex()`. */
  protected readonly ownerLocks = new KeyedMutex();

  /** True when the store was configured with the `semantic` option (vector and hybrid search work). */
  get hasSemanticSearch(): boolean {
    return this.semantic !== null;
  }

  // ----- search and reindex --------------------------------------------------------------------

  /**
   * Full-text search (`mode: 'text'`, the default), vector search (`'vector'`: the records
   * nearest to the text's embedding within the scope; `score` is the similarity) or both
   * fused by reciprocal rank (`'hybrid'`: each list fetched 4x deeper than `limit`, k = 60;
   * `score` is the fused score). `'vector'`/`'hybrid'` on a store without the `semantic`
   * option is a `ValidationError` before any I/O. Vector search covers raw messages, memories and
   * chains (the embedded kinds); other kinds only come from the full-text list.
   */
  override async search(query: SearchQuery): Promise<SearchHit[]> {
    const normalized = normalizeSearchQuery(query);
    if (normalized.mode === 'text') return super.search(query);
    const index = this.semantic;
    if (index === null) {
      throw new ValidationError(
        'mode',
        `'${normalized.mode}' needs the store's semantic option ({ embedder, vectorStore }); this store has none`,
      );
    }
    throwIfAborted(normalized.signal, 'search');
    const work = this.run('search', async () => {
      let hits: SearchHit[];
      if (normalized.mode === 'vector') hits = await this.vectorList(index, normalized, normalized.limit);
      else {
        const depth = normalized.limit * HYBRID_DEPTH;
        const [text, vector] = await Promise.all([
          this.textList(normalized, depth),
          this.vectorList(index, normalized, depth),
        ]);
        hits = fuseHits(text, vector, normalized.limit);
      }
      // Once for both lists: a record both met is logged once.
      logSkipped(this.logger, normalized.skipped);
      return hits;
    });
    return raceAbort(work, normalized.signal, 'search');
  }

  /**
   * Rebuilds the full-text index and, with the `semantic` option, re-embeds every raw message,
   * memory and chain over the vectors there are and removes those of records that are gone
   * (after an embedder switch, or for records written before semantic search was on); see
   * `semantic/reindex.ts` for what a failure leaves. Returns the full-text count, as without it.
   * An abort stops it between two owners (each owner's upserts whole), which leaves what a
   * failure there leaves: vectors already re-embedded stay, the others are the old ones.
   */
  override async reindex(options?: AbortOptions): Promise<number> {
    const index = this.semantic;
    if (index === null) return super.reindex(options);
    const signal = reindexSignal(options);
    return this.runWrite('reindex', async () => {
      const count = await this.rebuildSearchIndex(signal);
      await reembedAll(
        index,
        {
          listStoredConversationIds: () => this.listStoredConversationIds(),
          listAgentIds: () => this.listAgentIds(),
          readRawMessages: (id) => this.readRawMessages(id),
          readMemories: (id) => this.readMemories(id),
          readAllSequencedChains: (id) => this.readAllSequencedChains(id),
          exclusive: (owner, task) => this.ownerLocks.run(owner, task),
          signal,
        },
        this.logger,
      );
      return count;
    });
  }

  // ----- lifecycle -----------------------------------------------------------------------------

  protected override async openAttachments(): Promise<void> {
    await super.openAttachments();
    await this.semantic?.open(this.isReadOnly);
  }

  protected override async closeAttachments(): Promise<void> {
    try {
      await this.semantic?.close();
    } finally {
      await super.closeAttachments();
    }
  }

  // ----- helpers -------------------------------------------------------------------------------

  /** The store's embedder and vector store, or `null` without the `semantic` option. */
  protected get semantic(): SemanticIndex | null {
    if (this.semanticIndex === undefined) {
      // Read structurally, as `searchFields` is: the core does not know each backend's config type.
      const { config } = this as { config?: { semantic?: SemanticOptions; logger?: StorageLogger } };
      this.semanticIndex =
        config?.semantic === undefined
          ? null
          : new SemanticIndex(config.semantic, () => this.textExtractor, config.logger);
    }
    return this.semanticIndex;
  }

  /** Every chain of an agent, numbered (`skip`: see {@link SkipItem}). */
  protected readAllSequencedChains(agentId: string, skip?: SkipItem): Promise<SequencedChain[]> {
    return this.readSequencedChains(agentId, { after: null, limit: null }, skip);
  }

  private textList(query: NormalizedSearchQuery, limit: number): Promise<SearchHit[]> | SearchHit[] {
    if (query.terms.length === 0) return [];
    const deep = { ...query, limit };
    return this.findCandidates(deep).then((candidates) =>
      rankCandidates(candidates, deep, this.textExtractor),
    );
  }

  private vectorList(index: SemanticIndex, query: NormalizedSearchQuery, k: number): Promise<SearchHit[]> {
    const reader: RecordReader = {
      readRawMessages: (id, skip) => this.readRawMessages(id, skip),
      readMemories: (id, skip) => this.readMemories(id, skip),
      readAllSequencedChains: (id, skip) => this.readAllSequencedChains(id, skip),
    };
    return vectorHits(index, reader, this.textExtractor, query, k);
  }
}
