/**
 * The last round trip of a Redis search (see `search-query.ts`): the records of the ranked
 * docs, read by one `SEARCH_LOAD` script per bucket, as candidates.
 */
import {
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
 * gone, and those that do not parse when the search skips them (`skipped`; else it throws).
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
  const loaded = new Map<Ranked, SearchCandidate>();
  await Promise.all(
    [...byBucket].map(async ([n, group]) => {
      const args = group.flatMap((r) => loadArgs(keys, r.doc));
      const what = `${label}: load hits`;
      const flat = (await redis.script(what, SEARCH_LOAD, [keys.buckets[n]!.counters], args)) as Array<
        string | number | null
      >;
      group.forEach((r, i) => {
        try {
          const candidate = withRecord(keys, r, flat[2 * i] ?? null, flat[2 * i + 1] ?? null);
          if (candidate !== null) loaded.set(r, candidate);
        } catch (error) {
          skipUnreadable(skipped, error, r.doc.kind, r.doc.owner, recordIdOf(r.doc));
        }
      });
    }),
  );
  return ranked.flatMap((r) => {
    const candidate = loaded.get(r);
    return candidate === undefined ? [] : [candidate];
  });
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
