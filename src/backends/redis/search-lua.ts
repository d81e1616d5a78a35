/**
 * The Redis search index as the write scripts keep it (Redis 7.0 has no search module: plain
 * keys in each record's bucket slot, see `keys.ts`, so it works on a Cluster too):
 *
 * ```
 * <prefix>{b:NN}:p:<token>      hash    doc -> tf * 1e7 + doc length (the bucket's docs holding the token)
 * <prefix>{b:NN}:search-docs    hash    doc -> "<length> <token> <token> ..." (what a replace or delete drops)
 * <prefix>{b:NN}:counters       hash    search_docs, search_tokens (BM25's corpus), search_rev (bumped by
 *                                       every searchable write), search_stale (1: written without the index)
 * <prefix>{index}:search        string  index version, written once every bucket is indexed
 * ```
 *
 * A doc names its record: a kind letter (`r` raw message, `m` memory, `a` chain, `v`
 * conversation, `k` chunk info), the owner part `<length>:<owner id>` ({@link searchOwner}),
 * then the message index, memory id or chain sequence number (stable under trims).
 *
 * Every searchable write script takes a search flag (see {@link SearchWriter.flag}): `'1'` index
 * (the docs' specs follow), `'0'` the store is written with `searchIndex: false` (the bucket is
 * marked stale, so its index is not trusted until rebuilt), `''` leave the index alone (the v1
 * upgrade, which is followed by a build).
 */
import { createHash } from 'node:crypto';
import type { JsonValue, SearchKind, TextExtractor } from '../../core/index.js';
import { tokenize } from '../../core/index.js';

/**
 * The index version this library writes at `<prefix>{index}:search`. 2: postings are hashes
 * `p:<token>` (version 1 kept zsets `x:<token>`; a hash insert costs the server about a third
 * less CPU and memory than a zset's, and nothing read them in score order). A store of
 * another version is rebuilt by the next writable open.
 */
export const SEARCH_INDEX_VERSION = '2';

/** Most tokens a doc length counts in a posting's score (the score keeps it below 1e7). */
const MAX_LENGTH = 9_999_999;

/** Tokens longer than this are indexed (and queried) as a hash, so no key name is huge. */
const MAX_TOKEN_KEY = 64;

/**
 * Lua: the index helpers every write script may call (after `bump`). `searchOn(counters, flag)`
 * records a searchable write in the bucket (and marks it stale when the index is off) and says
 * whether to index; `indexDoc` replaces a doc's postings; `unindexDoc` drops them. A caller
 * that knows the doc is new (its record did not exist) passes `fresh`, and `indexDoc` skips
 * reading the doc's old token list, but only when `searchStale` is false: in a bucket written
 * with the index off, a deleted record may still have a doc, whose postings must go.
 * A script writing several records (raw messages, memory and chain batches, index builds)
 * drops their old docs first, collects the new ones (`newDocs()`: the last spec of a doc
 * written twice wins) and indexes them together with `addDocs`, which writes each token's
 * postings of all of them with one `HSET` (`postDocs`): a token shared by n docs costs one
 * call instead of n.
 */
export const SEARCH_LUA = `local function searchOn(counters, flag)
  if flag == nil or flag == '' then return false end
  bump(counters, 'search_rev', 1)
  if flag == '1' then return true end
  redis.call('HSET', counters, 'search_stale', 1)
  return false
end
local function postDocs(base, flat)
  if #flat == 2 then
    for tok, score in string.gmatch(flat[2], ' (%S+) (%S+)') do
      redis.call('HSET', base .. 'p:' .. tok, flat[1], score)
    end
    return
  end
  local byToken, order = {}, {}
  for i = 1, #flat, 2 do
    local doc = flat[i]
    for tok, score in string.gmatch(flat[i + 1], ' (%S+) (%S+)') do
      local list = byToken[tok]
      if list == nil then
        list = {}
        byToken[tok] = list
        order[#order + 1] = tok
      end
      list[#list + 1] = doc
      list[#list + 1] = score
    end
  end
  for _, tok in ipairs(order) do
    local list = byToken[tok]
    for i = 1, #list, 1000 do
      redis.call('HSET', base .. 'p:' .. tok, unpack(list, i, math.min(i + 999, #list)))
    end
  end
end
local function unindexDoc(counters, doc)
  local base = string.sub(counters, 1, #counters - 8)
  local old = redis.call('HGET', base .. 'search-docs', doc)
  if not old then return end
  local len
  for tok in string.gmatch(old, '%S+') do
    if len == nil then len = tonumber(tok) else redis.call('HDEL', base .. 'p:' .. tok, doc) end
  end
  redis.call('HDEL', base .. 'search-docs', doc)
  bump(counters, 'search_docs', -1)
  bump(counters, 'search_tokens', -(len or 0))
end
local function searchStale(counters)
  local values = knownCounters[counters]
  return values == nil or (values['search_stale'] or '0') ~= '0'
end
local function addDocs(counters, docs, specs)
  if #docs == 0 then return end
  local base = string.sub(counters, 1, #counters - 8)
  local lists, flat, tokens = {}, {}, 0
  for i = 1, #docs do
    lists[#lists + 1] = docs[i]
    lists[#lists + 1] = (string.gsub(specs[i], ' (%S+) %S+', ' %1'))
    flat[#flat + 1] = docs[i]
    flat[#flat + 1] = specs[i]
    tokens = tokens + tonumber(string.match(specs[i], '^%d+'))
  end
  for i = 1, #lists, 1000 do
    redis.call('HSET', base .. 'search-docs', unpack(lists, i, math.min(i + 999, #lists)))
  end
  postDocs(base, flat)
  bump(counters, 'search_docs', #docs)
  bump(counters, 'search_tokens', tokens)
end
local function newDocs()
  local set = {docs = {}, specs = {}, at = {}}
  function set.add(doc, spec)
    local i = set.at[doc]
    if i == nil then
      i = #set.docs + 1
      set.at[doc] = i
      set.docs[i] = doc
    end
    set.specs[i] = spec
  end
  return set
end
local function indexDoc(counters, doc, spec, fresh)
  if not fresh then unindexDoc(counters, doc) end
  addDocs(counters, {doc}, {spec})
end
`;

/** The owner part of a doc: `<length>:<id>`, so the id may hold any character. */
export function searchOwner(id: string): string {
  return `${id.length}:${id}`;
}

/** Doc kind letters. */
export const KIND_LETTERS: Readonly<Record<SearchKind, string>> = {
  raw_messages: 'r',
  memories: 'm',
  reasoning_chains: 'a',
  conversations: 'v',
  chunk_info: 'k',
};
const KINDS = new Map(Object.entries(KIND_LETTERS).map(([kind, letter]) => [letter, kind as SearchKind]));

/** The doc of a record: kind letter, owner part, and its index, memory id or sequence number. */
export function searchDoc(kind: SearchKind, owner: string, key: string | number = ''): string {
  return `${KIND_LETTERS[kind]}${searchOwner(owner)}${key}`;
}

/** A doc parsed back: kind, owner, and the rest (message index, memory id or sequence number). */
export interface ParsedDoc {
  kind: SearchKind;
  owner: string;
  key: string;
}

/** Parses a doc; `null` for one this library did not write. */
export function parseSearchDoc(doc: string): ParsedDoc | null {
  const kind = KINDS.get(doc[0] ?? '');
  const colon = doc.indexOf(':');
  if (kind === undefined || colon < 2) return null;
  const length = Number(doc.slice(1, colon));
  if (!Number.isSafeInteger(length)) return null;
  return { kind, owner: doc.slice(colon + 1, colon + 1 + length), key: doc.slice(colon + 1 + length) };
}

/** The posting key part of a token: the token, or `#` + its hash when long (`#` is never in a token). */
export function tokenKey(token: string): string {
  if (token.length <= MAX_TOKEN_KEY) return token;
  return `#${createHash('sha1').update(token).digest('hex')}`;
}

/** What the write paths hand their scripts for the index: the flag, and each record's spec. */
export class SearchWriter {
  constructor(
    private readonly extractor: TextExtractor,
    /** False with `searchIndex: false`: scripts mark the bucket stale instead of indexing. */
    readonly enabled: boolean,
  ) {}

  /** The search flag of a searchable write script: `'1'` index, `'0'` mark the bucket stale. */
  get flag(): '1' | '0' {
    return this.enabled ? '1' : '0';
  }

  /**
   * The spec of a record of `kind` (`''` when the index is off): `"<length> <token> <score> ..."`
   * of its indexed text, each score the posting's value, `tf * 1e7 + length` (computed here so
   * the script stores the string as given; tokens hold no white space, so the Lua splits on it).
   */
  spec(kind: SearchKind, record: JsonValue): string {
    return this.enabled ? searchSpec(this.extractor, kind, record) : '';
  }

  /** The search ARGV of a conversation or chunk info write (`WRITE_STRING`): flag, doc, spec. */
  recordArgs(kind: 'conversations' | 'chunk_info', conversationId: string, record: JsonValue): string[] {
    return [this.flag, searchDoc(kind, conversationId), this.spec(kind, record)];
  }

  /** The ARGV of `WRITE_RAW`: conversation id, flag, owner part, n, n JSON texts, n specs (index on). */
  rawArgs(conversationId: string, messages: readonly JsonValue[]): Array<string | number> {
    const json = messages.map((message) => JSON.stringify(message));
    const specs = this.enabled ? messages.map((message) => this.spec('raw_messages', message)) : [];
    return [conversationId, this.flag, searchOwner(conversationId), messages.length, ...json, ...specs];
  }
}

/** The spec of a record (see {@link SearchWriter.spec}), whatever the flag. */
export function searchSpec(extractor: TextExtractor, kind: SearchKind, record: JsonValue): string {
  const counts = new Map<string, number>();
  let length = 0;
  for (const text of extractor.extract(kind, record)) {
    for (const token of tokenize(text)) {
      length += 1;
      const key = tokenKey(token);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const parts = [String(length)];
  const scored = Math.min(length, MAX_LENGTH);
  for (const [token, count] of counts) parts.push(token, String(count * 10_000_000 + scored));
  return parts.join(' ');
}
