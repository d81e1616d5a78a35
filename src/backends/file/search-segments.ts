/**
 * Segments of the file backend's full-text index: one small file per indexed data file
 * (`.connectome-storage/search/{kind}/{hash of the folder name}.json`), holding the postings of
 * the records in that data file and the data file's identity (device, inode, size, mtime in ns)
 * when it was indexed. A segment is trusted only while the data file still has that identity
 * and the segment was built with the same `searchFields`, so a write the index missed (another
 * writer, a crash between the record and its segment) is seen at the next search.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject, JsonValue, SearchKind, TextExtractor } from '../../core/index.js';
import {
  CorruptDataError,
  DEFAULT_TEXT_RULE_VERSION,
  LIBRARY_TIMESTAMP_FIELDS,
  countTokens,
} from '../../core/index.js';
import type { FileIdentity } from './atomic-json.js';
import { makeDirUnder } from './atomic-json.js';
import { readFileAndStatSync } from './fd-io.js';
import { isMissing, releaseTempEntry, tempEntryName } from './temp-files.js';

/** Format version written in every segment; another version is stale. */
const SEGMENT_VERSION = 2;

/** The indexed text of one record: its length in tokens and its token counts as stored. */
interface DocTokens {
  length: number;
  /** `token token:count ...` (count left out when 1); tokens never hold a space or `:`. */
  text: string;
}

/** The index of one data file, as searches use it. */
export interface Segment {
  /** The folder name of the conversation or agent. */
  owner: string;
  /** The record kind of the data file. */
  kind: SearchKind;
  /** The `searchFields` of the kind the segment was built with (see {@link fieldsFingerprint}). */
  fields: string;
  /** Identity of the data file indexed. */
  source: FileIdentity;
  /** Each record's token counts in list order, as {@link DocTokens.text} (1 record for a conversation or chunk info). */
  docs: string[];
  /** Length in tokens of each record. */
  lengths: number[];
  /** Sum of {@link lengths}. */
  totalLength: number;
  /** Memories only: each record's `memory_id` as hits report it. */
  ids: string[] | undefined;
  /** Token → flat `[record position, term frequency, ...]`, built from {@link docs} by the first search (see {@link termsOf}). */
  terms: Map<string, number[]> | undefined;
}

/**
 * A stable string for the `searchFields` of `kind` (segments built with other fields are stale).
 * Without paths it names the default rule: `null` for a kind whose rule never changed, and the
 * rule's version for memories and chains, whose default leaves out the library's timestamp
 * since version 2 (segments written under version 1 said `null`, so they are rebuilt).
 */
export function fieldsFingerprint(
  fields: Partial<Record<SearchKind, readonly string[]>>,
  kind: SearchKind,
): string {
  const paths = fields[kind];
  if (paths !== undefined) return JSON.stringify(paths);
  return LIBRARY_TIMESTAMP_FIELDS[kind] === undefined ? 'null' : `default:${DEFAULT_TEXT_RULE_VERSION}`;
}

/** `.connectome-storage/search/{kind}/{32 hex of sha256(folder name)}.json` */
export function segmentFile(searchDir: string, kind: SearchKind, owner: string): string {
  const hash = createHash('sha256').update(owner, 'utf8').digest('hex').slice(0, 32);
  return path.join(searchDir, kind, `${hash}.json`);
}

/**
 * The postings of a segment, built once from its records' token counts: a write only strings
 * together its records' counts, and the search that needs the postings builds them.
 */
export function termsOf(segment: Segment): Map<string, number[]> {
  if (segment.terms !== undefined) return segment.terms;
  const terms = new Map<string, number[]>();
  segment.docs.forEach((doc, position) => {
    if (doc === '') return;
    for (const entry of doc.split(' ')) {
      const colon = entry.lastIndexOf(':');
      const token = colon === -1 ? entry : entry.slice(0, colon);
      const count = colon === -1 ? 1 : Number(entry.slice(colon + 1));
      const postings = terms.get(token);
      if (postings === undefined) terms.set(token, [position, count]);
      else postings.push(position, count);
    }
  });
  segment.terms = terms;
  return terms;
}

/**
 * Tokenizes records into segments. Token counts are remembered per record object, so a write
 * that keeps most records of a list (the list cache hands the same objects back) only
 * tokenizes the records it added or changed.
 */
export class SegmentBuilder {
  private readonly known = new Map<SearchKind, WeakMap<object, DocTokens>>();

  /** @param extractor the store's indexed-text extractor. */
  constructor(private readonly extractor: () => TextExtractor) {}

  /** The segment of the records of one data file with identity `source`. */
  build(
    kind: SearchKind,
    owner: string,
    fields: string,
    source: FileIdentity,
    records: readonly JsonValue[],
  ): Segment {
    const docs: string[] = [];
    const lengths: number[] = [];
    let totalLength = 0;
    for (const record of records) {
      const doc = this.tokens(kind, record);
      docs.push(doc.text);
      lengths.push(doc.length);
      totalLength += doc.length;
    }
    const ids =
      kind === 'memories' ? records.map((record) => String((record as JsonObject).memory_id)) : undefined;
    return { owner, kind, fields, source, docs, lengths, totalLength, ids, terms: undefined };
  }

  private tokens(kind: SearchKind, record: JsonValue): DocTokens {
    const cacheable = typeof record === 'object' && record !== null;
    let known = this.known.get(kind);
    if (known === undefined) this.known.set(kind, (known = new WeakMap()));
    const cached = cacheable ? known.get(record) : undefined;
    if (cached !== undefined) return cached;
    const { tokens, counts, length } = countTokens(this.extractor().extract(kind, record));
    const parts = tokens.map((token, i) => (counts[i] === 1 ? token : `${token}:${counts[i]}`));
    const doc = { length, text: parts.join(' ') };
    if (cacheable) known.set(record, doc);
    return doc;
  }
}

/** First bytes of every segment file, before its checksum, length and JSON body. */
const SEGMENT_MAGIC = `cseg${SEGMENT_VERSION}`;

/** Hex digits of the body's sha256 kept in a segment's header. */
const CHECKSUM_HEX = 32;

function checksumOf(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex').slice(0, CHECKSUM_HEX);
}

/**
 * The text of a segment: a header line `cseg{version} {checksum} {body length}` then the JSON
 * body on one line. Segments are written without fsync, so a crash can leave one cut short,
 * zero-filled or holding stale blocks; the checksum and length make any such segment fail to
 * parse (and be rebuilt) even where the damage still reads as JSON.
 */
export function formatSegment(segment: Segment): string {
  const body = JSON.stringify({
    owner: segment.owner,
    kind: segment.kind,
    fields: segment.fields,
    source: segment.source,
    lengths: segment.lengths,
    ids: segment.ids,
    docs: segment.docs,
  });
  return `${SEGMENT_MAGIC} ${checksumOf(body)} ${body.length}\n${body}`;
}

/** The JSON body of a segment's text when its header, length and checksum hold, else `null`. */
function verifiedBody(text: string): string | null {
  const newline = text.indexOf('\n');
  if (newline === -1) return null;
  const [magic, checksum, length] = text.slice(0, newline).split(' ');
  const body = text.slice(newline + 1);
  if (magic !== SEGMENT_MAGIC || length !== String(body.length)) return null;
  return checksum === checksumOf(body) ? body : null;
}

const isIntArray = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** A segment from its JSON text, or `null` when it is not a well-formed segment of `kind` and `owner`. */
export function parseSegment(text: string, kind: SearchKind, owner: string): Segment | null {
  const body = verifiedBody(text);
  if (body === null) return null; // a torn, damaged, older or foreign file: rebuilt like a stale one
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.kind !== kind || v.owner !== owner) return null;
  const { fields, source, lengths, docs, ids } = v;
  if (typeof fields !== 'string' || typeof source !== 'string') return null;
  if (!isIntArray(lengths) || !isStringArray(docs) || docs.length !== lengths.length) return null;
  if (ids !== undefined && !(isStringArray(ids) && ids.length === docs.length)) return null;
  const totalLength = lengths.reduce((sum, n) => sum + n, 0);
  return { owner, kind, fields, source, docs, lengths, totalLength, ids, terms: undefined };
}

/**
 * Reads a segment file; `null` when missing or not a well-formed segment (never throws for bad
 * content). Synchronous: a segment is a small page-cached file, and an asynchronous
 * `readFile` costs four trips through the thread pool (open, stat, read, close), about three
 * times the CPU of this read; a first search reads one segment per data file in scope (the
 * caller releases the event loop between chunks of them).
 */
export function readSegment(file: string, kind: SearchKind, owner: string): Segment | null {
  let text: string;
  try {
    // Not `readFileSync`: a FIFO in its place would block the event loop in `open` (see `fd-io.ts`).
    text = readFileAndStatSync(file).bytes.toString('utf8');
  } catch (error) {
    if (isMissing(error) || error instanceof CorruptDataError) return null; // not a segment file
    throw error;
  }
  return parseSegment(text, kind, owner);
}

/**
 * Replaces a segment file without fsync: a segment is checked against its data file before
 * every use, so one lost or torn by a crash is only rebuilt, never trusted. The old segment is
 * unlinked before the new one is renamed in, because ext4 flushes a file renamed over another
 * one at once (`auto_da_alloc`), which made each write wait for the disk twice; a search in
 * that instant finds no segment and indexes the data file itself. Synchronous calls: a small
 * write into the page cache, an unlink and a rename take microseconds, where each trip through
 * the thread pool (shared with the data writes, which wait on fsync) costs far more.
 */
export function writeSegment(baseDir: string, file: string, segment: Segment): Promise<void> {
  const temp = path.join(path.dirname(file), tempEntryName(path.basename(file)));
  const text = formatSegment(segment);
  const write = (): void => {
    try {
      fs.writeFileSync(temp, text, { flag: 'wx' });
    } catch (error) {
      // A write cut short (a full disk) leaves the created temp file: nothing else would remove
      // it while this process lives. EEXIST is another file; ENOENT, no file was made.
      if (!isMissing(error) && (error as NodeJS.ErrnoException).code !== 'EEXIST') removeQuietly(temp);
      throw error;
    }
  };
  return (async () => {
    try {
      write();
    } catch (error) {
      if (!isMissing(error)) throw error;
      await makeDirUnder(baseDir, path.dirname(file));
      write();
    }
    try {
      fs.rmSync(file, { force: true });
      fs.renameSync(temp, file);
    } catch (error) {
      removeQuietly(temp);
      throw error;
    }
  })().finally(() => releaseTempEntry(temp));
}

/**
 * Removes a failed write's temp file, ignoring a failure: the write's error is the one to
 * report (an ENOSPC, not the unlink's EPERM or EROFS that hid it), as `atomic-json.ts` does.
 */
function removeQuietly(temp: string): void {
  try {
    fs.rmSync(temp, { force: true });
  } catch {
    // Left behind: the start-up sweep of temp entries removes it later.
  }
}

/** Removes a segment file (nothing when absent). */
export async function removeSegment(file: string): Promise<void> {
  await fs.promises.unlink(file).catch((error: unknown) => {
    if (!isMissing(error)) throw error;
  });
}
