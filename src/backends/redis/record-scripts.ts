/**
 * The write scripts of string records (conversations, chunk info, system states), raw messages,
 * restored chains and whole conversations (rules in `scripts.ts`: one bucket per script, types
 * checked before the first write, idempotent or token-guarded).
 */
import { indexedScript, LuaScript, RECORD_TYPES, script } from './scripts.js';

/**
 * Writes a string record and indexes it. KEYS: record, counters, index zsets...
 * ARGV: member, JSON, counter field, and for a searchable record the search flag, doc and
 * spec (`search-writer.ts`). Returns 1 when the record existed.
 *
 * Conversations, chunk info and system states are its hot path, and each server call costs
 * about as much as the key's own SET, so it makes as few as it can (a new record with the
 * index off: TYPE, HGETALL, ZADD per index zset, SET, HSET). The index zsets are not asked
 * their TYPE: each one's `ZADD NX` is its check, and when one fails the members the ones
 * before it added are removed again (NX: a member already there was left as it was), so a
 * wrong type still writes nothing. The search doc is written next (`indexPhase`,
 * `search-lua.ts`), before the record; when that fails the members are taken back the same way.
 */
export const WRITE_STRING = indexedScript(
  'writeString',
  `local bad = guard({KEYS[1], 'string', KEYS[2], 'hash'}, KEYS[2])
if bad then return redis.error_reply(bad) end
local added = {}
local function takeBack(upto)
  for j = 3, upto do
    if added[j] == 1 then redis.call('ZREM', KEYS[j], ARGV[1]) end
  end
end
for i = 3, #KEYS do
  local n = redis.pcall('ZADD', KEYS[i], 'NX', 0, ARGV[1])
  if type(n) == 'table' then
    takeBack(i - 1)
    return redis.error_reply(refused(n, KEYS[i], 'zset'))
  end
  added[i] = n
end
-- guard() read the record's type: a new record has no old length to read.
local existed = keyTypes[KEYS[1]] == 'none' and 0 or 1
if searchOn(KEYS[2], ARGV[4]) then
  local bad = indexPhase(KEYS[2], indexDoc, KEYS[2], ARGV[5], ARGV[6], existed == 0 and not searchStale(KEYS[2]))
  if bad then
    takeBack(#KEYS)
    return redis.error_reply(bad)
  end
end
local old = existed == 1 and redis.call('STRLEN', KEYS[1]) or 0
redis.call('SET', KEYS[1], ARGV[2])
if existed == 0 then bump(KEYS[2], ARGV[3], 1) end
bump(KEYS[2], 'bytes', #ARGV[2] - old)
return existed`,
);

/**
 * Removes a string record and its index entries. KEYS and ARGV as {@link WRITE_STRING}, without
 * the JSON. A record key of another type (another program's, `RECORD_TYPES`) is removed too; it
 * is counted out only when its id was listed in the first index zset (a write of the library
 * counted it then, before another program replaced it), its bytes never (unknown).
 */
export const REMOVE_STRING = script(
  'removeString',
  `${RECORD_TYPES}local types = {}
for i = 3, #KEYS do types[#types + 1] = KEYS[i]; types[#types + 1] = 'zset' end
local bad = guard(types, KEYS[2])
if bad then return redis.error_reply(bad) end
recordTypes({KEYS[1]})
local wrong = foreign(KEYS[1], 'string')
local old = wrong and 0 or redis.call('STRLEN', KEYS[1])
local existed = redis.call('DEL', KEYS[1])
for i = 3, #KEYS do
  local listed = redis.call('ZREM', KEYS[i], ARGV[1])
  if wrong and i == 3 then existed = listed end
end
if existed == 1 then bump(KEYS[2], ARGV[2], -1) end
bump(KEYS[2], 'bytes', -old)
return existed`,
  { allowOom: true },
);

/**
 * Lua: `rawHeld(meta, raw)`, after a `guard` that asked the raw list's type: the stored count and
 * bytes of a conversation's raw messages, the meta hash's, or, when that hash lost them (evicted
 * under any `maxmemory-policy` but `noeviction`) while the list survived, the list's own (the
 * counters counted them), so a write or delete still takes them out exactly.
 */
const RAW_HELD = `local function rawHeld(meta, raw)
  -- A meta key of another type (a delete's, RECORD_TYPES) holds no count: the list's are read.
  local count = keyTypes[meta] == 'hash' and redis.call('HGET', meta, 'raw') or nil
  if count or keyTypes[raw] ~= 'list' then
    return tonumber(count or '0') or 0, tonumber(count and redis.call('HGET', meta, 'raw-bytes') or '0') or 0
  end
  local items, bytes = redis.call('LRANGE', raw, 0, -1), 0
  for _, v in ipairs(items) do bytes = bytes + #v end
  return #items, bytes
end
`;

/**
 * Replaces the raw messages and their search docs. KEYS: raw (list), meta (hash),
 * conversation-ids (zset), counters, conversation, chunks, memories, memory-data (`writeRawKeys`). ARGV:
 * conversation id, search flag, search owner part, n, then n message JSON texts, then (flag
 * '1') n search specs.
 *
 * An empty list is no stored data (as on SQLite and PostgreSQL, which keep a row per
 * message): it removes the list and its count, and the id leaves the any-kind index unless a
 * conversation, chunk info or memory of it is stored. Only then are those three looked at
 * (`EXISTS`), so a non-empty write makes no call more than before.
 *
 * Only the docs of messages that changed are replaced: a message whose JSON text is the one
 * already stored at its position keeps its doc, so an agent that stores its whole list after
 * every turn re-indexes the new messages, not the list (in a bucket marked stale, written with
 * the index off, a doc may be missing or old, so every message is indexed again there).
 */
export const WRITE_RAW = indexedScript(
  'writeRaw',
  `${RAW_HELD}local bad = guard({KEYS[1], 'list', KEYS[2], 'hash', KEYS[3], 'zset', KEYS[4], 'hash'}, KEYS[4])
if bad then return redis.error_reply(bad) end
local n = tonumber(ARGV[4])
local oldCount, oldBytes = rawHeld(KEYS[2], KEYS[1])
local function index()
  for i = n, oldCount - 1 do unindexDoc(KEYS[4], 'r' .. ARGV[3] .. i) end
  local stale = searchStale(KEYS[4])
  local kept = {}
  if not stale and oldCount > 0 and n > 0 then kept = redis.call('LRANGE', KEYS[1], 0, math.min(n, oldCount) - 1) end
  local docs = newDocs()
  for i = 0, n - 1 do
    if kept[i + 1] ~= ARGV[5 + i] then
      local doc = 'r' .. ARGV[3] .. i
      if i < oldCount or stale then unindexDoc(KEYS[4], doc) end
      docs.add(doc, ARGV[5 + n + i])
    end
  end
  addDocs(KEYS[4], docs.docs, docs.specs)
end
if searchOn(KEYS[4], ARGV[2]) then
  local bad = indexPhase(KEYS[4], index)
  if bad then return redis.error_reply(bad) end
end
redis.call('DEL', KEYS[1])
local bytes = 0
if n > 0 then
  pushAll(KEYS[1], 5, 4 + n)
  for i = 5, 4 + n do bytes = bytes + #ARGV[i] end
  redis.call('HSET', KEYS[2], 'raw', n, 'raw-bytes', bytes)
  redis.call('ZADD', KEYS[3], 0, ARGV[1])
else
  redis.call('HDEL', KEYS[2], 'raw', 'raw-bytes')
  -- The memory data hash too: its id list may have been evicted (relisted at its next write).
  if redis.call('EXISTS', KEYS[5], KEYS[6], KEYS[7], KEYS[8]) == 0 then redis.call('ZREM', KEYS[3], ARGV[1]) end
end
bump(KEYS[4], 'raw_messages', n - oldCount)
bump(KEYS[4], 'bytes', bytes - oldBytes)
return 1`,
);

/**
 * A window of raw messages, or nil when none were stored. KEYS: raw, meta. ARGV: start, stop
 * (LRANGE). Messages in the list are stored also when the meta hash lost their count (evicted);
 * only an empty window asks the meta hash (an empty list stored is a count of 0 and no list).
 */
export const READ_RAW = new LuaScript(
  'readRaw',
  `local items = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
if #items == 0 and redis.call('HEXISTS', KEYS[2], 'raw') == 0 then return false end
return items`,
);

/**
 * Replaces an agent's chains (the v1 upgrade; idempotent). KEYS: chains, agent, agents,
 * counters. ARGV: agent id, then one record JSON per chain. Sequence numbers start at 0.
 */
export const RESTORE_CHAINS = script(
  'restoreChains',
  `local bad = guard({KEYS[1], 'list', KEYS[2], 'hash', KEYS[3], 'zset', KEYS[4], 'hash'}, KEYS[4])
if bad then return redis.error_reply(bad) end
local old = redis.call('LRANGE', KEYS[1], 0, -1)
local oldBytes, bytes = 0, 0
for _, v in ipairs(old) do oldBytes = oldBytes + #v end
for i = 2, #ARGV do bytes = bytes + #ARGV[i] end
redis.call('DEL', KEYS[1])
pushAll(KEYS[1], 2)
local count = #ARGV - 1
if (tonumber(redis.call('HGET', KEYS[2], 'next') or '0') or 0) < count then redis.call('HSET', KEYS[2], 'next', count) end
redis.call('ZADD', KEYS[3], 0, ARGV[1])
bump(KEYS[4], 'chains', count - #old)
bump(KEYS[4], 'bytes', bytes - oldBytes)
if #old == 0 and count > 0 then bump(KEYS[4], 'agents', 1) end
return count`,
);

/**
 * Removes a conversation with every kind. KEYS: the seven record keys (`conversationKeyList`),
 * conversations, conversation-ids, counters. ARGV: conversation id, search flag, search owner
 * part (every search doc of the conversation goes too). A record key of another type (another
 * program's, `RECORD_TYPES`) is removed too, counting out only what the library's keys of the
 * conversation still show it counted: the conversation when it is listed, the raw messages of
 * the meta hash's count (or of the list, that hash of another type), the memories of whichever
 * of the id list and data hash is of its type; no bytes of the key itself (unknown). Stray memory
 * fields (in the data hash, not listed) were never counted and are not counted out.
 */
export const REMOVE_CONVERSATION = indexedScript(
  'removeConversation',
  `${RECORD_TYPES}${RAW_HELD}local bad = guard({KEYS[8], 'zset', KEYS[9], 'zset'}, KEYS[10])
if bad then return redis.error_reply(bad) end
recordTypes({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]})
local c = KEYS[10]
local function own(key, expected, command)
  if foreign(key, expected) then return 0 end
  return redis.call(command, key)
end
local rawCount, rawBytes = rawHeld(KEYS[2], KEYS[3])
local bytes = own(KEYS[1], 'string', 'STRLEN') + own(KEYS[4], 'string', 'STRLEN') + rawBytes
local held, listed = own(KEYS[6], 'hash', 'HLEN'), own(KEYS[5], 'list', 'LLEN')
if held == 0 then
  -- No memory data (none, or of another type): no bytes of it.
elseif keyTypes[KEYS[5]] == 'list' and held > listed then
  -- Stray fields (ids the list does not hold: a hand edit) were never counted, bytes included.
  local inList = {}
  for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do inList[id] = true end
  local flat = redis.call('HGETALL', KEYS[6])
  for i = 1, #flat, 2 do
    if inList[flat[i]] then bytes = bytes + #flat[i + 1] end
  end
else
  for _, v in ipairs(redis.call('HVALS', KEYS[6])) do bytes = bytes + #v end
end
-- recordTypes read whether each exists. A conversation key of another type was counted when
-- its id is listed: a write of the library counted it then, before another program replaced it.
local conversations = keyTypes[KEYS[1]] == 'string' and 1 or 0
if foreign(KEYS[1], 'string') then conversations = redis.call('ZSCORE', KEYS[8], ARGV[1]) and 1 or 0 end
local chunkInfos = keyTypes[KEYS[4]] == 'string' and 1 or 0
-- Every listed id was counted, its data there or not (a data hash evicted, or of another type,
-- while the list survived), and no stray; the data hash's ids were when the list was evicted
-- (or is of another type).
local memories = keyTypes[KEYS[5]] == 'list' and listed or held
if searchOn(c, ARGV[2]) then
  local o = ARGV[3]
  local bad = indexPhase(c, function()
    unindexDoc(c, 'v' .. o)
    unindexDoc(c, 'k' .. o)
    for i = 0, rawCount - 1 do unindexDoc(c, 'r' .. o .. i) end
    if held > 0 then
      for _, id in ipairs(redis.call('HKEYS', KEYS[6])) do unindexDoc(c, 'm' .. o .. id) end
    end
    if held < listed then
      for _, id in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do unindexDoc(c, 'm' .. o .. id) end
    end
  end)
  if bad then return redis.error_reply(bad) end
end
-- After the index phase: a counter too large for a Lua number is bumped at once (HINCRBY).
bump(c, 'conversations', -conversations)
bump(c, 'chunk_infos', -chunkInfos)
bump(c, 'memories', -memories)
bump(c, 'raw_messages', -rawCount)
bump(c, 'bytes', -bytes)
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[8], ARGV[1])
redis.call('ZREM', KEYS[9], ARGV[1])
return 1`,
  { allowOom: true },
);
