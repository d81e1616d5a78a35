/**
 * Search on the Redis index (see `search-lua.ts`), in three pipelined round trips, each one
 * small script per bucket the query covers (only the owner's bucket when every searched kind
 * is scoped): (1) each bucket's corpus figures and the document frequency of each query token,
 * with the index version; (2) each bucket's best `limit` docs and those tied with the last,
 * ranked on the server with the corpus-wide figures, so only those come back, never a whole
 * posting list; (3) the records of the overall best `limit`, ties taken in the core's order
 * (`compareRefs`). Nothing is cached here, so what another process wrote is found.
 * A bucket whose index keys cannot be read (a wrong-typed key: `search-scripts.ts`) is
 * reported to the caller, and the search answers `null` (the caller scans).
 */
import {
  bm25Idf,
  bm25Score,
  compareRefs,
  CONVERSATION_KINDS,
  hitScore,
  type NormalizedSearchQuery,
  type SearchCandidate,
} from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import type { RedisConnection } from './connection.js';
import { bucketOf, type KeyLayout } from './keys.js';
import { KIND_LETTERS, parseSearchDoc, type ParsedDoc, searchOwner, tokenKey } from './search-writer.js';
import { docsFault, type IndexFault, IndexFaults, throwFaults } from './search-faults.js';
import { loadCandidates, type Ranked } from './search-load.js';
import { SEARCH_RANK, SEARCH_STATS } from './search-scripts.js';
import { searchMarkerKey, SEARCH_INDEX_VERSION } from './search-state.js';
import { quoteName } from '../../core/shown-text.js';

/** The buckets a query reads: the scoped owners' buckets when every kind is scoped, else all. */
function bucketsOf(keys: KeyLayout, query: NormalizedSearchQuery): number[] {
  const owned = new Set<number>();
  for (const kind of query.kinds) {
    const conversation = CONVERSATION_KINDS.has(kind);
    const id = conversation ? query.conversationId : query.agentId;
    if (id === null) return keys.buckets.map((_, n) => n);
    owned.add(bucketOf(conversation ? 'c' : 'a', id, keys.bucketCount));
  }
  return [...owned];
}

/** The doc prefixes the query searches: a kind letter, or letter + owner part when scoped. */
function docPrefixes(query: NormalizedSearchQuery): string[] {
  return query.kinds.map((kind) => {
    const scope = CONVERSATION_KINDS.has(kind) ? query.conversationId : query.agentId;
    return KIND_LETTERS[kind] + (scope === null ? '' : searchOwner(scope));
  });
}

/**
 * Searches the index: at most `query.limit` candidates, best first; `null` when the index
 * may not be trusted (not built yet, or a bucket written with `searchIndex: false` since its
 * last build), so the caller scans instead. So it is when a bucket's index keys cannot be
 * read (a key of the wrong type): `faulty` is told first (it marks them stale).
 */
export async function searchRedisIndex(
  redis: RedisConnection,
  keys: KeyLayout,
  query: NormalizedSearchQuery,
  faulty: (faults: IndexFault[]) => Promise<void>,
): Promise<SearchCandidate[] | null> {
  try {
    return await searchBuckets(redis, keys, query);
  } catch (error) {
    if (!(error instanceof IndexFaults)) throw error;
    await faulty(error.faults);
    return null;
  }
}

/** {@link searchRedisIndex} without its fault handling. */
async function searchBuckets(
  redis: RedisConnection,
  keys: KeyLayout,
  query: NormalizedSearchQuery,
): Promise<SearchCandidate[] | null> {
  const buckets = bucketsOf(keys, query);
  const tokens = query.terms.map(tokenKey);
  // Each step's failure names the search, as PostgreSQL's does.
  const label = `search ${quoteName(query.text)}`;
  const [marker, stats] = await Promise.all([
    redis.run(`${label}: read index version`, (c) => c.get(searchMarkerKey(keys))),
    Promise.all(
      buckets.map(
        (n) =>
          redis.script(`${label}: read stats`, SEARCH_STATS, [keys.buckets[n]!.counters], tokens) as Promise<
            number[]
          >,
      ),
    ),
  ]);
  if (marker !== SEARCH_INDEX_VERSION) return null;
  throwFaults(buckets, stats);
  if (stats.some((s) => Number(s[2]) !== 0)) return null;
  throwIfAborted(query.signal, 'search');
  let documentCount = 0;
  let totalLength = 0;
  const df = new Array<number>(tokens.length).fill(0);
  for (const s of stats) {
    documentCount += Number(s[0]);
    totalLength += Number(s[1]);
    tokens.forEach((_, t) => (df[t] = (df[t] as number) + Number(s[3 + t])));
  }
  const corpus = { documentCount, averageLength: documentCount === 0 ? 0 : totalLength / documentCount };
  const idfs = df.map((f) => bm25Idf(f, documentCount));
  const prefixes = docPrefixes(query);
  // Only buckets that can hold a hit: one posting of any token ('any'), of every token ('all').
  const useful = buckets.filter((_, i) => {
    const counts = stats[i]!.slice(3).map(Number);
    return query.match === 'all' ? counts.every((c) => c > 0) : counts.some((c) => c > 0);
  });
  const replies = await Promise.all(
    useful.map((n) => {
      const local = stats[buckets.indexOf(n)]!;
      const args: Array<string | number> = [query.match, query.limit, corpus.averageLength, tokens.length];
      tokens.forEach((token, t) => args.push(token, idfs[t] as number, Number(local[3 + t])));
      return redis.script(
        `${label}: rank postings`,
        SEARCH_RANK,
        [keys.buckets[n]!.counters],
        [...args, ...prefixes],
      ) as Promise<Array<string | number>>;
    }),
  );
  throwFaults(useful, replies);
  throwIfAborted(query.signal, 'search');
  const scored: Scored[] = [];
  const width = 2 + tokens.length;
  replies.forEach((flat, i) => {
    for (let j = 0; j + width <= flat.length; j += width) {
      const tfs = flat.slice(j + 2, j + width).map(Number);
      const matched = tfs.filter((f) => f > 0).length;
      const bm25 = bm25Score(tfs, idfs, Number(flat[j + 1]), corpus);
      scored.push({ bucket: useful[i]!, num: String(flat[j]), bm25, score: hitScore(matched, bm25) });
    }
  });
  // By the hits' own score: BM25s the squash makes equal are a tie, which the core orders by ref.
  scored.sort((a, b) => b.score - a.score);
  const ranked = await nameBest(redis, keys, scored, query.limit, label);
  throwIfAborted(query.signal, 'search');
  ranked.sort((a, b) => b.score - a.score || compareRefs(a.ref, b.ref));
  // A doc comes back once (two live numbers for one doc would be an index fault, never a hit twice).
  const seen = new Set<string>();
  const unique = ranked.filter((r) => !seen.has(r.name) && Boolean(seen.add(r.name)));
  return loadCandidates(redis, keys, unique.slice(0, query.limit), label, query.skipped);
}

/** A doc number a bucket ranked, with its score. */
interface Scored {
  bucket: number;
  num: string;
  bm25: number;
  /** The hit's score (`hitScore`), which the core orders by. */
  score: number;
}

/**
 * Names the best `limit` of `scored` (sorted best first) and every doc tied with the last of
 * them (their order is by ref, so a tie is settled by name): one `HMGET` of `search-docs` per
 * bucket, pipelined. A number no longer named (its doc was dropped since) is left out.
 */
async function nameBest(
  redis: RedisConnection,
  keys: KeyLayout,
  scored: readonly Scored[],
  limit: number,
  label: string,
): Promise<Ranked[]> {
  const cut = scored[Math.min(limit, scored.length) - 1]?.score;
  const byBucket = new Map<number, Scored[]>();
  // Grouped in place: every doc tied with the last may be many (200,000 messages of one word),
  // and a copy of the group per doc took minutes.
  for (const s of scored.filter((d, i) => i < limit || d.score === cut)) {
    const group = byBucket.get(s.bucket);
    if (group === undefined) byBucket.set(s.bucket, [s]);
    else group.push(s);
  }
  const ranked: Ranked[] = [];
  await Promise.all(
    [...byBucket].map(async ([n, group]) => {
      const names = await redis
        .run(`${label}: name hits`, (c) =>
          c.hmget(
            keys.buckets[n]!.searchDocs,
            group.map((s) => s.num),
          ),
        )
        .catch((error: unknown) => docsFault(redis, keys, n, error));
      group.forEach((s, i) => {
        const name = names[i] ?? null;
        const doc = name === null ? null : parseSearchDoc(name);
        const ref = doc === null ? null : refOf(doc);
        if (doc !== null && ref !== null) ranked.push({ ...s, name: name!, doc, ref });
      });
    }),
  );
  return ranked;
}

/** The ref of a doc (a chain's position is set when its record is read). */
function refOf(doc: ParsedDoc): SearchCandidate | null {
  const { kind, owner, key } = doc;
  switch (kind) {
    case 'raw_messages':
      return { kind, conversationId: owner, messageIndex: Number(key), record: null, bm25: 0 };
    case 'memories':
      return { kind, conversationId: owner, memoryId: key, record: {}, bm25: 0 };
    case 'reasoning_chains':
      // Until the record is read, the sequence orders an agent's chains as positions do.
      return { kind, agentId: owner, chainIndex: Number(key), sequence: Number(key), record: {}, bm25: 0 };
    default:
      return { kind, conversationId: owner, record: {}, bm25: 0 };
  }
}
