/**
 * The file backend's native full-text index: one segment per data file under
 * `.connectome-storage/search/` (see `search-segments.ts`), kept in step by the writes of this
 * library (under the folder's lock, right after the data file) and checked against the data
 * files before every search, so what another writer changed (another process, the Python
 * reference, a crash between a record and its segment) is re-indexed before it is searched.
 */
import {
  type JsonObject,
  type JsonValue,
  logEvent,
  type NormalizedSearchQuery,
  type SearchCandidate,
  type SearchFields,
  SEARCH_KINDS,
  skipUnreadable,
  type StorageLogger,
  type TextExtractor,
} from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import { mapConcurrent } from '../../core/concurrency.js';
import { type FileIdentity, identitySize, readdirOrEmpty } from './atomic-json.js';
import type { FolderWriteListener } from './folder-files.js';
import type { StoreLayout } from './layout.js';
import { chainFirsts, rankSegments, toCandidates, UnreadableSequence } from './search-lookup.js';
import { removeSegment, type Segment, SegmentBuilder } from './search-segments.js';
import { SearchMemory } from './search-memory.js';
import { SegmentWriter } from './segment-writer.js';
import {
  recordsOf,
  type SourceContent,
  type SourceRef,
  SOURCE_FILES,
  sourceOf,
  sourcesInScope,
} from './search-sources.js';
import path from 'node:path';
import { ioReason } from '../io-reason.js';
import { SegmentCatchUp } from './search-catch-up.js';

/** Folder of the segments, inside `.connectome-storage/`. */
export const SEARCH_DIR = 'search';

/** Segments or data files read at once while catching up. */
const READ_CONCURRENCY = 8;
/** Data files bigger than this are indexed by the next search instead of by their write. */
const MAX_INDEXED_ON_WRITE_BYTES = 1024 * 1024;
/** Searches retried when a data file changes between the check and the read of its records. */
const MAX_ATTEMPTS = 3;

/** What the index needs from its store. */
export interface FileSearchIndexOptions {
  layout: StoreLayout;
  /** The store's text extractor (built from `searchFields`). */
  extractor: () => TextExtractor;
  /** The store's `searchFields`. */
  fields: SearchFields;
  /** A read-only store repairs stale segments in memory only. */
  readOnly: boolean;
  logger: StorageLogger | undefined;
  /**
   * The sequence number of an agent's first chain, given the chains read from its file with
   * `identity`; `null` when the file changed meanwhile (see `FileChains.firstSequenceOf`).
   */
  firstChainSequence: (
    agentId: string,
    chains: readonly JsonValue[],
    identity: FileIdentity,
  ) => Promise<number | null>;
}

/** The segments of one store: kept in step by writes, checked and caught up by searches. */
export class FileSearchIndex implements FolderWriteListener {
  /** `.connectome-storage/search/` */
  readonly dir: string;
  private readonly builder: SegmentBuilder;
  /** Parsed segments and data files. */
  private readonly memory = new SearchMemory();
  /** Segment files still to be written (in the background, after the calls that changed them). */
  private readonly writer: SegmentWriter;
  /** Segments brought up to date with their data files. */
  private readonly segments: SegmentCatchUp;

  constructor(private readonly options: FileSearchIndexOptions) {
    this.dir = path.join(options.layout.internalDir, SEARCH_DIR);
    this.builder = new SegmentBuilder(options.extractor);
    this.writer = new SegmentWriter(options.layout.baseDir, (action, file, error) =>
      this.failed(action, file, error),
    );
    const { fields, readOnly } = options;
    const { dir, builder, memory, writer } = this;
    this.segments = new SegmentCatchUp({
      dir,
      baseDir: options.layout.baseDir,
      fields,
      readOnly,
      builder,
      memory,
      writer,
    });
  }

  /** Writes the segments still queued (at shutdown). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  // ----- writes (called under the folder's lock, after the data file changed) ------------

  /**
   * Re-indexes a data file just written with `identity`: in memory at once, on disk shortly
   * after (see `segment-writer.ts`); a failure is logged and left to the next search.
   */
  async written(file: string, content: JsonObject, identity: FileIdentity | undefined): Promise<void> {
    const source = sourceOf(this.options.layout, file);
    if (source === null) return;
    const target = this.segments.segmentOf(source);
    this.memory.forget(target);
    // A big data file is left to the first search that needs it (its segment is stale by its
    // identity), so a write does not wait for its tokenizing.
    if (identity === undefined || identitySize(identity) > MAX_INDEXED_ON_WRITE_BYTES) return;
    try {
      const records = recordsOf(source.kind, file, content);
      const segment = this.builder.build(
        source.kind,
        source.owner,
        this.segments.fingerprint(source),
        identity,
        records,
      );
      this.memory.remember(target, segment);
      this.memory.rememberSource(file, { identity, records });
      this.writer.write(target, segment);
    } catch (error) {
      this.failed('update', target, error);
    }
  }

  /** Drops the segment of a data file just removed. */
  async removed(file: string): Promise<void> {
    const source = sourceOf(this.options.layout, file);
    if (source === null) return;
    const target = this.segments.segmentOf(source);
    this.memory.forget(target);
    this.writer.remove(target);
  }

  /** Drops the segments of a conversation folder just removed. */
  async removedFolder(dir: string): Promise<void> {
    for (const kind of SEARCH_KINDS) {
      if (kind !== 'reasoning_chains') await this.removed(path.join(dir, SOURCE_FILES[kind]));
    }
  }

  // ----- searches --------------------------------------------------------------------------

  /**
   * The best candidates for `query` from segments checked against their data files (stale
   * ones re-indexed first); `null` when data files kept changing under the search (the caller
   * then scans).
   */
  async search(query: NormalizedSearchQuery): Promise<SearchCandidate[] | null> {
    const { layout } = this.options;
    const { skipped } = query;
    const skipper =
      skipped === null
        ? null
        : (source: SourceRef, error: unknown) => skipUnreadable(skipped, error, source.kind, source.owner);
    // Chains files left out with unreadable: 'skip' because their sequence file does not parse.
    const excluded = new Set<string>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const sources = (await sourcesInScope(layout, query.kinds, query.conversationId, query.agentId)).filter(
        (source) => !excluded.has(source.file),
      );
      throwIfAborted(query.signal, 'search');
      // With unreadable: 'skip', a data file that does not parse counts as missing, so the
      // corpus and the hits are those of a store without it.
      const segments = await this.segments.current(sources, skipper === null ? false : skipper);
      throwIfAborted(query.signal, 'search');
      const ranked = rankSegments(
        segments.filter((s): s is Segment => s !== null),
        query,
      );
      const bySegment = new Map<Segment, SourceRef>();
      segments.forEach((segment, i) => {
        if (segment !== null) bySegment.set(segment, sources[i] as SourceRef);
      });
      const needed = [...new Set(ranked.map((r) => r.segment))];
      const contents = new Map<Segment, SourceContent | null>();
      await mapConcurrent(needed, READ_CONCURRENCY, async (segment) => {
        const source = bySegment.get(segment) as SourceRef;
        // A file that stopped parsing since its check: noted (or thrown), and searched again.
        const content = await this.segments.content(source, segment.source).catch((error: unknown) => {
          if (skipper === null) throw error;
          skipper(source, error);
          return null;
        });
        contents.set(segment, content);
      });
      const firsts = await chainFirsts(needed, contents, this.options.firstChainSequence).catch(
        (error: unknown) => {
          if (!(error instanceof UnreadableSequence)) throw error;
          if (skipper === null) throw error.cause; // the CorruptDataError naming the file
          skipper(bySegment.get(error.segment) as SourceRef, error.cause);
          excluded.add((bySegment.get(error.segment) as SourceRef).file);
          return 'again' as const;
        },
      );
      if (firsts === 'again') {
        attempt -= 1; // ranked again without it (each time one more file left out)
        continue;
      }
      const candidates = firsts === null ? null : toCandidates(ranked, contents, firsts);
      if (candidates !== null) return candidates;
    }
    return null;
  }

  /**
   * Re-indexes every data file and removes segments of files that are gone; returns the records
   * indexed. An abort stops it between two files: each segment names the data file it indexed,
   * so one not rebuilt yet is current or redone by the next search, as after a crash.
   */
  async rebuild(signal?: AbortSignal): Promise<number> {
    // Queued segments first, so none lands over the rebuilt ones afterwards.
    await this.writer.flush();
    this.memory.clear();
    const sources = await sourcesInScope(this.options.layout, SEARCH_KINDS, null, null);
    const keep = new Set<string>();
    let count = 0;
    await mapConcurrent(sources, READ_CONCURRENCY, async (source) => {
      throwIfAborted(signal, 'reindex');
      const segment = await this.segments.reindex(source, true);
      if (segment === null) return;
      keep.add(this.segments.segmentOf(source));
      count += segment.lengths.length;
    });
    for (const kind of SEARCH_KINDS) {
      const folder = path.join(this.dir, kind);
      for (const name of await readdirOrEmpty(folder)) {
        const file = path.join(folder, name);
        if (name.endsWith('.json') && !keep.has(file)) await removeSegment(file);
      }
    }
    return count;
  }

  /**
   * Records the index holds once caught up with `files` (every data file, with the identities
   * the stats walk found; caught up in memory: stats write nothing).
   */
  async entries(files: ReadonlyArray<{ source: SourceRef; identity: FileIdentity }>): Promise<number> {
    const segments = await this.segments.current(
      files.map((file) => file.source),
      true,
      false,
      files.map((file) => file.identity),
    );
    return segments.reduce((sum, segment) => sum + (segment?.lengths.length ?? 0), 0);
  }

  /** Logs a segment that could not be written or removed (the next search redoes it). */
  private failed(action: string, file: string, error: unknown): void {
    logEvent(
      this.options.logger,
      'warn',
      `file storage: could not ${action} a search index segment; the next search rebuilds it`,
      {
        file,
        error: ioReason(error),
      },
    );
  }
}
