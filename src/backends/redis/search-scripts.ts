/**
 * The read scripts of the Redis search index (see `search-lua.ts` for its keys). Each runs on
 * one bucket (KEYS[1] is the bucket's counters, so a Cluster routes it to the bucket's slot)
 * and reads only keys of that slot.
 * The index scripts answer `{'corrupt', why}` when the bucket's index cannot be read
 * (`search-faults.ts`). They only read.
 */
import { AGENT_NEXT_LUA } from './agent-next.js';
import { LuaScript } from './scripts.js';
import { POSTING_LENGTH_LUA, READ_INDEX_LUA } from './search-faults.js';
import { IS_GONE_LUA, POSTING_BYTES } from './search-lua.js';

/**
 * A bucket's corpus figures and the document frequency of each query token (its postings'
 * entries less the dead ones). KEYS: counters. ARGV: posting tokens.
 * Returns {docs, tokens, stale (0/1), df1, df2, ...} (no dfs for a stale bucket, which is
 * scanned), or `{'corrupt', why}` (`readIndex`), also when the counters hash lost its doc
 * counters (an eviction) while the index holds docs: the bucket is then marked stale and scanned.
 */
export const SEARCH_STATS = new LuaScript(
  'searchStats',
  `${READ_INDEX_LUA}${POSTING_LENGTH_LUA}return readIndex(function()
  local c = redis.call('HMGET', KEYS[1], 'search_docs', 'search_tokens', 'search_stale', 'search_next')
  local out = {tonumber(c[1] or '0') or 0, tonumber(c[2] or '0') or 0, tonumber(c[3] or '0') or 0}
  -- No doc numbered, yet docs or dropped numbers: the counters hash was lost (an eviction).
  if not c[4] and out[3] == 0 and redis.call('EXISTS', base .. 'search-docs', base .. 'search-gone') > 0 then
    error({err = KEYS[1] .. ' has no search_next while the index holds docs (its counters were lost)'})
  end
  if #ARGV == 0 or out[3] ~= 0 then return out end
  local dead = redis.call('HMGET', base .. 'search-dead', unpack(ARGV))
  for i = 1, #ARGV do
    local bytes = postingLength(ARGV[i])
    -- No live entry (none, or a key held by no doc): the rank script does not read it.
    out[#out + 1] = bytes == 0 and 0 or bytes / ${POSTING_BYTES} - (tonumber(dead[i]) or 0)
  end
  return out
end, ARGV)`,
);

/**
 * The best `limit` docs of a bucket for a query, by the hits' score (matched tokens, then BM25
 * by FTS5's formula with the corpus-wide idfs and average length the client passes), and every
 * doc tied with the last of them (the client orders the merged hits' ties by their refs).
 * KEYS: counters.
 * ARGV: 'any' or 'all', limit, average doc length, n, then per token: posting token, idf, its
 * df in this bucket; then the doc prefixes searched (a kind letter, or letter + owner part for
 * a scoped kind). Entries of dead doc numbers (set in `search-gone`; only read for a token
 * with dead entries) are skipped; a scoped
 * kind's docs are checked by name. 'all' walks the rarest token's postings and looks each doc
 * up in the others by binary search (a string is sorted by doc number); 'any' walks every
 * token's postings. A heap of the `limit` best finds the score to keep.
 * Returns a flat array: doc number, length, tf of each token, doc number, ... (the client
 * names only the overall best: one `HMGET` of `search-docs` per bucket holding one), or
 * `{'corrupt', why}` (`readIndex`).
 */
export const SEARCH_RANK = new LuaScript(
  'searchRank',
  `${IS_GONE_LUA}${READ_INDEX_LUA}local all = ARGV[1] == 'all'
local limit = tonumber(ARGV[2])
local avg = tonumber(ARGV[3])
if avg <= 0 then avg = 1 end
local nt = tonumber(ARGV[4])
local terms, idfs, dfs = {}, {}, {}
for t = 1, nt do
  terms[t] = base .. 'q:' .. ARGV[2 + 3 * t]
  idfs[t] = tonumber(ARGV[3 + 3 * t])
  dfs[t] = tonumber(ARGV[4 + 3 * t])
end
local open, scoped = {}, {}
for i = 5 + 3 * nt, #ARGV do
  local kind = string.byte(ARGV[i], 1)
  if #ARGV[i] == 1 then open[kind] = true else
    scoped[kind] = scoped[kind] or {}
    table.insert(scoped[kind], ARGV[i])
  end
end
local tokens = {}
for t = 1, nt do tokens[t] = ARGV[2 + 3 * t] end
return readIndex(function()
  local found, nums = {}, {}
  -- A token without dead entries (the usual case) skips the bitmap.
  local dead = redis.call('HMGET', base .. 'search-dead', unpack(tokens))
  local checked, gone = {}, ''
  for t = 1, nt do checked[t] = tonumber(dead[t] or '0') ~= 0 end
  for t = 1, nt do
    if checked[t] then
      gone = redis.call('GET', base .. 'search-gone') or ''
      break
    end
  end
  -- A candidate: {length, tf of each token, kind letter}.
  local unpackEntry, kindAt = struct.unpack, nt + 2
  local function add(t, num, tf, len, kind)
    if not (open[kind] or scoped[kind]) or (checked[t] and isGone(gone, num)) then return end
    local e = {len}
    for u = 1, nt do e[u + 1] = 0 end
    e[t + 1] = tf
    e[kindAt] = kind
    found[num] = e
    nums[#nums + 1] = num
  end
  if all then
    local order = {}
    for t = 1, nt do order[t] = t end
    table.sort(order, function(a, b) return dfs[a] < dfs[b] end)
    local s = redis.call('GET', terms[order[1]]) or ''
    for pos = 1, #s, ${POSTING_BYTES} do
      local num, tf, len, kind = struct.unpack('<I4I4I4B', s, pos)
      add(order[1], num, tf, len, kind)
    end
    for j = 2, nt do
      if #nums == 0 then break end
      local t = order[j]
      s = redis.call('GET', terms[t]) or ''
      local keep, lo, hi = {}, 0, #s / ${POSTING_BYTES} - 1
      for _, num in ipairs(nums) do
        local a, b, hit = lo, hi, nil
        while a <= b do
          local mid = math.floor((a + b) / 2)
          local m = struct.unpack('<I4', s, mid * ${POSTING_BYTES} + 1)
          if m < num then a = mid + 1 elseif m > num then b = mid - 1 else hit = mid; break end
        end
        if hit then
          local _, tf = struct.unpack('<I4I4', s, hit * ${POSTING_BYTES} + 1)
          found[num][t + 1] = tf
          keep[#keep + 1] = num
          lo = hit + 1
        else
          found[num] = nil
          lo = a
        end
      end
      nums = keep
    end
  else
    for t = 1, nt do
      -- A token without a live entry in the bucket (its df here is 0) adds no candidate.
      local s = dfs[t] > 0 and (redis.call('GET', terms[t]) or '') or ''
      for pos = 1, #s, ${POSTING_BYTES} do
        local num, tf, len, kind = unpackEntry('<I4I4I4B', s, pos)
        local e = found[num]
        if e then e[t + 1] = tf else add(t, num, tf, len, kind) end
      end
    end
  end
  -- A scoped kind's candidates are named (one HMGET per 1000) and kept when under the owner.
  local unnamed = {}
  for _, num in ipairs(nums) do
    if not open[found[num][kindAt]] then unnamed[#unnamed + 1] = num end
  end
  for i = 1, #unnamed, 1000 do
    local part, fields = {}, {}
    for j = i, math.min(i + 999, #unnamed) do
      part[#part + 1] = unnamed[j]
      fields[#fields + 1] = string.format('%d', unnamed[j])
    end
    local got = redis.call('HMGET', base .. 'search-docs', unpack(fields))
    for j = 1, #part do
      local name, ok = got[j] or '', false
      for _, p in ipairs(scoped[found[part[j]][kindAt]]) do
        if string.sub(name, 1, #p) == p then ok = true end
      end
      if not ok then found[part[j]] = nil end
    end
  end
  -- Scored as the client scores hits (hitScore: matched + BM25 squashed into [0, 1)), so equal
  -- here is a tie there. The heap finds the limit-th best; every doc scoring as well goes back,
  -- ties included: the client orders ties by their refs, which a cut here by number would not.
  local heap, scored = {}, {}
  local function better(a, b)
    if a[1] ~= b[1] then return a[1] > b[1] end
    return a[2] < b[2]
  end
  local function up(i)
    while i > 1 do
      local p = math.floor(i / 2)
      if not better(heap[p], heap[i]) then return end
      heap[p], heap[i] = heap[i], heap[p]
      i = p
    end
  end
  local function down(i)
    local n = #heap
    while true do
      local l, r, w = 2 * i, 2 * i + 1, i
      if l <= n and better(heap[w], heap[l]) then w = l end
      if r <= n and better(heap[w], heap[r]) then w = r end
      if w == i then return end
      heap[w], heap[i] = heap[i], heap[w]
      i = w
    end
  end
  for _, num in ipairs(nums) do
    local e = found[num]
    if e then
      local norm = 1.2 * (1 - 0.75 + 0.75 * e[1] / avg)
      local matched, score = 0, 0
      for t = 1, nt do
        local f = e[t + 1]
        if f > 0 then
          matched = matched + 1
          score = score + idfs[t] * f * 2.2 / (f + norm)
        end
      end
      if score < 0 then score = 0 end
      local c = {matched + score / (1 + score), num}
      scored[#scored + 1] = c
      if #heap < limit then
        heap[#heap + 1] = c
        up(#heap)
      elseif better(c, heap[1]) then
        heap[1] = c
        down(1)
      end
    end
  end
  -- With fewer docs than the limit, all go back. The margin only returns a near tie too (the
  -- client re-scores and cuts exactly), in case the client's arithmetic ever rounds otherwise.
  local cut = #heap < limit and -1 or heap[1][1] - 1e-9
  local out = {}
  for _, c in ipairs(scored) do
    if c[1] >= cut then
      out[#out + 1] = c[2]
      local e = found[c[2]]
      for u = 1, nt + 1 do out[#out + 1] = e[u] end
    end
  end
  return out
end, tokens)`,
);

/**
 * Reads the records of docs of one bucket, from one snapshot. KEYS: counters (for routing).
 * ARGV per doc: kind letter, then `r`: raw list, '', message index; `m`: memory-data,
 * memory-created, memory id; `a`: chains list, agent hash, `<sequence number> <search owner
 * part>` (the owner finds the agent's docs when its `next` was evicted: `agent-next.ts`);
 * `v`/`k`: the record's key, '', ''. Returns per doc: the record JSON (nil when gone) and the memory's
 * created_at JSON or the chain's position (nil otherwise).
 */
export const SEARCH_LOAD = new LuaScript(
  'searchLoad',
  `${AGENT_NEXT_LUA}local out = {}
for i = 1, #ARGV, 4 do
  local kind, a, b, c = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local record, extra = false, false
  if kind == 'r' then
    record = redis.call('LINDEX', a, tonumber(c))
  elseif kind == 'm' then
    record = redis.call('HGET', a, c)
    extra = redis.call('HGET', b, c)
  elseif kind == 'a' then
    local len = redis.call('LLEN', a)
    local seq, owner = string.match(c, '^(%-?%d+) (.*)$')
    local position = tonumber(seq) - (agentNext(b, len, KEYS[1], owner) - len)
    if position >= 0 and position < len then
      record = redis.call('LINDEX', a, position)
      extra = position
    end
  else
    record = redis.call('GET', a)
  end
  out[#out + 1] = record
  out[#out + 1] = extra
end
return out`,
);
