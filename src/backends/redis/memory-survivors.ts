/**
 * Lua of a conversation whose memory id list was evicted while its data hash survived (an
 * eviction under any `maxmemory-policy` but `noeviction` removes whole keys): the data hash
 * still holds every memory, only their order is lost. Reads answer the survivors in created_at
 * order and the next write puts the list back in that order (`memory-scripts.ts`), so the
 * same order is worked out here once for both. The created_at hash may be evicted as well: a
 * record carries its created_at itself (`CREATED_AT_TEXT`).
 */

/**
 * Lua of a record's own created_at (records are built `{"memory_id":…,"created_at":…,…}`, D7):
 * `createdAtText(json)`, the JSON text of that created_at when it is a string (else nil: a
 * timestamp is one), and `withCreatedAt(json, text)`, the record with `text` as its created_at
 * (as it is when nil). The id and the created_at are JSON strings, read with their escapes (an id
 * may hold `"`), so a record read without its created_at hash (evicted) still has it. A replace
 * writes the created_at it keeps into the record too.
 */
export const CREATED_AT_TEXT = `-- jsonStringEnd(json, start): where the JSON string opening at start ends (its closing quote).
local function jsonStringEnd(json, start)
  if string.byte(json, start) ~= 34 then return nil end
  local at = start + 1
  while true do
    local hit = string.find(json, '[\\\\"]', at)
    if not hit then return nil end
    if string.byte(json, hit) == 34 then return hit end
    at = hit + 2
  end
end
local function createdAtStart(json)
  if type(json) ~= 'string' or string.sub(json, 1, 13) ~= '{"memory_id":' then return nil end
  local close = jsonStringEnd(json, 14)
  if not close or string.sub(json, close + 1, close + 14) ~= ',"created_at":' then return nil end
  return close + 15
end
local function createdAtText(json)
  local start = createdAtStart(json)
  local close = start and jsonStringEnd(json, start)
  return close and string.sub(json, start, close)
end
local function withCreatedAt(json, text)
  local old = createdAtText(json)
  if not old or old == text then return json end
  local start = createdAtStart(json)
  return string.sub(json, 1, start - 1) .. text .. string.sub(json, start + #old)
end
`;

/**
 * Lua: `survivorIds(data, created)`, the ids of the data hash `data` in created_at order
 * (the instant, so `Z`, `+00:00` and other offsets compare alike, then the fraction up to
 * nanoseconds), ties and ids without a timestamp (these last) by id in byte order (code point
 * order, D9; Lua's `<` on strings follows the server's locale). A memory's created_at is its
 * value in `created` (JSON text), else, that hash evicted too, its record's (`CREATED_AT_TEXT`).
 * Only the rare path runs this: O(N log N) in the conversation's memories.
 */
export const SURVIVOR_ORDER = `${CREATED_AT_TEXT}local function daysFromCivil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
end
-- The instant of a timestamp text as seconds and nanoseconds, or nil when it is none.
local function instantOf(text)
  local y, mo, d, h, mi, s, rest = string.match(text, '^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$')
  if not y then return nil end
  local frac, zone = string.match(rest, '^%.(%d+)(.*)$')
  if not frac then frac, zone = '', rest end
  local offset = 0
  if zone ~= '' and zone ~= 'Z' and zone ~= 'z' then
    local sign, oh, om = string.match(zone, '^([+-])(%d%d):?(%d%d)$')
    if not sign then return nil end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60
    if sign == '-' then offset = -offset end
  end
  local days = daysFromCivil(tonumber(y), tonumber(mo), tonumber(d))
  local seconds = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) - offset
  return seconds, tonumber(string.sub(frac .. '000000000', 1, 9))
end
local function bytesBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function survivorIds(data, created)
  local ids = redis.call('HKEYS', data)
  local entries = {}
  for i = 1, #ids, 1000 do
    local upto = math.min(i + 999, #ids)
    local stamps = redis.call('HMGET', created, unpack(ids, i, upto))
    for j = i, upto do
      local stamp = stamps[j - i + 1] or createdAtText(redis.call('HGET', data, ids[j]))
      local text = stamp and string.match(stamp, '^"([^"\\\\]*)"$')
      local seconds, nanos = nil, nil
      if text then seconds, nanos = instantOf(text) end
      entries[j] = {id = ids[j], seconds = seconds, nanos = nanos}
    end
  end
  table.sort(entries, function(a, b)
    if a.seconds ~= b.seconds then
      if a.seconds == nil or b.seconds == nil then return b.seconds == nil end
      return a.seconds < b.seconds
    end
    if a.nanos ~= b.nanos then return a.nanos < b.nanos end
    return bytesBefore(a.id, b.id)
  end)
  local out = {}
  for i, entry in ipairs(entries) do out[i] = entry.id end
  return out
end
`;

/**
 * Lua of the memory write scripts (KEYS: memories, memory-data, memory-created first), after a
 * `guard` that asked their types: `unlistedIds()`, the survivors in order when the list is
 * missing while the data hash exists (else none: no call), and `relist(ids)`, which pushes them
 * back, so the write then applies itself to a whole store.
 */
export const RELIST_SURVIVORS = `${SURVIVOR_ORDER}local function unlistedIds()
  if keyTypes[KEYS[1]] ~= 'none' or keyTypes[KEYS[2]] ~= 'hash' then return {} end
  return survivorIds(KEYS[2], KEYS[3])
end
local function relist(ids)
  for i = 1, #ids, 1000 do redis.call('RPUSH', KEYS[1], unpack(ids, i, math.min(i + 999, #ids))) end
end
`;
