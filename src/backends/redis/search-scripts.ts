/**
 * The read scripts of the Redis search index (see `search-lua.ts` for its keys). Each runs on
 * one bucket (KEYS[1] is the bucket's counters, so a Cluster routes it to the bucket's slot)
 * and reads only keys of that slot.
 */
import { LuaScript } from './scripts.js';

/**
 * A bucket's corpus figures and the document frequency of each query token. KEYS: counters.
 * ARGV: posting tokens. Returns {docs, tokens, stale (0/1), df1, df2, ...}.
 */
export const SEARCH_STATS = new LuaScript(
  'searchStats',
  `local base = string.sub(KEYS[1], 1, #KEYS[1] - 8)
local c = redis.call('HMGET', KEYS[1], 'search_docs', 'search_tokens', 'search_stale')
local out = {tonumber(c[1] or '0') or 0, tonumber(c[2] or '0') or 0, tonumber(c[3] or '0') or 0}
for i = 1, #ARGV do out[#out + 1] = redis.call('HLEN', base .. 'p:' .. ARGV[i]) end
return out`,
);

/**
 * The best `limit` docs of a bucket for a query, by matched tokens then BM25 (FTS5's formula,
 * with the corpus-wide idfs and average length the client passes), ties by doc. KEYS: counters.
 * ARGV: 'any' or 'all', limit, average doc length, n, then per token: posting token, idf, its
 * df in this bucket; then the doc prefixes searched (a kind letter, or letter + owner part for
 * a scoped kind). 'all' walks the rarest token's postings and checks the others with HMGET;
 * 'any' walks every token's postings. Only the heap of the `limit` best is kept.
 * Returns a flat array: doc, length, tf of each token, doc, ...
 */
export const SEARCH_RANK = new LuaScript(
  'searchRank',
  `local base = string.sub(KEYS[1], 1, #KEYS[1] - 8)
local all = ARGV[1] == 'all'
local limit = tonumber(ARGV[2])
local avg = tonumber(ARGV[3])
if avg <= 0 then avg = 1 end
local nt = tonumber(ARGV[4])
local terms, idfs, dfs = {}, {}, {}
for t = 1, nt do
  terms[t] = base .. 'p:' .. ARGV[2 + 3 * t]
  idfs[t] = tonumber(ARGV[3 + 3 * t])
  dfs[t] = tonumber(ARGV[4 + 3 * t])
end
local letters, prefixes = {}, {}
for i = 5 + 3 * nt, #ARGV do
  if #ARGV[i] == 1 then letters[ARGV[i]] = true else prefixes[#prefixes + 1] = ARGV[i] end
end
local function allowed(doc)
  if letters[string.sub(doc, 1, 1)] then return true end
  for _, p in ipairs(prefixes) do
    if string.sub(doc, 1, #p) == p then return true end
  end
  return false
end
local found = {}
local function entry(doc)
  local e = {0}
  for t = 1, nt do e[t + 1] = 0 end
  found[doc] = e
  return e
end
if all then
  local order = {}
  for t = 1, nt do order[t] = t end
  table.sort(order, function(a, b) return dfs[a] < dfs[b] end)
  local first = order[1]
  local docs = {}
  local flat = redis.call('HGETALL', terms[first])
  for i = 1, #flat, 2 do
    if allowed(flat[i]) then
      local score = tonumber(flat[i + 1])
      local e = entry(flat[i])
      e[first + 1] = math.floor(score / 10000000)
      e[1] = score % 10000000
      docs[#docs + 1] = flat[i]
    end
  end
  for j = 2, nt do
    local t = order[j]
    local keep = {}
    for i = 1, #docs, 1000 do
      local part = {unpack(docs, i, math.min(i + 999, #docs))}
      local scores = redis.call('HMGET', terms[t], unpack(part))
      for m = 1, #part do
        if scores[m] then
          found[part[m]][t + 1] = math.floor(tonumber(scores[m]) / 10000000)
          keep[#keep + 1] = part[m]
        else
          found[part[m]] = nil
        end
      end
    end
    docs = keep
    if #docs == 0 then break end
  end
else
  for t = 1, nt do
    local flat = redis.call('HGETALL', terms[t])
    for i = 1, #flat, 2 do
      local e = found[flat[i]]
      if e == nil and allowed(flat[i]) then e = entry(flat[i]) end
      if e then
        local score = tonumber(flat[i + 1])
        e[t + 1] = math.floor(score / 10000000)
        e[1] = score % 10000000
      end
    end
  end
end
local heap = {}
local function better(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  if a[2] ~= b[2] then return a[2] > b[2] end
  return a[3] < b[3]
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
for doc, e in pairs(found) do
  local norm = 1.2 * (1 - 0.75 + 0.75 * e[1] / avg)
  local matched, score = 0, 0
  for t = 1, nt do
    local f = e[t + 1]
    if f > 0 then
      matched = matched + 1
      score = score + idfs[t] * f * 2.2 / (f + norm)
    end
  end
  local c = {matched, score, doc}
  if #heap < limit then
    heap[#heap + 1] = c
    up(#heap)
  elseif better(c, heap[1]) then
    heap[1] = c
    down(1)
  end
end
local out = {}
for _, c in ipairs(heap) do
  out[#out + 1] = c[3]
  for _, v in ipairs(found[c[3]]) do out[#out + 1] = v end
end
return out`,
);

/**
 * Reads the records of docs of one bucket, from one snapshot. KEYS: counters (for routing).
 * ARGV per doc: kind letter, then `r`: raw list, '', message index; `m`: memory-data,
 * memory-created, memory id; `a`: chains list, agent hash, sequence number; `v`/`k`: the
 * record's key, '', ''. Returns per doc: the record JSON (nil when gone) and the memory's
 * created_at JSON or the chain's position (nil otherwise).
 */
export const SEARCH_LOAD = new LuaScript(
  'searchLoad',
  `local out = {}
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
    local position = tonumber(c) - ((tonumber(redis.call('HGET', b, 'next') or '0') or 0) - len)
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
