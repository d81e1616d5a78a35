/**
 * Whether the Redis search index can be trusted, and its (re)build. The store-wide version
 * marker says every bucket was indexed once (a new store, or after a build); a bucket written
 * with `searchIndex: false` carries `search_stale` in its counters until rebuilt. A search
 * reads both every time and scans instead of trusting a stale index.
 *
 * A bucket is rebuilt optimistically: mark it stale, note its `search_rev` (bumped by every
 * searchable write of the bucket), read its records, then one script per chunk of docs
 * replaces its index only if `search_rev` did not move; otherwise the bucket is read again.
 * Each build also takes a number (`search_build`) when it starts, and its chunks apply only
 * while it is the bucket's newest: of two builds of one bucket at once (two processes opening
 * a stale store together, two `reindex()` calls), the older stops and the newer, which drops
 * whatever the older wrote, finishes alone. Until 2026-12-04 their chunks interleaved and a
 * chunk was indexed twice (entries counted twice, scores off, until the next rebuild).
 */
import { StorageError, type JsonObject, type JsonValue, type TextExtractor } from '../../core/index.js';
import { throwIfAborted } from '../../core/abort.js';
import { mapConcurrent } from '../../core/concurrency.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';
import { LuaScript, indexedScript } from './scripts.js';
import { readSequencedChainRecords } from './chains.js';
import { SEARCH_INDEX_VERSION } from './search-lua.js';
import { searchDoc, searchSpec } from './search-writer.js';

export { SEARCH_INDEX_VERSION };

/** The key of a store's index version (in the `{index}` slot with the layout version). */
export function searchMarkerKey(keys: KeyLayout): string {
  return `${keys.prefix}{index}:search`;
}

/** Records that every bucket of the store is indexed. */
export async function markSearchIndexBuilt(redis: RedisConnection, keys: KeyLayout): Promise<void> {
  await redis.run('write search index version', (c) => c.set(searchMarkerKey(keys), SEARCH_INDEX_VERSION));
}

/** The buckets marked stale (written with `searchIndex: false`, or a build that did not finish). */
export async function staleBuckets(redis: RedisConnection, keys: KeyLayout): Promise<number[]> {
  const flags = await Promise.all(
    keys.buckets.map((b) => redis.run('read search state', (c) => c.hget(b.counters, 'search_stale'))),
  );
  return flags.flatMap((flag, n) => (flag !== null && flag !== '0' ? [n] : []));
}

/**
 * Marks a bucket stale and bumps its `search_rev` (a build under way starts again), as a write
 * script's failed index phase does. KEYS: counters. ARGV: tokens whose posting keys a search
 * found of the wrong type: each goes into `search-unheld` as '0' (to check) unless there
 * already; a `search-unheld` of the wrong type is left alone (the next build names it).
 */
const MARK_STALE = new LuaScript(
  'searchMarkStale',
  `redis.call('HSET', KEYS[1], 'search_stale', 1)
redis.call('HINCRBY', KEYS[1], 'search_rev', 1)
local unheld = string.sub(KEYS[1], 1, #KEYS[1] - 8) .. 'search-unheld'
for i = 1, #ARGV do redis.pcall('HSETNX', unheld, ARGV[i], '0') end`,
);

/**
 * Marks bucket `n` stale: its index is not trusted (searches scan) until rebuilt. `tokens`:
 * those whose posting keys had the wrong type, for the rebuild to check (see `noteUnheld`).
 */
export async function markBucketStale(
  redis: RedisConnection,
  keys: KeyLayout,
  n: number,
  tokens: readonly string[] = [],
): Promise<void> {
  await redis.script('mark search index stale', MARK_STALE, [keys.buckets[n]!.counters], [...tokens]);
}

/** Marks a bucket stale, takes the next build number; returns `{search_rev, build}`. KEYS: counters. */
const BEGIN_BUILD = new LuaScript(
  'searchBuildBegin',
  `redis.call('HSET', KEYS[1], 'search_stale', 1)
local build = redis.call('HINCRBY', KEYS[1], 'search_build', 1)
return {redis.call('HGET', KEYS[1], 'search_rev') or '0', tostring(build)}`,
);

/** A chunk's reply when a newer build of its bucket has begun: this build stops. */
const SUPERSEDED = 2;

/**
 * Indexes a chunk of a bucket's docs when `search_rev` is still the given one (else returns 0)
 * and no newer build of the bucket has begun (else returns {@link SUPERSEDED}).
 * KEYS: counters. ARGV: rev, build number, '1' for the first chunk (drops the bucket's old docs
 * first), '1' for the last (clears the stale mark), n, the posting keys of the n tokens no
 * earlier chunk of the build held, then doc, spec, doc, spec, ...
 * The last chunk also settles `search-unheld` (`noteUnheld`), before it clears the stale mark.
 * The drop and the adds are its index phase (`indexPhase`, `search-lua.ts`): when an index key
 * has the wrong type, the bucket stays stale (its rev bumped) and the build fails with the
 * error naming the bucket and the key, which it never removes (so every build fails until
 * it is). What the chunk wrote until then is named by the doc lists the chunk wrote first
 * (`addDocs`), so the next build drops it.
 */
const BUILD_CHUNK = indexedScript(
  'searchBuildChunk',
  `if (redis.call('HGET', KEYS[1], 'search_build') or '0') ~= ARGV[2] then return ${SUPERSEDED} end
if (redis.call('HGET', KEYS[1], 'search_rev') or '0') ~= ARGV[1] then return 0 end
local base = string.sub(KEYS[1], 1, #KEYS[1] - 8)
local function drop()
  -- Drop the bucket's index, whatever its version wrote: every word of every doc list may name
  -- postings (v3/v4 strings q:, v2 hashes p:, v1 zsets x:; v4's number fields hold doc names,
  -- whose UNLINKs find nothing); numbers restart from 0. The current version's keys are read
  -- first (STRLEN, HLEN), so one of another type is refused like in a write, not removed.
  local dropped = {}
  indexKey = base .. 'search-docs'
  for _, list in ipairs(redis.call('HVALS', indexKey)) do
    for word in string.gmatch(list, '%S+') do
      if not dropped[word] then
        dropped[word] = true
        indexKey = base .. 'q:' .. word
        redis.call('STRLEN', indexKey)
        redis.call('UNLINK', indexKey, base .. 'p:' .. word, base .. 'x:' .. word)
      end
    end
  end
  indexKey = base .. 'search-gone'
  redis.call('STRLEN', indexKey)
  indexKey = base .. 'search-dead'
  redis.call('HLEN', indexKey)
  redis.call('UNLINK', base .. 'search-docs', base .. 'search-gone', base .. 'search-dead',
    base .. 'search-nums', base .. 'search-live')
  redis.call('HDEL', KEYS[1], 'search_docs', 'search_tokens', 'search_next')
end
-- Postings of the chunk's new tokens that no doc list named (the lists were lost): dropped too,
-- so no entry is appended after a stale one. One EXISTS per 1000 when there are none.
local function dropUnnamed(from, to)
  for i = from, to, 1000 do
    local last = math.min(i + 999, to)
    if redis.call('EXISTS', unpack(ARGV, i, last)) > 0 then
      for j = i, last do
        indexKey = ARGV[j]
        if redis.call('STRLEN', indexKey) > 0 then redis.call('UNLINK', indexKey) end
      end
    end
  end
end
local fresh = 5 + tonumber(ARGV[5])
local docs, specs = {}, {}
for i = fresh + 1, #ARGV, 2 do
  docs[#docs + 1] = ARGV[i]
  specs[#specs + 1] = ARGV[i + 1]
end
-- The tokens of search-unheld (a search found their posting keys of the wrong type, or an
-- earlier build did): one whose key is still of another type is held by no doc, since every
-- token the build's docs hold had its key read (dropUnnamed) and appended to without error,
-- so it is noted '1' and searches read it as no postings, instead of marking the bucket stale
-- again and again; the key itself is never removed. One whose key is a posting string again,
-- or gone, is forgotten.
local function noteUnheld()
  indexKey = base .. 'search-unheld'
  local flat = redis.call('HGETALL', indexKey)
  for i = 1, #flat, 2 do
    local t = redis.call('TYPE', base .. 'q:' .. flat[i])['ok']
    if t == 'none' or t == 'string' then redis.call('HDEL', indexKey, flat[i])
    elseif flat[i + 1] ~= '1' then redis.call('HSET', indexKey, flat[i], '1') end
  end
end
local function build()
  if ARGV[3] == '1' then drop() end
  dropUnnamed(6, fresh)
  addDocs(KEYS[1], docs, specs)
  if ARGV[4] == '1' then noteUnheld() end
end
local bad = indexPhase(KEYS[1], build)
if bad then return redis.error_reply(bad) end
if ARGV[4] == '1' then redis.call('HDEL', KEYS[1], 'search_stale') end
return 1`,
);

/** The reads a build takes its records from (the storage's own primitives). */
export interface BuildSource {
  readConversation(conversationId: string): Promise<JsonObject | null>;
  readRawMessages(conversationId: string): Promise<JsonValue[] | null>;
  readMemories(conversationId: string): Promise<JsonObject[]>;
  readChunkInfo(conversationId: string): Promise<JsonObject | null>;
}

/** Docs per build script (a few hundred KB of arguments). */
const CHUNK_DOCS = 1000;
/** Reads in flight while reading a bucket's records. */
const READ_CONCURRENCY = 16;
/** Attempts per bucket before a build gives up (writers kept changing the bucket). */
const ATTEMPTS = 10;

/** Reads the docs of one bucket: `[doc, spec]` of every searchable record. */
async function bucketDocs(
  redis: RedisConnection,
  keys: KeyLayout,
  n: number,
  extractor: TextExtractor,
  source: BuildSource,
): Promise<Array<[string, string]>> {
  const bucket = keys.buckets[n]!;
  const [conversationIds, agentIds] = await Promise.all([
    redis.run('read search build ids', (c) => c.zrange(bucket.conversationIds, '0', '-1')),
    redis.run('read search build ids', (c) => c.zrange(bucket.agents, '0', '-1')),
  ]);
  const docs: Array<[string, string]> = [];
  const add = (doc: string, kind: Parameters<typeof searchSpec>[1], record: JsonValue): void => {
    docs.push([doc, searchSpec(extractor, kind, record)]);
  };
  await mapConcurrent(conversationIds, READ_CONCURRENCY, async (id) => {
    const [conversation, raw, memories, chunk] = await Promise.all([
      source.readConversation(id),
      source.readRawMessages(id),
      source.readMemories(id),
      source.readChunkInfo(id),
    ]);
    if (conversation !== null) add(searchDoc('conversations', id), 'conversations', conversation);
    if (chunk !== null) add(searchDoc('chunk_info', id), 'chunk_info', chunk);
    (raw ?? []).forEach((message, i) => add(searchDoc('raw_messages', id, i), 'raw_messages', message));
    for (const memory of memories)
      add(searchDoc('memories', id, String(memory.memory_id)), 'memories', memory);
  });
  await mapConcurrent(agentIds, READ_CONCURRENCY, async (id) => {
    const chains = await readSequencedChainRecords(redis, keys.agent(id), id, { after: null, limit: null });
    for (const { sequence, chain } of chains)
      add(searchDoc('reasoning_chains', id, sequence), 'reasoning_chains', chain);
  });
  return docs;
}

/** The posting keys of the tokens of `docs`' specs not in `held` (which gets them). */
function newPostingKeys(base: string, docs: ReadonlyArray<[string, string]>, held: Set<string>): string[] {
  const fresh: string[] = [];
  for (const [, spec] of docs) {
    const words = spec.split(' ');
    // A spec is "<length> <token> <tf> <token> <tf> ...".
    for (let w = 1; w < words.length; w += 2) {
      const token = words[w]!;
      if (held.has(token)) continue;
      held.add(token);
      fresh.push(`${base}q:${token}`);
    }
  }
  return fresh;
}

/** Rebuilds one bucket's index; returns the docs indexed. */
async function rebuildBucket(
  redis: RedisConnection,
  keys: KeyLayout,
  n: number,
  extractor: TextExtractor,
  source: BuildSource,
  signal: AbortSignal | undefined,
): Promise<number> {
  const counters = keys.buckets[n]!.counters;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    throwIfAborted(signal, 'reindex');
    const begun = await redis.script('begin search build', BEGIN_BUILD, [counters], []);
    const [rev, build] = (begun as unknown[]).map(String);
    const docs = await bucketDocs(redis, keys, n, extractor, source);
    let applied = true;
    const held = new Set<string>();
    for (let i = 0; applied && (i === 0 || i < docs.length); i += CHUNK_DOCS) {
      // Between two scripts: the bucket stays marked stale (scanned) until a later build's last chunk.
      if (i > 0) throwIfAborted(signal, 'reindex');
      const chunk = docs.slice(i, i + CHUNK_DOCS);
      const first = i === 0 ? '1' : '0';
      const last = i + CHUNK_DOCS >= docs.length ? '1' : '0';
      const fresh = newPostingKeys(keys.buckets[n]!.base, chunk, held);
      const reply = await redis.script(
        'build search index',
        BUILD_CHUNK,
        [counters],
        [rev!, build!, first, last, fresh.length, ...fresh, ...chunk.flat()],
      );
      // The newer build drops what this one wrote and clears the stale mark when it is done
      // (until then searches of the bucket scan, as they do during any build).
      if (Number(reply) === SUPERSEDED) return docs.length;
      applied = Number(reply) === 1;
    }
    if (applied) return docs.length;
  }
  throw new StorageError(
    `redis storage: search index of bucket ${n} not rebuilt: its records kept changing (${ATTEMPTS} attempts); ` +
      'its searches scan until a later reindex() or writable open',
  );
}

/**
 * Rebuilds the index of `buckets` (default all) from the stored records and, when it covered
 * every bucket, writes the index version. Returns the number of docs indexed. An abort stops it
 * between two buckets or two chunks; a bucket begun stays marked stale, as after a crash.
 */
export async function rebuildSearchIndex(
  redis: RedisConnection,
  keys: KeyLayout,
  extractor: TextExtractor,
  source: BuildSource,
  buckets: readonly number[] = keys.buckets.map((_, n) => n),
  signal?: AbortSignal,
): Promise<number> {
  const counts = await mapConcurrent([...buckets], 4, (n) =>
    rebuildBucket(redis, keys, n, extractor, source, signal),
  );
  if (buckets.length === keys.bucketCount) await markSearchIndexBuilt(redis, keys);
  return counts.reduce((sum, count) => sum + count, 0);
}
