/**
 * Lua scripts of the Redis batches: each does what its single script does for every item,
 * inside one script (with a few commands for all items, or per bucket), so a batch of one
 * script is all or nothing (its key types are checked before the first write). Chain batches
 * are `APPEND_CHAINS` in `chains.ts`, the script of single appends too.
 */
import { DROP_EVICTED, MEMORY_GUARD, STRAY_IDS } from './memory-scripts.js';
import { indexedScript, script } from './scripts.js';

/**
 * Upserts memories of one conversation in order, as `UPSERT_MEMORY` per item would. KEYS as
 * `UPSERT_MEMORY`. ARGV: conversation id, search flag, search owner part, the batch's default
 * created_at as JSON, n, then per memory: id, record JSON, created_at (`''`: not chosen by the
 * caller and equal to the default; otherwise `'1'` when the caller chose it, else `'0'`,
 * followed by its JSON), then (flag `'1'`) the n search specs.
 *
 * Every argument and every `redis.call` costs the server (an argument ~0.15 µs to pass in,
 * about as much again to pass on), so the batch reads what it needs first (the stored lengths
 * and created_at of its ids, one `HMGET` each, none for a hash that does not exist yet), works
 * the items out in Lua, and writes with one `HSET` of the records, one `RPUSH` of the new ids
 * and one `HSET` of the created_at values (each split per 1,000 arguments) instead of four
 * calls per memory; a memory's created_at and whether it was chosen are one argument, the
 * shared default none, and specs come only with the index. A repeated id is followed through
 * the batch: its second write replaces its first in place, as in a loop. The index is written
 * before the records (`indexPhase`, `search-lua.ts`). A conversation whose data hash was evicted
 * has its listed ids dropped first, one whose list was evicted gets it back first (`DROP_EVICTED`);
 * a stray id, in the data hash but not listed, is a new memory (`STRAY_IDS`).
 */
export const UPSERT_MEMORIES = indexedScript(
  'upsertMemories',
  `${MEMORY_GUARD}${DROP_EVICTED}${STRAY_IDS}local ghosts, unlisted = evictedIds(), unlistedIds()
local docs = searchOn(KEYS[5], ARGV[2]) and newDocs()
local stale = docs and searchStale(KEYS[5])
local function callAll(command, key, list)
  for i = 1, #list, 1000 do redis.call(command, key, unpack(list, i, math.min(i + 999, #list))) end
end
local n, default = tonumber(ARGV[5]), ARGV[4]
local last = 5 + 3 * n
-- The stored length (nil: none; 0 is an empty value, a replace) and the created_at kept (JSON
-- text), per id, as the batch goes.
local length, dated = {}, {}
local function readStored(key, into, value)
  if keyTypes[key] == 'none' then return end
  local ids = {}
  for i = 6, last, 3 do ids[#ids + 1] = ARGV[i] end
  for i = 1, #ids, 1000 do
    local upto = math.min(i + 999, #ids)
    local stored = redis.call('HMGET', key, unpack(ids, i, upto))
    for j = i, upto do
      local got = stored[j - i + 1]
      if got and into[ids[j]] == nil then into[ids[j]] = value(got) end
    end
  end
end
readStored(KEYS[2], length, function(json) return #json end)
-- A stray id (STRAY_IDS) is written as a new memory; its doc, if any, is dropped as a replace's.
local strays = {}
if next(length) ~= nil and mayHoldStrays() then
  local listed = {}
  for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do listed[id] = true end
  for id in pairs(length) do
    if not listed[id] then strays[id], length[id] = true, nil end
  end
end
-- The created_at values of evicted memories go with them (dropEvicted).
if #ghosts == 0 then readStored(KEYS[3], dated, function(kept) return kept end) end
local records, fresh, created, added, bytes = {}, {}, {}, 0, 0
-- Works the items out and (docs) writes their index, all before the first record write.
local function prepare()
  if docs then unindexIds(ghosts, ARGV[3]) end
  for i = 6, last, 3 do
    local id, json, chosen = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local old = length[id]
    if docs then
      local doc = 'm' .. ARGV[3] .. id
      if old or stale or strays[id] then unindexDoc(KEYS[5], doc) end
      docs.add(doc, ARGV[last + (i - 3) / 3])
    end
    if not old then
      added = added + 1
      fresh[#fresh + 1] = id
    end
    -- An explicit created_at replaces the kept one; otherwise it is set only when none is kept
    -- (HSETNX), and the record carries the kept one too (CREATED_AT_TEXT).
    local explicit = chosen ~= '' and string.byte(chosen) == 49
    local value = chosen == '' and default or string.sub(chosen, 2)
    if not explicit and old and not dated[id] then
      -- A replace whose created_at the hash lost (evicted): its record's.
      dated[id] = createdAtText(redis.call('HGET', KEYS[2], id))
      if dated[id] then
        created[#created + 1] = id
        created[#created + 1] = dated[id]
      end
    end
    if explicit or not dated[id] then
      created[#created + 1] = id
      created[#created + 1] = value
      dated[id] = value
    elseif dated[id] ~= value then
      json = withCreatedAt(json, dated[id])
    end
    records[#records + 1] = id
    records[#records + 1] = json
    bytes = bytes + #json - (old or 0)
    length[id] = #json
  end
  if docs then addDocs(KEYS[5], docs.docs, docs.specs) end
end
if docs then
  local bad = indexPhase(KEYS[5], prepare)
  if bad then return redis.error_reply(bad) end
else
  prepare()
end
dropEvicted(ghosts)
relist(unlisted)
callAll('HSET', KEYS[2], records)
callAll('RPUSH', KEYS[1], fresh)
callAll('HSET', KEYS[3], created)
bump(KEYS[5], 'memories', added)
bump(KEYS[5], 'bytes', bytes)
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return n`,
);

/**
 * Writes cache entries of one or more buckets in order and trims each bucket's expired index
 * entries. KEYS: each bucket's cache-keys and cache-expiry, then one value key per entry, in
 * bucket order. ARGV: trim limit, now (ms), the bucket count, the batch's default PX in ms
 * ('0': no expiry) and expiry score (ms; see `WRITE_CACHE`), each bucket's entry count, then
 * per entry: cache key, value, and `''` for the defaults or its own `'<PX> <score>'`.
 * Every key's type is checked before the first write, so the whole script is all or nothing.
 * Returns how many expired index entries it removed.
 *
 * Each `redis.call` and each argument costs the server, so the index calls are per bucket: a
 * `TYPE` of the keys zset, the trim's read of the expiry zset (which fails on another type: its
 * check), one `ZADD` to each zset; per entry its `SET`; the value keys' types are asked only
 * when an `EXISTS` of them all counts any (a batch of new keys: one call instead of a `TYPE`
 * each), and a batch's entries, written at one time with one TTL, share their PX and score.
 * (An `MGET` and an `EXISTS` of all value keys could replace the `TYPE`s, but copying the old
 * values cost the server more than the calls it saved.) As in `WRITE_CACHE`, the trim removes
 * the entries found expired before the writes, except those the batch rewrote.
 */
export const WRITE_CACHES = script(
  'writeCaches',
  `local buckets, now, limit = tonumber(ARGV[3]), ARGV[2], tonumber(ARGV[1])
local first = 2 * buckets + 1
local gone = {}
for b = 1, buckets do
  local keysZ, expiryZ = KEYS[2 * b - 1], KEYS[2 * b]
  local t = redis.call('TYPE', keysZ)['ok']
  if t ~= 'none' and t ~= 'zset' then return redis.error_reply(wrongType(keysZ, 'zset')) end
  local expired = redis.pcall('ZRANGEBYSCORE', expiryZ, '-inf', now, 'LIMIT', 0, limit)
  if expired.err then return redis.error_reply(wrongType(expiryZ, 'zset')) end
  gone[b] = expired
end
for i = first, #KEYS, 1000 do
  if redis.call('EXISTS', unpack(KEYS, i, math.min(i + 999, #KEYS))) > 0 then
    for j = i, math.min(i + 999, #KEYS) do
      local t = redis.call('TYPE', KEYS[j])['ok']
      if t ~= 'none' and t ~= 'string' then return redis.error_reply(wrongType(KEYS[j], 'string')) end
    end
  end
end
local key, a, trimmed = first, 6 + buckets, 0
for b = 1, buckets do
  local keysZ, expiryZ = KEYS[2 * b - 1], KEYS[2 * b]
  local members, scores, written = {}, {}, {}
  for _ = 1, tonumber(ARGV[5 + b]) do
    local cacheKey, px, score = ARGV[a], ARGV[4], ARGV[5]
    if ARGV[a + 2] ~= '' then px, score = string.match(ARGV[a + 2], '^(%S+) (%S+)$') end
    if px == '0' then
      redis.call('SET', KEYS[key], ARGV[a + 1])
      score = '+inf'
    else
      redis.call('SET', KEYS[key], ARGV[a + 1], 'PX', px)
    end
    members[#members + 1] = '0'
    members[#members + 1] = cacheKey
    scores[#scores + 1] = score
    scores[#scores + 1] = cacheKey
    written[cacheKey] = true
    key, a = key + 1, a + 3
  end
  redis.call('ZADD', keysZ, unpack(members))
  redis.call('ZADD', expiryZ, unpack(scores))
  local trim = {}
  for _, cacheKey in ipairs(gone[b]) do
    if not written[cacheKey] then trim[#trim + 1] = cacheKey end
  end
  if #trim > 0 then
    redis.call('ZREM', expiryZ, unpack(trim))
    redis.call('ZREM', keysZ, unpack(trim))
    trimmed = trimmed + #trim
  end
end
return trimmed`,
);

/**
 * Removes cache entries of one or more buckets and their index entries, as `REMOVE_CACHE` per
 * key would. KEYS: each bucket's cache-keys and cache-expiry, then one value key per entry, in
 * bucket order. ARGV: the bucket count, each bucket's entry count, then the cache keys in the
 * value keys' order (absent or repeated keys are fine). Every index zset's type is checked
 * before the first removal, so the script is all or nothing; the value keys are deleted
 * whatever their type, as `REMOVE_CACHE` does. Per bucket one `ZREM` of each zset, and one
 * `DEL` of all value keys, instead of three calls per key. Returns how many value keys existed.
 */
export const REMOVE_CACHES = script(
  'removeCaches',
  `local buckets = tonumber(ARGV[1])
for b = 1, 2 * buckets do
  local t = redis.call('TYPE', KEYS[b])['ok']
  if t ~= 'none' and t ~= 'zset' then return redis.error_reply(wrongType(KEYS[b], 'zset')) end
end
local a = 2 + buckets
for b = 1, buckets do
  local n = tonumber(ARGV[1 + b])
  redis.call('ZREM', KEYS[2 * b - 1], unpack(ARGV, a, a + n - 1))
  redis.call('ZREM', KEYS[2 * b], unpack(ARGV, a, a + n - 1))
  a = a + n
end
local removed = 0
for i = 2 * buckets + 1, #KEYS, 1000 do
  removed = removed + redis.call('DEL', unpack(KEYS, i, math.min(i + 999, #KEYS)))
end
return removed`,
  { allowOom: true },
);
