/**
 * Lua scripts of a conversation's memories (layout v2, see `keys.ts`; the helpers `guard`,
 * `bump` and the search index's come with `indexedScript`, `scripts.ts`). The batch script,
 * `UPSERT_MEMORIES`, is in `batch-scripts.ts`.
 */
import { RELIST_SURVIVORS, SURVIVOR_ORDER } from './memory-survivors.js';
import { indexedScript, LuaScript, WRITE_CHECKS } from './scripts.js';
import { DOC_WRITES } from './doc-writes.js';

/** The type and counter check of the memory scripts (KEYS as {@link UPSERT_MEMORY}), before any write. */
export const MEMORY_GUARD = `local bad = guard({KEYS[1], 'list', KEYS[2], 'hash', KEYS[3], 'hash', KEYS[4], 'zset', KEYS[5], 'hash'}, KEYS[5])
if bad then return redis.error_reply(bad) end
`;

/**
 * Lua of the memory writes, after {@link MEMORY_GUARD} (whose `keyTypes` it reads), for a
 * conversation whose data hash is gone while its id list survived (an eviction under any
 * `maxmemory-policy` but `noeviction` removes whole keys): every listed id is then a memory
 * lost. `evictedIds()`: those ids (none when the data hash exists); `unindexIds(ids, owner)`
 * drops their search docs (in the write's index phase); `dropEvicted(ids)` removes the list and
 * the created_at hash and counts the memories out, so the write starts the conversation's
 * memories afresh: an id stored again is listed once, and the count stays exact (their bytes
 * stay counted: they were in the evicted hash). Only the write that finds the data hash
 * missing reads the list, so no write pays an O(N) search of it (`LPOS`). The other way round
 * (the list evicted, the data hash not) the write puts the list back first (`RELIST_SURVIVORS`).
 */
export const DROP_EVICTED = `${RELIST_SURVIVORS}local function evictedIds()
  if keyTypes[KEYS[2]] ~= 'none' or keyTypes[KEYS[1]] ~= 'list' then return {} end
  return redis.call('LRANGE', KEYS[1], 0, -1)
end
local function unindexIds(ids, owner)
  for _, id in ipairs(ids) do unindexDoc(KEYS[5], 'm' .. owner .. id) end
end
local function dropEvicted(ids)
  if #ids == 0 then return end
  redis.call('DEL', KEYS[1], KEYS[3])
  bump(KEYS[5], 'memories', -#ids)
end
`;

/**
 * Lua of the memory writes, after {@link MEMORY_GUARD}: `mayHoldStrays()`, whether the data hash
 * may hold stray fields, ids its list does not hold (a hand edit, a writer that died between the
 * two keys): it has more fields than the list has items. Two O(1) calls; only then does a
 * write read the list (`LPOS`, `LRANGE`). A stray is no memory (no load answers it, no counter
 * counted it), so a write of its id stores a new memory: listed, counted, its bytes added whole.
 * Not seen: strays beside listed ids missing from the data hash (a load fails on those) or
 * listed twice, which balance the lengths.
 */
export const STRAY_IDS = `local function mayHoldStrays()
  if keyTypes[KEYS[1]] ~= 'list' or keyTypes[KEYS[2]] ~= 'hash' then return false end
  return redis.call('HLEN', KEYS[2]) > redis.call('LLEN', KEYS[1])
end
`;

/**
 * The write of one memory (D7) by the single script, after {@link MEMORY_GUARD} (KEYS as
 * {@link UPSERT_MEMORY}; the batch script, `UPSERT_MEMORIES`, does the same for many with a
 * few commands in all): a new id is appended to the order list; a known id keeps its
 * position, and its old created_at unless the caller gave one (the read applies memory-created;
 * the record carries it too, `CREATED_AT_TEXT`, from which one lost from that hash comes back).
 * With `index`, the memory's search doc (`m<owner><id>`) is replaced by `spec` first, in an
 * `indexPhase` (`search-lua.ts`); when that fails, nothing else is written and the second
 * result is the error text. A stray id ({@link STRAY_IDS}) is written as a new one.
 */
const UPSERT_MEMORY_FN = `${DROP_EVICTED}${STRAY_IDS}local function upsertMemory(old, id, json, created, explicit, index, owner, spec, ghosts, unlisted)
  local stray = old > 0 and mayHoldStrays() and not redis.call('LPOS', KEYS[1], id)
  if stray then old = 0 end
  if index then
    -- A doc known new skips the read of its old postings; HSTRLEN is 0 for an empty stored value too.
    local fresh = old == 0 and not searchStale(KEYS[5]) and redis.call('HEXISTS', KEYS[2], id) == 0
    local doc, bad = 'm' .. owner .. id, nil
    if #ghosts == 0 then
      bad = indexPhase(KEYS[5], indexDoc, KEYS[5], doc, spec, fresh)
    else
      bad = indexPhase(KEYS[5], function()
        unindexIds(ghosts, owner)
        indexDoc(KEYS[5], doc, spec, fresh)
      end)
    end
    if bad then return 0, bad end
  end
  dropEvicted(ghosts)
  relist(unlisted)
  local kept, lost = nil, nil
  if explicit ~= '1' and old > 0 then
    -- A replace keeps created_at, the hash's or (that hash evicted) its record's, in its record too.
    kept = redis.call('HGET', KEYS[3], id)
    if not kept then
      kept = createdAtText(redis.call('HGET', KEYS[2], id))
      lost = kept
    end
    if kept then json = withCreatedAt(json, kept) end
  end
  local added = redis.call('HSET', KEYS[2], id, json)
  if stray then added = 1 end
  if added == 1 then redis.call('RPUSH', KEYS[1], id) end
  if explicit == '1' or not kept then
    redis.call(explicit == '1' and 'HSET' or 'HSETNX', KEYS[3], id, created)
  elseif lost then
    redis.call('HSET', KEYS[3], id, lost)
  end
  bump(KEYS[5], 'memories', added)
  bump(KEYS[5], 'bytes', #json - old)
  return added
end
${MEMORY_GUARD}`;

/**
 * A new memory (W2's and W7's case), before the guard path: no key is asked its TYPE and the
 * counters are not read whole. HSTRLEN (before, a read) checks the data hash, RPUSH the list,
 * HSETNX the created hash, ZADD NX the bucket's zset and `bumpFirst`'s HINCRBYs the counters;
 * when one fails the writes before it are taken back exactly (RPOP of the id just pushed, HDEL
 * of a created_at HSETNX added, ZREM of a member ZADD NX added: the zset's scores are all 0), so
 * a wrong type or a corrupt bumped counter writes nothing. The data and an explicit created_at
 * over a leftover one are written last, when nothing can fail. A replace (its old value and
 * created_at would make take-backs inexact) keeps the guard path below. Index off: 211k -> 157k
 * server instructions per call (docs/performance-history.md, Redis).
 *
 * With the index on, `DOC_WRITES` first reads the stale mark and the doc counters (one
 * HMGET; a wrong-typed counters hash fails it, nothing written); after the record checks and
 * bumps, the doc's postings are appended under the number read (`addDocs` with `first`, in an
 * `indexPhase`) and the four doc counters written in one HSET. When the phase fails, the bumps
 * and record writes are taken back and the bucket is left marked stale, as on the guard path.
 * A bucket marked stale (a write must drop the doc's old postings there), a doc counter that
 * is not an integer or too large for a Lua number (the guard refuses or bumps it) and a stored
 * empty value (HEXISTS) take the guard path. 342–348k -> 279–284k server instructions per call
 * (`bench/redis-w7-instructions.ts`).
 *
 * HSTRLEN is also 0 for a stored empty value (only a hand edit or an older writer leaves one):
 * with the index off the data HSET then replaced a memory (it returns 0), so the id pushed and
 * the memory counted are taken back, leaving what a replace writes, with no command more for a
 * new memory.
 */
const NEW_MEMORY = `local counts, dw = nil, nil
local fast = old == 0 and not evicted
if fast and ARGV[6] == '1' then
  local bad
  dw = docWrites()
  counts, bad = dw.read(KEYS[5])
  if bad then return redis.error_reply(bad) end
  fast = counts and redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0
end
if fast then
  local pushed = redis.pcall('RPUSH', KEYS[1], ARGV[1])
  if failed(pushed) then return redis.error_reply(refused(pushed, KEYS[1], 'list')) end
  local fresh = redis.pcall('HSETNX', KEYS[3], ARGV[1], ARGV[3])
  if failed(fresh) then
    redis.call('RPOP', KEYS[1])
    return redis.error_reply(wrongType(KEYS[3], 'hash'))
  end
  local listed = redis.pcall('ZADD', KEYS[4], 'NX', 0, ARGV[5])
  local function takeBack()
    if listed == 1 then redis.call('ZREM', KEYS[4], ARGV[5]) end
    if fresh == 1 then redis.call('HDEL', KEYS[3], ARGV[1]) end
    redis.call('RPOP', KEYS[1])
  end
  if failed(listed) then
    listed = 0
    takeBack()
    return redis.error_reply(wrongType(KEYS[4], 'zset'))
  end
  local fields = {'memories', 1, 'bytes', #ARGV[2]}
  local bad = bumpFirst(KEYS[5], fields, ARGV[6])
  if bad then
    takeBack()
    return redis.error_reply(bad)
  end
  if counts then
    bad = indexPhase(KEYS[5], addDocs, KEYS[5], {'m' .. ARGV[7] .. ARGV[1]}, {ARGV[8]}, counts[1])
    if bad then
      dw.unbump(KEYS[5], fields)
      takeBack()
      return redis.error_reply(bad)
    end
    dw.count(KEYS[5], counts, 1, tonumber(string.match(ARGV[8], '^%d+')))
  end
  local added = redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  if fresh == 0 and ARGV[4] == '1' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
  if added == 0 then
    redis.call('RPOP', KEYS[1])
    redis.call('HINCRBY', KEYS[5], 'memories', -1)
  end
  return added
end
`;

/**
 * Memory upsert (D7). KEYS: memories (list), memory-data, memory-created, conversation-ids,
 * counters. ARGV: memory id, record JSON, created_at as JSON, '1' when the caller chose
 * created_at, conversation id, search flag, search owner part, search spec.
 */
export const UPSERT_MEMORY = indexedScript(
  'upsertMemory',
  `${WRITE_CHECKS}${DOC_WRITES}local old = redis.pcall('HSTRLEN', KEYS[2], ARGV[1])
if failed(old) then return redis.error_reply(wrongType(KEYS[2], 'hash')) end
-- A new id where one of the data hash and the list exists without the other (an eviction): the
-- guard path drops the list of a lost data hash, or puts back the lost list of one that exists.
local evicted = old == 0 and redis.call('EXISTS', KEYS[1], KEYS[2]) == 1
${NEW_MEMORY}${UPSERT_MEMORY_FN}local index = searchOn(KEYS[5], ARGV[6])
local ghosts = evicted and evictedIds() or {}
local unlisted = unlistedIds()
local added, bad = upsertMemory(old, ARGV[1], ARGV[2], ARGV[3], ARGV[4], index, ARGV[7], ARGV[8], ghosts, unlisted)
if bad then return redis.error_reply(bad) end
redis.call('ZADD', KEYS[4], 0, ARGV[5])
return added`,
);

/**
 * Reads a conversation's memories in order. KEYS: memories, memory-data, memory-created.
 * ARGV: first and last position (LRANGE: `0, -1` for all). Returns a flat array: id, record JSON (or nil), created_at (or nil), id, ...
 * No data hash (evicted whole while the id list survived: {@link DROP_EVICTED}) is no memories,
 * as any evicted record reads as absent; a listed id missing from a data hash that exists is
 * not what an eviction does, and stays corrupt (`decodeMemories`). A data hash whose list was
 * evicted answers its memories in created_at order (`SURVIVOR_ORDER`); only an empty `LRANGE`
 * asks whether the list exists.
 */
export const READ_MEMORIES = new LuaScript(
  'readMemories',
  `${SURVIVOR_ORDER}if redis.call('EXISTS', KEYS[2]) == 0 then return {} end
local ids = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
if #ids == 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  local all = survivorIds(KEYS[2], KEYS[3])
  local first, last = tonumber(ARGV[1]), tonumber(ARGV[2])
  if first < 0 then first = math.max(#all + first, 0) end
  if last < 0 then last = #all + last end
  for i = first + 1, math.min(last + 1, #all) do ids[#ids + 1] = all[i] end
end
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id)
  out[#out + 1] = redis.call('HGET', KEYS[3], id)
end
return out`,
);
