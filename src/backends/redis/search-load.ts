/**
 * The last round trip of a Redis search (see `search-query.ts`): the records of the ranked
 * docs, read by one `SEARCH_LOAD` script per bucket, as candidates.
 */
import {
  CorruptDataError,
  type JsonObject,
  type SearchCandidate,
  skipUnreadable,
  type SkippedRecords,
} from '../../core/index.js';
import { decodeJson, decodeMemories, decodeObject } from './codec.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';
import { KIND_LETTERS, type ParsedDoc, searchOwner } from './search-writer.js';
import { SEARCH_LOAD } from './search-scripts.js';
import { type TypedKey, wrongTypedKeys } from './wrong-types.js';

/** A ranked doc: where it was found, its ref parts and its score. */
export interface Ranked {
  bucket: number;
  name: string;
  doc: ParsedDoc;
  ref: SearchCandidate;
  bm25: number;
  score: number;
}

/** The SEARCH_LOAD arguments of a doc. */
function loadArgs(keys: KeyLayout, doc: ParsedDoc): string[] {
  const letter = KIND_LETTERS[doc.kind];
  if (doc.kind === 'reasoning_chains') {
    const k = keys.agent(doc.owner);
    return [letter, k.chains, k.agent, `${doc.key} ${searchOwner(doc.owner)}`];
  }
  const k = keys.conversation(doc.owner);
  switch (doc.kind) {
    case 'raw_messages':
      return [letter, k.raw, '', doc.key];
    case 'memories':
      return [letter, k.memoryData, k.memoryCreated, doc.key];
    case 'conversations':
      return [letter, k.conversation, '', ''];
    default:
      return [letter, k.chunks, '', ''];
  }
}

/**
 * Reads the records of the ranked docs (one script per bucket), dropping docs whose record is
 * gone, and those that do not parse or whose record key holds another Redis type when the
 * search skips them (`skipped`; else it throws, naming the key).
 */
export async function loadCandidates(
  redis: RedisConnection,
  keys: KeyLayout,
  ranked: Ranked[],
  label: string,
  skipped: SkippedRecords | null,
): Promise<SearchCandidate[]> {
  const byBucket = new Map<number, Ranked[]>();
  for (const r of ranked) byBucket.set(r.bucket, [...(byBucket.get(r.bucket) ?? []), r]);
  const replies = new Map<Ranked, LoadReply>();
  const what = `${label}: load hits`;
  await Promise.all(
    [...byBucket].map(([n, group]) => loadBucket(redis, keys, n, group, { what, skipped, replies })),
  );
  const loaded = new Map<Ranked, SearchCandidate>();
  for (const [r, [text, extra]] of replies) {
    try {
      const candidate = withRecord(keys, r, text, extra);
      if (candidate !== null) loaded.set(r, candidate);
    } catch (error) {
      skipUnreadable(skipped, error, r.doc.kind, r.doc.owner, recordIdOf(r.doc));
    }
  }
  return ranked.flatMap((r) => {
    const candidate = loaded.get(r);
    return candidate === undefined ? [] : [candidate];
  });
}

/** What `SEARCH_LOAD` answers for one doc: the record JSON (`null`: gone), and its extra. */
type LoadReply = [text: string | number | null, extra: string | number | null];

/** The Redis types of the keys in a doc's `SEARCH_LOAD` arguments (by kind letter), in order. */
const KEY_TYPES: Readonly<Record<string, readonly string[]>> = {
  r: ['list'],
  m: ['hash', 'hash'],
  a: ['list', 'hash'],
  v: ['string'],
  k: ['string'],
};

/** The record keys a doc's load reads, with their types. */
function typedKeysOf(keys: KeyLayout, doc: ParsedDoc): TypedKey[] {
  const args = loadArgs(keys, doc);
  const types = KEY_TYPES[args[0]!]!;
  return types.flatMap((type, i): TypedKey[] => (args[i + 1] ? [[args[i + 1]!, type]] : []));
}

/**
 * Reads one bucket's docs into `replies`. A record key of another type fails the whole script
 * (the server's `WRONGTYPE` names no key): the docs' key types are asked then, a doc reading
 * such a key is skipped as unreadable (its error naming the key; thrown without `skipped`, so
 * the search fails as a load of it would), and the others are read again. Until 2026-12-06
 * that one key failed the whole search, with `'skip'` too.
 */
async function loadBucket(
  redis: RedisConnection,
  keys: KeyLayout,
  n: number,
  group: Ranked[],
  out: { what: string; skipped: SkippedRecords | null; replies: Map<Ranked, LoadReply> },
): Promise<void> {
  const args = group.flatMap((r) => loadArgs(keys, r.doc));
  let flat: Array<string | number | null>;
  try {
    flat = (await redis.script(out.what, SEARCH_LOAD, [keys.buckets[n]!.counters], args)) as typeof flat;
  } catch (error) {
    if (!(error instanceof CorruptDataError)) throw error;
    const typed = group.map((r) => typedKeysOf(keys, r.doc));
    const wrong = await wrongTypedKeys(redis, out.what, typed.flat(), error);
    // No record key of another type (an index key, or the key changed since): as it was.
    if (wrong.size === 0) throw error;
    const readable = group.filter((r, i) => {
      const fault = typed[i]!.map(([key]) => wrong.get(key)).find((e) => e !== undefined);
      if (fault !== undefined) skipUnreadable(out.skipped, fault, r.doc.kind, r.doc.owner, recordIdOf(r.doc));
      return fault === undefined;
    });
    if (readable.length > 0) await loadBucket(redis, keys, n, readable, out);
    return;
  }
  group.forEach((r, i) => out.replies.set(r, [flat[2 * i] ?? null, flat[2 * i + 1] ?? null]));
}

/** The id a skipped doc is logged with: message index, memory id or chain sequence (none for a whole object). */
function recordIdOf(doc: ParsedDoc): string | number | undefined {
  switch (doc.kind) {
    case 'raw_messages':
    case 'reasoning_chains':
      return Number(doc.key);
    case 'memories':
      return doc.key;
    default:
      return undefined;
  }
}

/** A ranked doc with its record (`null` when the record is gone). */
function withRecord(
  keys: KeyLayout,
  r: Ranked,
  text: string | number | null,
  extra: string | number | null,
): SearchCandidate | null {
  if (typeof text !== 'string') return null;
  const { ref, doc, bm25 } = r;
  switch (ref.kind) {
    case 'raw_messages':
      return {
        ...ref,
        record: decodeJson(text, `${keys.conversation(doc.owner).raw} item ${doc.key}`),
        bm25,
      };
    case 'memories': {
      const created = typeof extra === 'string' ? extra : null;
      const [record] = decodeMemories([doc.key, text, created], keys.conversation(doc.owner), doc.owner);
      return record === undefined ? null : { ...ref, record, bm25 };
    }
    case 'reasoning_chains': {
      const key = keys.agent(doc.owner).chains;
      const chainIndex = Number(extra);
      return {
        ...ref,
        chainIndex,
        record: decodeObject(text, `${key} item ${chainIndex}`) as JsonObject,
        bm25,
      };
    }
    default: {
      const k = keys.conversation(doc.owner);
      const key = ref.kind === 'conversations' ? k.conversation : k.chunks;
      return { ...ref, record: decodeObject(text, key) as JsonObject, bm25 };
    }
  }
}
