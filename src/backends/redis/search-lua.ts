/**
 * The Redis search index as the write scripts keep it (Redis 7.0 has no search module: plain
 * keys in each record's bucket slot, see `keys.ts`, so it works on a Cluster too):
 *
 * ```
 * <prefix>{b:NN}:q:<token>      string  the token's postings, appended: one 13-byte entry per doc,
 *                                       struct '<I4I4I4B' = doc number, tf, doc length, kind letter
 * <prefix>{b:NN}:search-docs    hash    both ways, live docs only: doc -> "<number> <spec>" (the
 *                                       spec the write was given: length, then token tf pairs),
 *                                       and doc number -> doc
 * <prefix>{b:NN}:search-gone    string  bitmap: bit <number> set once that number was dropped
 * <prefix>{b:NN}:search-dead    hash    token -> dead entries still in q:<token>
 * <prefix>{b:NN}:search-unheld  hash    token -> '0': a search found q:<token> of the wrong type;
 *                                       '1': the last build found no doc holding it (searches
 *                                       read that key as no postings; see `search-state.ts`)
 * <prefix>{b:NN}:counters       hash    search_docs, search_tokens (BM25's corpus), search_next (the
 *                                       next doc number), search_rev (bumped by every searchable
 *                                       write), search_stale (1: written without the index),
 *                                       search_build (the newest build's number, search-state.ts)
 * <prefix>{index}:search        string  index version, written once every bucket is indexed
 * ```
 *
 * A doc names its record: a kind letter (`r` raw message, `m` memory, `a` chain, `v`
 * conversation, `k` chunk info), the owner part `<length>:<owner id>` (`searchOwner`, in
 * `search-writer.ts`, with the code that names docs and builds their specs),
 * then the message index, memory id or chain sequence number (stable under trims). Its fields
 * in `search-docs` never clash with the numbers' (those are all digits).
 *
 * Every searchable write script takes a search flag (see `SearchWriter.flag`): `'1'` index
 * (the docs' specs follow), `'0'` the store is written with `searchIndex: false` (the bucket is
 * marked stale, so its index is not trusted until rebuilt), `''` leave the index alone (the v1
 * upgrade, which is followed by a build).
 */

/**
 * The index version this library writes at `<prefix>{index}:search`. 5: version 4's format,
 * built under the default text rule that leaves out the library's timestamps
 * (`DEFAULT_TEXT_RULE_VERSION` 2), so a version-4 index, which holds their tokens, is rebuilt.
 * 4: a new doc costs its
 * postings' `APPEND`s and one `HSET` (version 3 had a second hash `search-nums` for number ->
 * doc and a `search-live` bitmap set per new doc); 3: append-only postings (strings
 * `q:<token>`, deletes lazy); version 2 kept hashes `p:<token>` (an `APPEND` costs the server
 * about a third of an `HSET` into a posting hash), version 1 zsets `x:<token>`. A store of
 * another version is rebuilt by the next writable open.
 */
export const SEARCH_INDEX_VERSION = '5';

/** Bytes of one posting entry (`POSTING_FORMAT`). */
export const POSTING_BYTES = 13;

/**
 * Lua: whether doc number `num` was dropped, from the bitmap string `gone` (SETBIT's bit
 * order; a number past its end was never dropped).
 */
export const IS_GONE_LUA = `local function isGone(gone, num)
  local byte = string.byte(gone, math.floor(num / 8) + 1)
  return byte ~= nil and bit.band(byte, bit.rshift(128, num % 8)) ~= 0
end
`;

/**
 * Lua: the index helpers every write script may call (after `bump`). `searchOn(counters, flag)`
 * records a searchable write in the bucket (and marks it stale when the index is off) and says
 * whether to index; `indexDoc` replaces a doc's postings; `unindexDoc` drops them. A caller
 * that knows the doc is new (its record did not exist) passes `fresh`, and `indexDoc` skips
 * reading the doc's old token list, but only when `searchStale` is false: in a bucket written
 * with the index off, a deleted record may still have a doc, whose postings must go.
 *
 * A new doc gets the bucket's next doc number and one entry appended to each of its tokens'
 * strings; numbers only grow, so each string stays sorted by number (a query binary-searches
 * it). A new doc writes no liveness: a number is live until its bit in `search-gone` is set.
 * Dropping a doc is lazy: its number is marked gone, both its fields leave `search-docs`, and
 * each of its tokens counts one more dead entry; when a token's dead entries pass half of its
 * string, the same script rewrites the string with the live ones only (amortised O(1) per
 * drop; a token whose docs are all gone loses its key). A script writing several records (raw
 * messages, memory and chain batches, index builds) collects the new docs (`newDocs()`: the
 * last spec of a doc written twice wins) and indexes them together with `addDocs`: one
 * `APPEND` per token for all of them.
 *
 * The index keys are not asked their `TYPE` (an indexed write touches one per token): a write
 * script runs its whole index phase (every `unindexDoc`, `addDocs`) before its first record
 * write, as `indexPhase(counters, fn, ...)`, which runs `fn(...)` under `pcall`. When a call fails (a
 * wrong-typed index key, a corrupt `search-dead` count, ...) the phase may have half-changed
 * the index: `indexPhase` drops the script's pending counter changes, marks the bucket stale
 * (searches scan it, the next writable open rebuilds it), bumps `search_rev` (so a rebuild
 * under way starts again) and returns a `WRONGTYPE` message naming the bucket's prefix and the
 * key (`indexKey`, set before each call), which the script returns as its error without
 * writing anything else (the client makes it a `CorruptDataError`). A server-side refusal
 * (OOM, a read-only replica) fails the stale mark too, so the script ends with that error.
 * The hot scripts hand `indexPhase` a named function and its arguments, not a closure made in
 * the call: with a closure, a single chain append measured 5–19% more server time (`EVALSHA`
 * in `INFO commandstats`, 300 appends, 8 alternating rounds, six runs); with arguments, none.
 */
export const SEARCH_LUA = `${IS_GONE_LUA}-- The index key of the call in progress, named when the index phase fails (indexPhase).
local indexKey = nil
local function searchOn(counters, flag)
  if flag == nil or flag == '' then return false end
  bump(counters, 'search_rev', 1)
  if flag == '1' then return true end
  -- Marked stale already (guard() read it, in this same atomic script): no HSET to repeat.
  local values = knownCounters[counters]
  if values == nil or values['search_stale'] ~= '1' then
    redis.call('HSET', counters, 'search_stale', 1)
    if values then values['search_stale'] = '1' end
  end
  return false
end
-- numbersLost(counters): marks the bucket stale when its first doc number is taken while its
-- index holds docs or dropped numbers: its counters hash was lost (an eviction), and numbers
-- from 0 would be ones its postings hold. One EXISTS, only for a bucket's first number.
local function numbersLost(counters)
  local base = string.sub(counters, 1, #counters - 8)
  if redis.call('EXISTS', base .. 'search-docs', base .. 'search-gone') == 0 then return end
  redis.call('HSET', counters, 'search_stale', 1)
  local values = knownCounters[counters]
  if values then values['search_stale'] = '1' end
end
local function takeNums(counters, n)
  local values = knownCounters[counters]
  local current = values and (values['search_next'] or '0')
  if current == nil or #current > 15 then
    local first = redis.call('HINCRBY', counters, 'search_next', n) - n
    if first == 0 then numbersLost(counters) end
    return first
  end
  local pending = pendingCounters[counters]
  local first = tonumber(current) + ((pending and pending['search_next']) or 0)
  if first == 0 then numbersLost(counters) end
  bump(counters, 'search_next', n)
  return first
end
local function compactPostings(base, tok)
  local key = base .. 'q:' .. tok
  indexKey = key
  local s = redis.call('GET', key) or ''
  indexKey = base .. 'search-gone'
  local gone = redis.call('GET', indexKey) or ''
  local keep = {}
  for pos = 1, #s, ${POSTING_BYTES} do
    if not isGone(gone, struct.unpack('<I4', s, pos)) then keep[#keep + 1] = string.sub(s, pos, pos + ${POSTING_BYTES - 1}) end
  end
  if #keep == 0 then redis.call('DEL', key) else redis.call('SET', key, table.concat(keep)) end
  indexKey = base .. 'search-dead'
  redis.call('HDEL', indexKey, tok)
end
local function unindexDoc(counters, doc)
  local base = string.sub(counters, 1, #counters - 8)
  indexKey = base .. 'search-docs'
  local old = redis.call('HGET', indexKey, doc)
  if not old then return end
  local num, len, rest = string.match(old, '^(%d+) (%d+)(.*)$')
  if num == nil then
    -- An older version's list in a bucket not rebuilt yet (its rebuild drops every posting anyway).
    redis.call('HDEL', base .. 'search-docs', doc)
    return
  end
  indexKey = base .. 'search-gone'
  redis.call('SETBIT', indexKey, num, 1)
  for tok in string.gmatch(rest, ' (%S+) %S+') do
    indexKey = base .. 'search-dead'
    local dead = redis.call('HINCRBY', indexKey, tok, 1)
    indexKey = base .. 'q:' .. tok
    if dead * ${2 * POSTING_BYTES} > redis.call('STRLEN', indexKey) then compactPostings(base, tok) end
  end
  indexKey = base .. 'search-docs'
  redis.call('HDEL', indexKey, doc, num)
  bump(counters, 'search_docs', -1)
  bump(counters, 'search_tokens', -(tonumber(len) or 0))
end
local function searchStale(counters)
  local values = knownCounters[counters]
  return values == nil or (values['search_stale'] or '0') ~= '0'
end
-- An entry is '<I4I4I4B': doc number, tf, doc length, kind letter. Per doc the number and the
-- length+kind parts are packed once, per token only its tf (the few small ones cached).
local tfBytes = {}
local function packTf(tf)
  local packed = tfBytes[tf]
  if packed == nil then
    packed = struct.pack('<I4', tonumber(tf))
    tfBytes[tf] = packed
  end
  return packed
end
-- addDocs(counters, docs, specs, first): with first, the docs are numbered from it and no
-- counter is bumped (a caller that counts them itself, doc-writes.ts); returns their total length.
local function addDocs(counters, docs, specs, first)
  if #docs == 0 then return 0 end
  local base = string.sub(counters, 1, #counters - 8)
  local counted = first == nil
  if counted then first = takeNums(counters, #docs) end
  if #docs == 1 then
    local doc, spec, num = docs[1], specs[1], string.format('%d', first)
    local length = string.match(spec, '^%d+')
    local head, tail = struct.pack('<I4', first), struct.pack('<I4B', tonumber(length), string.byte(doc, 1))
    -- The doc list first: when an APPEND fails, it names the postings appended before (a
    -- rebuild drops what the lists name).
    indexKey = base .. 'search-docs'
    redis.call('HSET', indexKey, doc, num .. ' ' .. spec, num, doc)
    -- Most tokens occur once: the entry of each tf is built once per doc.
    local entries = {}
    for tok, tf in string.gmatch(spec, ' (%S+) (%S+)') do
      local e = entries[tf]
      if e == nil then
        e = head .. packTf(tf) .. tail
        entries[tf] = e
      end
      indexKey = base .. 'q:' .. tok
      redis.call('APPEND', indexKey, e)
    end
    if counted then
      bump(counters, 'search_docs', 1)
      bump(counters, 'search_tokens', tonumber(length))
    end
    return tonumber(length)
  end
  local fields, tokens = {}, 0
  local byToken, order = {}, {}
  for i = 1, #docs do
    local doc, spec = docs[i], specs[i]
    local num = string.format('%d', first + i - 1)
    local length = string.match(spec, '^%d+')
    local head = struct.pack('<I4', first + i - 1)
    local tail = struct.pack('<I4B', tonumber(length), string.byte(doc, 1))
    for tok, tf in string.gmatch(spec, ' (%S+) (%S+)') do
      local e = head .. packTf(tf) .. tail
      local acc = byToken[tok]
      if acc == nil then
        byToken[tok] = {e}
        order[#order + 1] = tok
      else
        acc[#acc + 1] = e
      end
    end
    fields[#fields + 1] = doc
    fields[#fields + 1] = num .. ' ' .. spec
    fields[#fields + 1] = num
    fields[#fields + 1] = doc
    tokens = tokens + tonumber(length)
  end
  -- The doc lists first, as for one doc.
  indexKey = base .. 'search-docs'
  for i = 1, #fields, 2000 do
    redis.call('HSET', indexKey, unpack(fields, i, math.min(i + 1999, #fields)))
  end
  for _, tok in ipairs(order) do
    indexKey = base .. 'q:' .. tok
    redis.call('APPEND', indexKey, table.concat(byToken[tok]))
  end
  if counted then
    bump(counters, 'search_docs', #docs)
    bump(counters, 'search_tokens', tokens)
  end
  return tokens
end
local function newDocs()
  local set = {docs = {}, specs = {}, at = {}}
  function set.add(doc, spec)
    local i = set.at[doc]
    if i == nil then
      i = #set.docs + 1
      set.at[doc] = i
      set.docs[i] = doc
    end
    set.specs[i] = spec
  end
  return set
end
local function indexDoc(counters, doc, spec, fresh)
  if not fresh then unindexDoc(counters, doc) end
  addDocs(counters, {doc}, {spec})
end
local function indexPhase(counters, phase, ...)
  indexKey = nil
  local ok, err = pcall(phase, ...)
  if ok then return nil end
  pendingCounters = {}
  redis.call('HSET', counters, 'search_stale', 1)
  redis.call('HINCRBY', counters, 'search_rev', 1)
  local text = type(err) == 'table' and tostring(err.err or err.msg) or tostring(err)
  local where = ''
  if indexKey then where = indexKey .. ' is a ' .. redis.call('TYPE', indexKey)['ok'] .. ': ' end
  return 'WRONGTYPE search index of ' .. string.sub(counters, 1, #counters - 8) ..
    ' (marked stale, nothing else written): ' .. where .. text
end
`;
