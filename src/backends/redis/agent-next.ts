/**
 * An agent's `next` sequence number (see `chains.ts`) when its agent hash was evicted while its
 * chains list survived (an `allkeys-*` policy picks any key): `next` is then below the list's
 * length, and reading it as stored would number the survivors below 0 and the next append from
 * 0 again, over numbers the survivors' search docs still hold.
 */

/**
 * Lua: `recoveredNext(counters, owner, len)`, the `next` of an agent whose hash lost it while
 * `len` chains survive, found in its bucket's search docs (`search-lua.ts`): every chain
 * appended with the index on has a doc `a<owner><sequence>`, a trim or delete drops the docs of
 * the chains it removes, so one past the highest such number is `next` exactly when the newest
 * chain has a doc (a stale bucket may also hold the docs of an append that failed in its index
 * phase, until a rebuild drops them: then higher, never lower). It is at least `len`: without
 * docs (`searchIndex: false`, or the docs hash lost too) the survivors are numbered from 0. An
 * `HSCAN` of the bucket's docs: O(docs of the bucket), only on this rare path. `agentNext(agent, len, counters, owner)`: the stored `next`
 * when it is at least `len` (one `HGET`, the usual path), else the recovered one, and whether it
 * was recovered. Writes write it back after their own checks and index phase, so a write that
 * fails leaves the hash as it was; reads never write it (a read-only open or a replica reads).
 */
export const AGENT_NEXT_LUA = `local function recoveredNext(counters, owner, len)
  local docs = string.sub(counters, 1, #counters - 8) .. 'search-docs'
  local prefix = 'a' .. owner
  local pattern = 'a' .. string.gsub(owner, '[%*%?%[%]\\\\]', '\\\\%0') .. '*'
  local best, cursor = len, '0'
  repeat
    local page = redis.pcall('HSCAN', docs, cursor, 'MATCH', pattern, 'COUNT', 1000)
    if type(page) ~= 'table' or page.err then return best end
    cursor = page[1]
    local fields = page[2]
    for i = 1, #fields, 2 do
      local seq = string.match(fields[i], '^%d+$', #prefix + 1)
      if seq and string.sub(fields[i], 1, #prefix) == prefix then best = math.max(best, tonumber(seq) + 1) end
    end
  until cursor == '0'
  return best
end
local function agentNext(agent, len, counters, owner)
  local stored = tonumber(redis.call('HGET', agent, 'next') or '0') or 0
  if stored >= len then return stored, false end
  return recoveredNext(counters, owner, len), true
end
`;
