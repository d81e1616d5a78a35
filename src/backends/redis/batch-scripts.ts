/**
 * Lua scripts of the Redis batches: each runs the per-record code of its single script
 * (`UPSERT_MEMORY_FN`, `WRITE_CACHE_FN`) once per item, inside one script, so a batch of one
 * script is all or nothing (its key types are checked before the first write). Chain batches are
 * `APPEND_CHAINS` in `chains.ts`, the script of single appends too.
 */
import { WRITE_CACHE_FN } from './cache-scripts.js';
import { indexedScript, script, UPSERT_MEMORY_FN } from './scripts.js';

/**
 * Upserts memories of one conversation in order. KEYS as `UPSERT_MEMORY`. ARGV: conversation
 * id, search flag, search owner part, then per memory: id, record JSON, created_at as JSON,
 * '1' when the caller chose it, search spec.
 */
export const UPSERT_MEMORIES = indexedScript(
  'upsertMemories',
  `${UPSERT_MEMORY_FN}local docs = searchOn(KEYS[5], ARGV[2]) and newDocs()
for i = 4, #ARGV, 5 do
  upsertMemory(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], docs, ARGV[3], ARGV[i + 4])
end
if docs then addDocs(KEYS[5], docs.docs, docs.specs) end
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return (#ARGV - 3) / 5`,
);

/**
 * Writes cache entries of one or more buckets in order and trims each bucket's expired index
 * entries. KEYS: each bucket's cache-keys and cache-expiry, then one value key per entry, in
 * bucket order. ARGV: trim limit, now (ms), the bucket count, each bucket's entry count, then
 * per entry: cache key, value, PX in ms ('0': no expiry), expiry score (ms; see `WRITE_CACHE`).
 * Every key's type is checked before the first write, so the whole script is all or nothing.
 * Returns how many expired index entries it removed.
 */
export const WRITE_CACHES = script(
  'writeCaches',
  `local buckets = tonumber(ARGV[3])
local types = {}
for i = 1, #KEYS do
  types[#types + 1] = KEYS[i]
  types[#types + 1] = i <= 2 * buckets and 'zset' or 'string'
end
local bad = guard(types, nil)
if bad then return redis.error_reply(bad) end
${WRITE_CACHE_FN}local key, a, trimmed = 2 * buckets + 1, 4 + buckets, 0
for b = 1, buckets do
  local keysZ, expiryZ = KEYS[2 * b - 1], KEYS[2 * b]
  for _ = 1, tonumber(ARGV[3 + b]) do
    writeCache(keysZ, expiryZ, KEYS[key], ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3])
    key, a = key + 1, a + 4
  end
  trimmed = trimmed + trimCache(keysZ, expiryZ, ARGV[2], tonumber(ARGV[1]))
end
return trimmed`,
);
