/** The Redis index's helpers for writes that number their new docs themselves (`DOC_WRITES`). */

/**
 * Lua: the helpers of a write that indexes new docs without the guard (a new memory, a chain
 * append that trims nothing; after `WRITE_CHECKS`), made on demand by `docWrites()`, since each
 * function a script defines costs every call of it (~0.07 µs). `read(counters)`: the bucket's
 * doc counters (one HMGET: `search_next`, `search_docs`, `search_tokens`, `search_rev`, as
 * numbers), or false when the write must take the guard path (the bucket is stale: a new doc
 * there must drop one left under its name; `search_next` is absent; or one of them is not an
 * integer of at most 15 digits, which the guard refuses or bumps), or nil and an error text
 * when the hash has another type. The write then numbers its docs from `search_next` (`addDocs` with `first`)
 * and `count(counters, counts, n, tokens)` writes the four counters in one HSET. `unbump(counters,
 * fields)` takes back the `bumpFirst` of `fields` when the index phase fails.
 */
export const DOC_WRITES = `local function docWrites()
  local w = {}
  function w.read(counters)
    local seen = redis.pcall('HMGET', counters, 'search_stale', 'search_next', 'search_docs', 'search_tokens', 'search_rev')
    if seen.err then return nil, wrongType(counters, 'hash') end
    -- No search_next: no doc numbered in the bucket yet, or its counters hash was evicted; the
    -- guard path's takeNums tells them apart (search-lua.ts).
    if (seen[1] or '0') ~= '0' or not seen[2] then return false end
    local counts = {}
    for i = 2, 5 do
      local value = seen[i] or '0'
      if #value > 15 or not string.find(value, '^%-?%d+$') then return false end
      counts[i - 1] = tonumber(value)
    end
    return counts
  end
  function w.count(counters, counts, n, tokens)
    redis.call('HSET', counters, 'search_next', string.format('%d', counts[1] + n), 'search_docs',
      string.format('%d', counts[2] + n), 'search_tokens', string.format('%d', counts[3] + tokens),
      'search_rev', string.format('%d', counts[4] + 1))
  end
  function w.unbump(counters, fields)
    for j = 1, #fields, 2 do
      if redis.call('HINCRBY', counters, fields[j], -fields[j + 1]) == 0 then redis.call('HDEL', counters, fields[j]) end
    end
  end
  return w
end
`;
