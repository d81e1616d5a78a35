/**
 * Deletes of memories (one, or a batch of one conversation's) and of an agent's reasoning
 * chains (layout v2, see `keys.ts`).
 * Like the scripts in `scripts.ts`, each Lua script touches one bucket's slot, checks key
 * types before its first write (the search index's by dropping the docs first, in an
 * `indexPhase`: `search-lua.ts`), keeps the bucket counters exact and is idempotent.
 */
import { AGENT_NEXT_LUA } from './agent-next.js';
import type { RedisConnection } from './connection.js';
import type { AgentKeys, ConversationKeys } from './keys.js';
import { RELIST_SURVIVORS } from './memory-survivors.js';
import { indexedScript, RECORD_TYPES } from './scripts.js';
import { searchOwner, type SearchWriter } from './search-writer.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/**
 * Removes one memory. KEYS: memories (list), memory-data, memory-created, conversation, raw
 * (list), chunks, conversation-ids, counters. ARGV: memory id, conversation id, search flag, search
 * owner part. The conversation leaves the any-kind index when nothing else of it is stored
 * (an empty raw-message list counts as nothing).
 * Returns 1 when the memory existed. The count goes down by the times the id was listed (or 1 when
 * the list is gone and the data hash held it), so removing the ids of an evicted data hash keeps
 * it exact, and a stray field (in the data hash, not listed: a hand edit) counts nothing out and
 * goes with the last listed id; an
 * evicted list is put back from the data hash (`RELIST_SURVIVORS`), so the conversation stays
 * listed while memories of it remain. A memory key of another type (another program's,
 * `RECORD_TYPES`) is removed: an id list of another type is then put back from the data hash as
 * an evicted one is, a data hash of another type leaves the listed ids as an evicted one does
 * (no memories read, and the next write drops them), a created_at hash of another type comes
 * back from the records; none of its count or bytes is counted out. The conversation, raw and
 * chunks keys are only asked whether they exist (`EXISTS`, any type).
 */
const REMOVE_MEMORY = indexedScript(
  'removeMemory',
  `${RECORD_TYPES}${RELIST_SURVIVORS}local bad = guard({KEYS[7], 'zset'}, KEYS[8])
if bad then return redis.error_reply(bad) end
recordTypes({KEYS[1], KEYS[2], KEYS[3]})
local badList, badData = foreign(KEYS[1], 'list'), foreign(KEYS[2], 'hash')
local old = badData and 0 or redis.call('HSTRLEN', KEYS[2], ARGV[1])
if searchOn(KEYS[8], ARGV[3]) then
  local bad = indexPhase(KEYS[8], unindexDoc, KEYS[8], 'm' .. ARGV[4] .. ARGV[1])
  if bad then return redis.error_reply(bad) end
end
local existed, listed = 0, 0
if badData then redis.call('DEL', KEYS[2]) else existed = redis.call('HDEL', KEYS[2], ARGV[1]) end
if foreign(KEYS[3], 'hash') then redis.call('DEL', KEYS[3]) else redis.call('HDEL', KEYS[3], ARGV[1]) end
if badList then
  redis.call('DEL', KEYS[1])
  keyTypes[KEYS[1]] = 'none'
else
  -- A listed id was counted, its data there or not (a data hash evicted while the list survived).
  listed = redis.call('LREM', KEYS[1], 0, ARGV[1])
end
if badData then keyTypes[KEYS[2]] = 'none' end
-- With the list there, the listed ids are what was counted: a listed id whose data hash was
-- evicted too, and a stray (in the data hash, never listed) not. With the list evicted (or of
-- another type, removed above) the data hash's ids were.
local counted = listed
if keyTypes[KEYS[1]] ~= 'list' then counted = existed end
bump(KEYS[8], 'memories', -counted)
if counted > 0 then bump(KEYS[8], 'bytes', -old) end
if listed > 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  -- The last listed id is gone: what the data hash still holds are strays, which must not be
  -- read as the survivors of an evicted list (counted, never having been).
  redis.call('DEL', KEYS[2], KEYS[3])
end
-- A list evicted (or of another type, removed above) while the data hash survived comes back
-- without the id (the others are stored).
relist(unlistedIds())
-- Raw messages are stored when their list exists (an empty one stored is none, and its count
-- may have been evicted with the meta hash): what is left of the memories is in either key.
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6]) == 0 then
  redis.call('ZREM', KEYS[7], ARGV[2])
end
return existed`,
  { allowOom: true },
);

/**
 * Lua of `REMOVE_MEMORIES` when the conversation's keys are whole (the id list a list, the two
 * hashes hashes or gone): `removeListed()` leaves what `REMOVE_MEMORY` per id would, with the
 * key types read once and each hash losing every id in one `HDEL`. Each id's listed count (what
 * the counters lose) comes from one `LREM` per id in a small batch, and in a batch of
 * `LIST_REWRITE_MIN` ids or more from one read of the list, which is then written back without
 * them: an `LREM` scans the whole list, and the rewrite costs about 16 of them (measured at
 * lists of 200 and 2,000 ids; at 20,000 about 20, as making a Lua string of each id costs a bit
 * more than an `LREM`'s compare). The data and created_at hashes go when the list empties (what
 * they still hold are strays, as in `REMOVE_MEMORY`).
 */
const REMOVE_LISTED = `local LIST_REWRITE_MIN = 16
local function removeListed()
  local listed = {}
  if #ARGV - 3 >= LIST_REWRITE_MIN then
    for i = 4, #ARGV do listed[ARGV[i]] = 0 end
    local ids, kept = redis.call('LRANGE', KEYS[1], 0, -1), {}
    for _, id in ipairs(ids) do
      local times = listed[id]
      if times then listed[id] = times + 1 else kept[#kept + 1] = id end
    end
    if #kept < #ids then
      redis.call('DEL', KEYS[1])
      -- The list as it was without the ids (relist pushes in chunks, in order).
      relist(kept)
    end
  else
    for i = 4, #ARGV do listed[ARGV[i]] = redis.call('LREM', KEYS[1], 0, ARGV[i]) end
  end
  local counted, bytes = 0, 0
  for i = 4, #ARGV do
    if listed[ARGV[i]] > 0 then
      counted = counted + listed[ARGV[i]]
      bytes = bytes + redis.call('HSTRLEN', KEYS[2], ARGV[i])
    end
  end
  for i = 4, #ARGV, 1000 do
    local upto = math.min(i + 999, #ARGV)
    redis.call('HDEL', KEYS[2], unpack(ARGV, i, upto))
    redis.call('HDEL', KEYS[3], unpack(ARGV, i, upto))
  end
  bump(KEYS[8], 'memories', -counted)
  bump(KEYS[8], 'bytes', -bytes)
  if counted > 0 and redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
end
`;

/**
 * Removes many memories of one conversation, as `REMOVE_MEMORY` per id in order would, all or
 * nothing. KEYS: as `REMOVE_MEMORY`'s. ARGV: conversation id, search flag, search owner part,
 * then the memory ids (no repeats). The guard runs once; the search docs of every id go first,
 * in one index phase, so a failure there writes nothing else. With the record keys whole,
 * `REMOVE_LISTED` does the rest; else (an evicted list, a key of another type) each id's removal
 * is `REMOVE_MEMORY`'s own, its record keys' types read again before it (an earlier id's removal
 * may have dropped or relisted them). The conversation leaves the any-kind index once, at the
 * end, when nothing of it is left (only removals run, so it cannot come back in between).
 */
const REMOVE_MEMORIES = indexedScript(
  'removeMemories',
  `${RECORD_TYPES}${RELIST_SURVIVORS}${REMOVE_LISTED}local bad = guard({KEYS[7], 'zset'}, KEYS[8])
if bad then return redis.error_reply(bad) end
if searchOn(KEYS[8], ARGV[2]) then
  local bad = indexPhase(KEYS[8], function()
    for i = 4, #ARGV do unindexDoc(KEYS[8], 'm' .. ARGV[3] .. ARGV[i]) end
  end)
  if bad then return redis.error_reply(bad) end
end
recordTypes({KEYS[1], KEYS[2], KEYS[3]})
if keyTypes[KEYS[1]] == 'list' and not foreign(KEYS[2], 'hash') and not foreign(KEYS[3], 'hash') then
  removeListed()
else
  for i = 4, #ARGV do
    local id = ARGV[i]
    if i > 4 then recordTypes({KEYS[1], KEYS[2], KEYS[3]}) end
    local badList, badData = foreign(KEYS[1], 'list'), foreign(KEYS[2], 'hash')
    local old = badData and 0 or redis.call('HSTRLEN', KEYS[2], id)
    local existed, listed = 0, 0
    if badData then redis.call('DEL', KEYS[2]) else existed = redis.call('HDEL', KEYS[2], id) end
    if foreign(KEYS[3], 'hash') then redis.call('DEL', KEYS[3]) else redis.call('HDEL', KEYS[3], id) end
    if badList then
      redis.call('DEL', KEYS[1])
      keyTypes[KEYS[1]] = 'none'
    else
      listed = redis.call('LREM', KEYS[1], 0, id)
    end
    if badData then keyTypes[KEYS[2]] = 'none' end
    local counted = listed
    if keyTypes[KEYS[1]] ~= 'list' then counted = existed end
    bump(KEYS[8], 'memories', -counted)
    if counted > 0 then bump(KEYS[8], 'bytes', -old) end
    if listed > 0 and redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[2], KEYS[3]) end
    relist(unlistedIds())
  end
end
if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[4], KEYS[5], KEYS[6]) == 0 then
  redis.call('ZREM', KEYS[7], ARGV[1])
end
return 1`,
  { allowOom: true },
);

/**
 * Removes every reasoning chain of an agent. KEYS: chains (list), agents (zset), counters,
 * agent (hash), chain-appends (zset). ARGV: agent id, search flag, search owner part (the chains' search docs go
 * too). The agent hash (`next`) stays, so sequence numbers are never reused.
 * Returns how many chains were removed. A chains key of another type (another program's,
 * `RECORD_TYPES`) is removed, counting out the agent when it is listed (its chains and bytes are
 * unknown); an agent key of another type is replaced by a hash whose `next` is recovered as
 * after an eviction (`agent-next.ts`), so numbers still never go back; a chain-appends key of
 * another type is removed (a zset of tokens stays: a resent append must still land once).
 */
const REMOVE_CHAINS = indexedScript(
  'removeChains',
  `${RECORD_TYPES}${AGENT_NEXT_LUA}local bad = guard({KEYS[2], 'zset'}, KEYS[3])
if bad then return redis.error_reply(bad) end
recordTypes({KEYS[4], KEYS[5]})
local badAgent = foreign(KEYS[4], 'hash')
-- The read of the list is its type check (one TYPE less: the chain-appends key's is asked instead).
local old = redis.pcall('LRANGE', KEYS[1], 0, -1)
local badList = old.err ~= nil
if badList and string.sub(old.err, 1, 9) ~= 'WRONGTYPE' then return redis.error_reply(old.err) end
if badList then old = {} end
local bytes = 0
for _, v in ipairs(old) do bytes = bytes + #v end
-- With the hash evicted, next is recovered and kept (once the index phase is through), so
-- numbers still never go back.
local nextSeq, lost = 0, false
if badAgent then
  nextSeq, lost = recoveredNext(KEYS[3], ARGV[3], #old), true
elseif #old > 0 then
  nextSeq, lost = agentNext(KEYS[4], #old, KEYS[3], ARGV[3])
end
if #old > 0 and searchOn(KEYS[3], ARGV[2]) then
  local bad = indexPhase(KEYS[3], function()
    for seq = nextSeq - #old, nextSeq - 1 do unindexDoc(KEYS[3], 'a' .. ARGV[3] .. seq) end
  end)
  if bad then return redis.error_reply(bad) end
end
if badAgent then redis.call('DEL', KEYS[4]) end
if foreign(KEYS[5], 'zset') then redis.call('DEL', KEYS[5]) end
if lost and nextSeq > 0 then redis.call('HSET', KEYS[4], 'next', nextSeq) end
redis.call('DEL', KEYS[1])
local agents = redis.call('ZREM', KEYS[2], ARGV[1])
bump(KEYS[3], 'chains', -#old)
bump(KEYS[3], 'bytes', -bytes)
-- A listed agent whose list is of another type was counted by the append that listed it.
if #old > 0 or (badList and agents == 1) then bump(KEYS[3], 'agents', -1) end
return #old`,
  { allowOom: true },
);

/** Removes one memory of a conversation (all or nothing); nothing when absent. */
export async function removeMemory(
  redis: RedisConnection,
  k: ConversationKeys,
  search: SearchWriter,
  conversationId: string,
  memoryId: string,
): Promise<void> {
  const { conversationIds, counters } = k.bucket;
  const keys = [k.memories, k.memoryData, k.memoryCreated, k.conversation, k.raw, k.chunks];
  const what = `delete memory ${q(memoryId)} of ${q(conversationId)}`;
  const args = [memoryId, conversationId, search.flag, searchOwner(conversationId)];
  await redis.script(what, REMOVE_MEMORY, [...keys, conversationIds, counters], args);
}

/** Removes memories of one conversation (an id may repeat; an absent one is no error) in one script, all or nothing. */
export async function removeMemories(
  redis: RedisConnection,
  k: ConversationKeys,
  search: SearchWriter,
  conversationId: string,
  memoryIds: readonly string[],
): Promise<void> {
  const { conversationIds, counters } = k.bucket;
  const keys = [k.memories, k.memoryData, k.memoryCreated, k.conversation, k.raw, k.chunks];
  const unique = [...new Set(memoryIds)];
  const what = `delete ${unique.length} memories of ${q(conversationId)}`;
  const args = [conversationId, search.flag, searchOwner(conversationId), ...unique];
  await redis.script(what, REMOVE_MEMORIES, [...keys, conversationIds, counters], args);
}

/** Removes every reasoning chain of an agent (all or nothing); nothing when absent. */
export async function removeReasoningChains(
  redis: RedisConnection,
  k: AgentKeys,
  search: SearchWriter,
  agentId: string,
): Promise<void> {
  const keys = [k.chains, k.bucket.agents, k.bucket.counters, k.agent, k.chainAppends];
  const args = [agentId, search.flag, searchOwner(agentId)];
  await redis.script(`delete reasoning chains of ${q(agentId)}`, REMOVE_CHAINS, keys, args);
}
