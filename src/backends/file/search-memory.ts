/**
 * What the file backend's index keeps in memory: parsed segments (bounded by their postings)
 * and parsed data files (for reading hits' records), each least recently used first.
 */
import type { Segment } from './search-segments.js';
import type { SourceContent } from './search-sources.js';

/** Posting numbers kept in memory at most (about 8 bytes each); beyond, the oldest segments are dropped. */
const MAX_CACHED_POSTINGS = 16_000_000;
/** Parsed data files kept for reading hits' records. */
const MAX_CACHED_SOURCES = 64;

function postingsOf(segment: Segment): number {
  // The postings are built later: count them as the records' token counts they come from.
  let n = 0;
  for (const doc of segment.docs) n += doc.length / 4 + 4;
  return n;
}

/** The index's parsed segments and data files (see the module comment). */
export class SearchMemory {
  /** Parsed segments by segment file, least recently used first. */
  private readonly segments = new Map<string, Segment>();
  private cachedPostings = 0;
  /** Parsed data files by path, least recently used first. */
  private readonly sources = new Map<string, SourceContent>();

  /** The segment kept for `target`, marked as the most recently used. */
  segment(target: string): Segment | undefined {
    const segment = this.segments.get(target);
    if (segment === undefined) return undefined;
    this.segments.delete(target); // re-inserted as the most recently used
    this.segments.set(target, segment);
    return segment;
  }

  /** Keeps `segment` as `target`'s, dropping the oldest ones past the limit. */
  remember(target: string, segment: Segment): void {
    this.forget(target);
    this.segments.set(target, segment);
    this.cachedPostings += postingsOf(segment);
    for (const [oldest, old] of this.segments) {
      if (this.cachedPostings <= MAX_CACHED_POSTINGS) break;
      this.segments.delete(oldest);
      this.cachedPostings -= postingsOf(old);
    }
  }

  /** Drops `target`'s segment. */
  forget(target: string): void {
    const segment = this.segments.get(target);
    if (segment === undefined) return;
    this.segments.delete(target);
    this.cachedPostings -= postingsOf(segment);
  }

  /** Drops every segment and data file. */
  clear(): void {
    this.segments.clear();
    this.cachedPostings = 0;
    this.sources.clear();
  }

  /** The parsed data file kept for `file`. */
  source(file: string): SourceContent | undefined {
    return this.sources.get(file);
  }

  /** Keeps a parsed data file, dropping the oldest ones past the limit. */
  rememberSource(file: string, content: SourceContent): void {
    this.sources.delete(file);
    this.sources.set(file, content);
    for (const oldest of this.sources.keys()) {
      if (this.sources.size <= MAX_CACHED_SOURCES) break;
      this.sources.delete(oldest);
    }
  }
}
