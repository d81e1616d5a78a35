/**
 * The search segments of a store's data files, brought up to date with them on demand: from
 * memory, from the segment on disk (or queued for it) when it indexed the data file as it is,
 * else indexed again from the data file. Used by {@link FileSearchIndex} for searches, stats
 * and rebuilds; the writes it is told of keep the same memory in step.
 */
import { CorruptDataError, type SearchFields, type SearchKind } from '../../core/index.js';
import type { FileIdentity } from './atomic-json.js';
import { LoopTurns } from './loop-turns.js';
import type { SearchMemory } from './search-memory.js';
import {
  fieldsFingerprint,
  readSegment,
  type Segment,
  type SegmentBuilder,
  segmentFile,
  writeSegment,
} from './search-segments.js';
import type { SegmentWriter } from './segment-writer.js';
import { identitiesOf, readSource, type SourceContent, type SourceRef } from './search-sources.js';

/** Stale segments checked (each a synchronous read, or a data file read and indexed) per turn of the event loop. */
const CATCH_UP_CHUNK = 32;
/**
 * Segment paths remembered at most, then forgotten all at once. Not a least-recently-used
 * cache as the folders known to exist are: a path is a pure function of kind and folder name
 * (it never goes stale), a miss costs one sha256 of a short name (a few µs), and its callers
 * are searches asking for every data file in scope in the same order. On such repeated scans
 * of more files than the bound an LRU misses on every look-up, as this does, and under the
 * bound it would add its bookkeeping to every hit (measured: 130-250 ns a hit, a Map 1-115 ns).
 */
const MAX_CACHED_PATHS = 200_000;

/** What {@link SegmentCatchUp} works with: the index's folder, builder, memory and background writer. */
export interface SegmentCatchUpParts {
  /** `.connectome-storage/search/` */
  dir: string;
  /** The store's base folder (segments are written inside it). */
  baseDir: string;
  /** The store's `searchFields`. */
  fields: SearchFields;
  /** A read-only store repairs stale segments in memory only. */
  readOnly: boolean;
  builder: SegmentBuilder;
  memory: SearchMemory;
  writer: SegmentWriter;
}

/** Segments checked against their data files, and stale ones indexed again. */
export class SegmentCatchUp {
  /** The `searchFields` fingerprint of each kind. */
  private readonly fingerprints: Partial<Record<SearchKind, string>> = {};
  /** Segment file by kind and folder name. */
  private readonly segmentPaths = new Map<string, string>();

  constructor(private readonly parts: SegmentCatchUpParts) {}

  /**
   * The segment of each data file (`null`: no such file), re-indexing the stale ones. A data
   * file that does not parse throws `CorruptDataError`, as its load does, or counts as missing
   * when `skipCorrupt` (stats are never failed by one bad file; a function is told of each such
   * file, and may throw). `known`: the files' identities when the caller has just taken them,
   * else each file is `stat`ed.
   */
  async current(
    sources: readonly SourceRef[],
    skipCorrupt: boolean | ((source: SourceRef, error: CorruptDataError) => void) = false,
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
      const cached = this.parts.memory.segment(target);
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
        if (skipCorrupt === false || !(error instanceof CorruptDataError)) throw error;
        if (skipCorrupt !== true) skipCorrupt(source, error);
        return null;
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
    const queued = this.parts.writer.queued(target);
    let onDisk: Segment | null;
    try {
      onDisk = queued !== undefined ? queued : readSegment(target, source.kind, source.owner);
    } catch {
      onDisk = null; // unreadable: indexed again from the data file
    }
    if (onDisk !== null && onDisk.source === identity && onDisk.fields === this.fingerprint(source)) {
      this.parts.memory.remember(target, onDisk);
      return onDisk;
    }
    return this.reindex(source, false, persist);
  }

  /**
   * Indexes a data file from its content (`null`: no such file); stored unless the store is
   * read-only, at once when `strict`, else by the background writer.
   */
  async reindex(source: SourceRef, strict: boolean, persist = true): Promise<Segment | null> {
    const content = await readSource(source);
    const target = this.segmentOf(source);
    if (content === null) return null;
    const segment = this.parts.builder.build(
      source.kind,
      source.owner,
      this.fingerprint(source),
      content.identity,
      content.records,
    );
    this.parts.memory.remember(target, segment);
    this.parts.memory.rememberSource(source.file, content);
    if (persist && !this.parts.readOnly) {
      // No lock: the segment names the data file it indexed, so one that loses a race with
      // a writer is stale, never wrong, and is redone by the next search.
      if (strict) await writeSegment(this.parts.baseDir, target, segment);
      else this.parts.writer.write(target, segment);
    }
    return segment;
  }

  /** A data file's records when it still has `identity`, from memory or read again; `null` otherwise. */
  async content(source: SourceRef, identity: FileIdentity): Promise<SourceContent | null> {
    const cached = this.parts.memory.source(source.file);
    if (cached?.identity === identity) return cached;
    const content = await readSource(source);
    if (content === null) return null;
    this.parts.memory.rememberSource(source.file, content);
    return content.identity === identity ? content : null;
  }

  /** The segment file of a data file (its hash remembered: a search asks for every file in scope). */
  segmentOf(source: SourceRef): string {
    const key = `${source.kind}/${source.owner}`;
    let file = this.segmentPaths.get(key);
    if (file === undefined) {
      if (this.segmentPaths.size >= MAX_CACHED_PATHS) this.segmentPaths.clear();
      file = segmentFile(this.parts.dir, source.kind, source.owner);
      this.segmentPaths.set(key, file);
    }
    return file;
  }

  /** The `searchFields` fingerprint a current segment of `source`'s kind carries. */
  fingerprint(source: SourceRef): string {
    return (this.fingerprints[source.kind] ??= fieldsFingerprint(this.parts.fields, source.kind));
  }
}
