/**
 * The file backend's native full-text index: one segment per data file under
 * `.connectome-storage/search/` (see `search-segments.ts`), kept in step by the writes of this
 * library (under the folder's lock, right after the data file) and checked against the data
 * files before every search, so what another writer changed (another process, the Python
 * reference, a crash between a record and its segment) is re-indexed before it is searched.
 */
import {
  CorruptDataError,
  type JsonObject,
  type JsonValue,
  logEvent,
  type NormalizedSearchQuery,
  type SearchCandidate,
  type SearchFields,
  type SearchKind,
  SEARCH_KINDS,
  type StorageLogger,
  type TextExtractor,
} from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import { mapConcurrent } from '../../core/concurrency.js';
import { type FileIdentity, identitySize, readdirOrEmpty } from './atomic-json.js';
import type { FolderWriteListener } from './folder-files.js';
import type { StoreLayout } from './layout.js';
import { rankSegments, toCandidates } from './search-lookup.js';
import {
  fieldsFingerprint,
  readSegment,
  removeSegment,
  type Segment,
  SegmentBuilder,
  segmentFile,
  writeSegment,
} from './search-segments.js';
import { SearchMemory } from './search-memory.js';
import { SegmentWriter } from './segment-writer.js';
import {
  identitiesOf,
  readSource,
  recordsOf,
  type SourceContent,
  type SourceRef,
  SOURCE_FILES,
  sourceOf,
  sourcesInScope,
} from './search-sources.js';
import path from 'node:path';
import { LoopTurns } from './loop-turns.js';

/** Folder of the segments, inside `.connectome-storage/`. */
export const SEARCH_DIR = 'search';

/** Segments or data files read at once while catching up. */
const READ_CONCURRENCY = 8;
/** Stale segments checked (each a synchronous read, or a data file read and indexed) per turn of the event loop. */
const CATCH_UP_CHUNK = 32;
/** Data files bigger than this are indexed by the next search instead of by their write. */
const MAX_INDEXED_ON_WRITE_BYTES = 1024 * 1024;
/** Segment paths remembered at most (then forgotten all at once). */
const MAX_CACHED_PATHS = 200_000;
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
  /** The sequence number of an agent's first chain, given the chains read (see `FileChains`). */
  firstChainSequence: (agentId: string, chains: readonly JsonValue[]) => Promise<number>;
}

/** The segments of one store: kept in step by writes, checked and caught up by searches. */
export class FileSearchIndex implements FolderWriteListener {
  /** `.connectome-storage/search/` */
  readonly dir: string;
  private readonly builder: SegmentBuilder;
  /** Parsed segments and data files. */
  private readonly memory = new SearchMemory();
  /** The `searchFields` fingerprint of each kind. */
  private readonly fingerprints: Partial<Record<SearchKind, string>> = {};
  /** Segment file by kind and folder name. */
  private readonly segmentPaths = new Map<string, string>();
  /** Segment files still to be written (in the background, after the calls that changed them). */
  private readonly writer: SegmentWriter;

  constructor(private readonly options: FileSearchIndexOptions) {
    this.dir = path.join(options.layout.internalDir, SEARCH_DIR);
    this.builder = new SegmentBuilder(options.extractor);
    this.writer = new SegmentWriter(options.layout.baseDir, (action, file, error) =>
      this.failed(action, file, error),
    );
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
    const target = this.segmentOf(source);
    this.memory.forget(target);
    // A big data file is left to the first search that needs it (its segment is stale by its
    // identity), so a write does not wait for its tokenizing.
    if (identity === undefined || identitySize(identity) > MAX_INDEXED_ON_WRITE_BYTES) return;
    try {
      const records = recordsOf(source.kind, file, content);
      const segment = this.builder.build(
        source.kind,
        source.owner,
        this.fingerprint(source),
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
    const target = this.segmentOf(source);
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
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const sources = await sourcesInScope(layout, query.kinds, query.conversationId, query.agentId);
      throwIfAborted(query.signal, 'search');
      const segments = await this.current(sources);
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
        contents.set(segment, await this.content(bySegment.get(segment) as SourceRef, segment.source));
      });
      const firsts = new Map<Segment, number>();
      for (const segment of needed) {
        const content = contents.get(segment);
        if (segment.kind !== 'reasoning_chains' || content === null || content === undefined) continue;
        firsts.set(segment, await this.options.firstChainSequence(segment.owner, content.records));
      }
      const candidates = toCandidates(ranked, contents, firsts);
      if (candidates !== null) return candidates;
    }
    return null;
  }

  /** Re-indexes every data file and removes segments of files that are gone; returns the records indexed. */
  async rebuild(): Promise<number> {
    // Queued segments first, so none lands over the rebuilt ones afterwards.
    await this.writer.flush();
    this.memory.clear();
    const sources = await sourcesInScope(this.options.layout, SEARCH_KINDS, null, null);
    const keep = new Set<string>();
    let count = 0;
    await mapConcurrent(sources, READ_CONCURRENCY, async (source) => {
      const segment = await this.reindex(source, true);
      if (segment === null) return;
      keep.add(this.segmentOf(source));
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
    const segments = await this.current(
      files.map((file) => file.source),
      true,
      false,
      files.map((file) => file.identity),
    );
    return segments.reduce((sum, segment) => sum + (segment?.lengths.length ?? 0), 0);
  }

  // ----- helpers ---------------------------------------------------------------------------

  /**
   * The segment of each data file (`null`: no such file), re-indexing the stale ones. A data
   * file that does not parse throws `CorruptDataError`, as its load does, or counts as empty
   * when `skipCorrupt` (stats are never failed by one bad file). `known`: the files'
   * identities when the caller has just taken them, else each file is `stat`ed.
   */
  private async current(
    sources: readonly SourceRef[],
    skipCorrupt = false,
    persist = true,
    known?: ReadonlyArray<FileIdentity | null>,
  ): Promise<Array<Segment | null>> {
    const identities = known ?? (await identitiesOf(sources.map((source) => source.file)));
    const out: Array<Segment | null> = [];
    const stale: number[] = [];
    sources.forEach((source, i) => {
      const identity = identities[i] ?? null;
      if (identity === null) return void (out[i] = null);
      const target = this.segmentOf(source);
      const cached = this.memory.segment(target);
      if (cached !== undefined && cached.source === identity && cached.fields === this.fingerprint(source)) {
        out[i] = cached;
      } else stale.push(i);
    });
    // Segments and data files are read synchronously: a chunk at a time, then the event loop.
    const turns = new LoopTurns(CATCH_UP_CHUNK);
    for (const i of stale) {
      await turns.step();
      const source = sources[i] as SourceRef;
      out[i] = await this.catchUp(source, identities[i] as FileIdentity, persist).catch((error: unknown) => {
        if (skipCorrupt && error instanceof CorruptDataError) return null;
        throw error;
      });
    }
    return out;
  }

  /** The segment on disk when it indexed the data file as it is (`identity`), else a new one. */
  private async catchUp(
    source: SourceRef,
    identity: FileIdentity,
    persist: boolean,
  ): Promise<Segment | null> {
    const target = this.segmentOf(source);
    const queued = this.writer.queued(target);
    let onDisk: Segment | null;
    try {
      onDisk = queued !== undefined ? queued : readSegment(target, source.kind, source.owner);
    } catch {
      onDisk = null; // unreadable: indexed again from the data file
    }
    if (onDisk !== null && onDisk.source === identity && onDisk.fields === this.fingerprint(source)) {
      this.memory.remember(target, onDisk);
      return onDisk;
    }
    return this.reindex(source, false, persist);
  }

  /** Indexes a data file from its content; stored unless the store is read-only. */
  private async reindex(source: SourceRef, strict: boolean, persist = true): Promise<Segment | null> {
    const content = await readSource(source);
    const target = this.segmentOf(source);
    if (content === null) return null;
    const segment = this.builder.build(
      source.kind,
      source.owner,
      this.fingerprint(source),
      content.identity,
      content.records,
    );
    this.memory.remember(target, segment);
    this.memory.rememberSource(source.file, content);
    if (persist && !this.options.readOnly) {
      // No lock: the segment names the data file it indexed, so one that loses a race with
      // a writer is stale, never wrong, and is redone by the next search.
      if (strict) await writeSegment(this.options.layout.baseDir, target, segment);
      else this.writer.write(target, segment);
    }
    return segment;
  }

  /** A data file's records when it still has `identity`, from memory or read again; `null` otherwise. */
  private async content(source: SourceRef, identity: FileIdentity): Promise<SourceContent | null> {
    const cached = this.memory.source(source.file);
    if (cached?.identity === identity) return cached;
    const content = await readSource(source);
    if (content === null) return null;
    this.memory.rememberSource(source.file, content);
    return content.identity === identity ? content : null;
  }

  /** The segment file of a data file (its hash remembered: a search asks for every file in scope). */
  private segmentOf(source: SourceRef): string {
    const key = `${source.kind}/${source.owner}`;
    let file = this.segmentPaths.get(key);
    if (file === undefined) {
      if (this.segmentPaths.size >= MAX_CACHED_PATHS) this.segmentPaths.clear();
      file = segmentFile(this.dir, source.kind, source.owner);
      this.segmentPaths.set(key, file);
    }
    return file;
  }

  private fingerprint(source: SourceRef): string {
    return (this.fingerprints[source.kind] ??= fieldsFingerprint(this.options.fields, source.kind));
  }

  private failed(action: string, file: string, error: unknown): void {
    logEvent(
      this.options.logger,
      'warn',
      `file storage: could not ${action} a search index segment; the next search rebuilds it`,
      {
        file,
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }
}
