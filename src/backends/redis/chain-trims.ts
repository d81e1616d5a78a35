/** The Lua of reasoning-chain trims, shared by the append and trim scripts of `chains.ts`. */

/**
 * Lua, after the search index helpers (`search-lua.ts`): `unindexHead(counters, owner, next,
 * len, keep)` drops the search docs of all but the last `keep` of `len` chains (docs are keyed
 * by sequence number: the head's is next - len), the index phase of a trim;
 * `indexChains(n, first, next, len, keep)` is the guarded append's index phase; `trimHead(chains,
 * agents, counters, agent id, keep, len)` then drops those chains, with the counters and the
 * agent's index entry when none is left, and returns how many.
 */
export const TRIM_HEAD = `local function unindexHead(counters, owner, nextSeq, len, keep)
  local head = nextSeq - len
  for seq = head, head + len - keep - 1 do unindexDoc(counters, 'a' .. owner .. seq) end
end
-- indexChains(n, first, nextSeq, len, keep): the index phase of an append (APPEND_CHAINS).
local function indexChains(n, first, nextSeq, len, keep)
  -- Sequence numbers are never reused: each doc is new.
  local stale = searchStale(KEYS[5])
  local docs, specs = {}, {}
  for i = 0, n - 1 do
    docs[i + 1] = 'a' .. ARGV[6] .. (first + i)
    specs[i + 1] = ARGV[8 + n + i]
    if stale then unindexDoc(KEYS[5], docs[i + 1]) end
  end
  addDocs(KEYS[5], docs, specs)
  if keep >= 0 then unindexHead(KEYS[5], ARGV[6], nextSeq, len, keep) end
end
local function trimHead(chains, agents, counters, agentId, keep, len)
  local remove = len - keep
  if remove <= 0 then return 0 end
  local bytes = 0
  for i = 0, remove - 1, 1000 do
    for _, v in ipairs(redis.call('LRANGE', chains, i, math.min(i + 999, remove - 1))) do bytes = bytes + #v end
  end
  if keep == 0 then redis.call('DEL', chains) else redis.call('LTRIM', chains, remove, -1) end
  bump(counters, 'chains', -remove)
  bump(counters, 'bytes', -bytes)
  if keep == 0 then
    redis.call('ZREM', agents, agentId)
    bump(counters, 'agents', -1)
  end
  return remove
end
`;
