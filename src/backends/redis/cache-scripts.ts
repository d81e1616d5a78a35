/**
 * Lua scripts of the cache and of stats (layout v2, see `keys.ts`): each touches one bucket.
 * An entry is expired from its `expiresAt` instant on (score <= now), as loads read it
 * (`isCacheExpired`): trims and purges take the score `now` (inclusive), listings and stats
 * count only scores above it.
 */
import { LuaScript, script } from './scripts.js';

/**
 * Writes a cache entry and trims the bucket's expired index entries (at most ARGV[4]).
 * KEYS: value, cache-keys, cache-expiry. ARGV: cache key, value, PX in ms ('0': no expiry),
 * trim limit, then the entry's expiry (its index score) and now, both ms on the caller's clock;
 * without those two (an upgrade's copy) the server's clock gives now and now + PX.
 * Returns how many expired index entries it removed.
 *
 * The cache's hottest script, so it makes five server calls and no more: the caller's clock
 * replaces a `TIME` (and makes the index score the record's own `expiresAt`, the instant that
 * loads, listings and stats compare with the caller's now, so a clock skew between client and
 * server cannot make them disagree), the trim's read is the type check of the expiry zset, the
 * keys zset's `ZADD` (the first write) its own check, and only the value key needs a `TYPE`. A
 * wrong type still writes nothing and names the key, as `guard()` does.
 */
export const WRITE_CACHE = new LuaScript(
  'writeCache',
  `local now, score = ARGV[6], ARGV[5]
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  score = now + tonumber(ARGV[3])
end
local gone = redis.pcall('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, ARGV[4])
local bad, expected = nil, 'zset'
if gone.err then
  bad = KEYS[3]
else
  local valueType = redis.call('TYPE', KEYS[1])['ok']
  if valueType ~= 'none' and valueType ~= 'string' then
    bad, expected = KEYS[1], 'string'
  else
    local added = redis.pcall('ZADD', KEYS[2], 0, ARGV[1])
    if type(added) == 'table' then
      -- The first write: the server may refuse it (OOM, READONLY), which is no wrong type.
      if string.sub(added.err, 1, 9) ~= 'WRONGTYPE' then return redis.error_reply(added.err) end
      bad = KEYS[2]
    end
  end
end
if bad then
  return redis.error_reply('WRONGTYPE ' .. bad .. ' is a ' .. redis.call('TYPE', bad)['ok'] .. ', expected a ' .. expected)
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
  score = '+inf'
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('ZADD', KEYS[3], score, ARGV[1])
if #gone == 0 then return 0 end
-- The entry written now may have been among the expired ones read above: it stays.
local trim = {}
for _, key in ipairs(gone) do
  if key ~= ARGV[1] then trim[#trim + 1] = key end
end
if #trim > 0 then
  redis.call('ZREM', KEYS[3], unpack(trim))
  redis.call('ZREM', KEYS[2], unpack(trim))
end
return #trim`,
);

/**
 * Removes a cache entry and its index entries. KEYS as {@link WRITE_CACHE}; ARGV: cache key.
 * Only the index zsets are checked: the value key is deleted whatever its type (`DEL`), so a
 * value key of another type (another program's) is removed as well (until 2026-12-05 refused).
 */
export const REMOVE_CACHE = script(
  'removeCache',
  `local bad = guard({KEYS[2], 'zset', KEYS[3], 'zset'}, nil)
if bad then return redis.error_reply(bad) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1])`,
  { allowOom: true },
);

/**
 * One page of a bucket's live cache keys in byte order. KEYS: cache-keys, cache-expiry.
 * ARGV: now (ms), the last key of the previous page ('' = from the start), page size.
 * Returns {last key scanned (nil when the bucket is done), live keys of the page}.
 */
export const LIST_LIVE_CACHE = new LuaScript(
  'listLiveCache',
  `local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local limit = tonumber(ARGV[3])
local keys = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, limit)
local now = tonumber(ARGV[1])
local live = {}
for _, key in ipairs(keys) do
  local score = redis.call('ZSCORE', KEYS[2], key)
  if score and (score == 'inf' or tonumber(score) > now) then live[#live + 1] = key end
end
local last = false
if #keys == limit then last = keys[#keys] end
return {last, live}`,
);

/**
 * Purges one bucket's cache index: entries expired at ARGV[1] (ms), and entries whose value is
 * gone or that have no expiry score (left by a crash, eviction or a hand edit). A value key of
 * another type (another program's, in the entry's place) is a value gone too: its index entries
 * go, the key stays (only `deleteCacheEntry`, naming it, removes another program's key; a purge
 * never touched value keys). One `STRLEN` a key tells all three, still one call each as the
 * `EXISTS` before: 0 for no key (the library never writes an empty value), an error for another
 * type (`TYPE` cost the purge ~16% more server time, this ~4%). KEYS: cache-keys, cache-expiry.
 * ARGV: now, the bucket's value key prefix (`<prefix>{b:NN}:k:`).
 * Returns how many index entries this call removed.
 */
export const PURGE_CACHE = new LuaScript(
  'purgeCache',
  `local removed = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[2], key)
  removed = removed + redis.call('ZREM', KEYS[1], key)
end
local escape = function(c) return string.format('%%%02X', string.byte(c)) end
for _, key in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local value = ARGV[2] .. string.gsub(key, '[%%{}]', escape) .. ':cache'
  local length = redis.pcall('STRLEN', value)
  if type(length) ~= 'number' or length == 0 or not redis.call('ZSCORE', KEYS[2], key) then
    redis.call('ZREM', KEYS[2], key)
    removed = removed + redis.call('ZREM', KEYS[1], key)
  end
end
return removed`,
);

/**
 * Counters of one bucket. KEYS: counters, cache-expiry. ARGV: now (ms). Returns {HGETALL, live
 * cache entries}. A key of another type fails it with the server's `WRONGTYPE`, which names no
 * key: the caller asks the keys' types then (`stats.ts`), so a good bucket pays no check.
 */
export const BUCKET_STATS = new LuaScript(
  'bucketStats',
  `return {redis.call('HGETALL', KEYS[1]), redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')}`,
);
