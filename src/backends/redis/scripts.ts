/**
 * Lua scripts of the Redis backend (layout v2, see `keys.ts`). Each one touches only keys of
 * one bucket (one slot), so it runs atomically on a single server and on a Redis Cluster
 * alike: a record, its index entries and its bucket's counters change together or not at all
 * (on a cluster behind the slot probe of `slot-probe.ts`, which holds them while a reshard
 * moves their slot).
 * Redis does not roll a script back on an error, so every write script checks the types of
 * its keys (and that counters are integers) before its first write; the search index's keys,
 * one per token, by writing the index first (`indexPhase`, `search-lua.ts`). Every write
 * script is idempotent, or guarded by a token, because ioredis may resend a command after a
 * reconnect. The record scripts are in `record-scripts.ts`, the memory scripts in
 * `memory-scripts.ts`.
 */
import { createHash } from 'node:crypto';
import type { IoredisClient } from './ioredis-client.js';
import { SEARCH_LUA } from './search-lua.js';
import { withSlotProbe } from './slot-probe.js';

/** A Lua script, run by SHA with a fallback to its source when the server does not know it. */
export class LuaScript {
  readonly sha: string;
  private clusterVariant: LuaScript | undefined;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** The form run on a Redis Cluster: the same script behind the slot probe (`slot-probe.ts`). */
  get forCluster(): LuaScript {
    return (this.clusterVariant ??= new LuaScript(this.name, withSlotProbe(this.lua)));
  }
}

// guard(types, counters): an error text when a key has another type than expected (pairs of
// key, type) or a counter is not an integer; nil when the script may write. The type it found
// for each key stays in keyTypes ('none': the key does not exist), so a script knows whether
// its record existed without another call. The counters hash is not asked its TYPE: its
// HGETALL fails on another type, and only then is TYPE called, for the message. It keeps the
// counters it read, so bump() only adds to a pending delta and the script's end writes every
// changed counter in one HSET (flushCounters) instead of one HINCRBY per bump: a write script
// bumps up to five counters, and each command costs the server a call and an effect to
// replicate. A script runs atomically, so the values read stay current; counters not read
// by guard (a script without one) or too large for a Lua number are bumped by HINCRBY.
const PRELUDE = `local knownCounters, pendingCounters, keyTypes = {}, {}, {}
local function wrongType(key, expected)
  return 'WRONGTYPE ' .. key .. ' is a ' .. redis.call('TYPE', key)['ok'] .. ', expected a ' .. expected
end
-- refused(reply, key, expected): the error of a write run by pcall as its key's type check. A
-- script's first write may also be refused by the server (OOM, READONLY on a replica), which
-- must reach the caller as it is (unavailable, not corrupt data): only a WRONGTYPE names the key.
local function refused(reply, key, expected)
  if string.sub(reply.err, 1, 9) ~= 'WRONGTYPE' then return reply.err end
  return wrongType(key, expected)
end
local function guard(types, counters)
  for i = 1, #types, 2 do
    if types[i] ~= counters then
      local t = redis.call('TYPE', types[i])['ok']
      if t ~= 'none' and t ~= types[i + 1] then return wrongType(types[i], types[i + 1]) end
      keyTypes[types[i]] = t
    end
  end
  if counters then
    local flat = redis.pcall('HGETALL', counters)
    if flat.err then return wrongType(counters, 'hash') end
    local values = {}
    for i = 2, #flat, 2 do
      if not string.find(flat[i], '^%-?%d+$') then
        return 'WRONGTYPE ' .. counters .. ' field ' .. flat[i - 1] .. ' is not an integer'
      end
      values[flat[i - 1]] = flat[i]
    end
    knownCounters[counters] = values
  end
  return nil
end
local function bump(counters, field, by)
  if by == 0 then return end
  local values = knownCounters[counters]
  local current = values and (values[field] or '0')
  if current == nil or #current > 15 then
    redis.call('HINCRBY', counters, field, by)
    return
  end
  local pending = pendingCounters[counters]
  if pending == nil then
    pending = {}
    pendingCounters[counters] = pending
  end
  pending[field] = (pending[field] or 0) + by
end
local function flushCounters()
  for counters, pending in pairs(pendingCounters) do
    local values, args = knownCounters[counters], {}
    for field, by in pairs(pending) do
      if by ~= 0 then
        local value = string.format('%d', tonumber(values[field] or '0') + by)
        values[field] = value
        args[#args + 1] = field
        args[#args + 1] = value
      end
    end
    if #args > 0 then redis.call('HSET', counters, unpack(args)) end
  end
  pendingCounters = {}
end
local function pushAll(key, from, to)
  to = to or #ARGV
  for i = from, to, 1000 do redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, to))) end
end
`;

/**
 * Lua helpers of the scripts whose writes are their own type checks (the unindexed chain append,
 * `chains.ts`, and single memory upsert, `memory-scripts.ts`; they need the prelude's
 * `wrongType`): `failed(reply)`, whether a `redis.pcall` reply is an error; and
 * `bumpFirst(counters, fields, flag)`: the counters of the write (pairs of field, amount),
 * bumped by HINCRBY before its records are written, then
 * (search flag '0') search_rev and the stale mark. Against the guard's HGETALL and the closing
 * HSET this is ~20% fewer server instructions per append. When one HINCRBY fails (counters of
 * another type, a field that is not an integer), those before it are taken back (a field the
 * bump created is deleted again: absent and '0' read alike) and the error text is returned, so
 * a corrupt counter still writes nothing.
 */
export const WRITE_CHECKS = `local function failed(reply) return type(reply) == 'table' and reply.err ~= nil end
local function bumpFirst(counters, fields, flag)
  if flag == '0' then fields[#fields + 1], fields[#fields + 2] = 'search_rev', 1 end
  for i = 1, #fields, 2 do
    local value = redis.pcall('HINCRBY', counters, fields[i], fields[i + 1])
    if type(value) == 'table' then
      for j = 1, i - 2, 2 do
        if redis.call('HINCRBY', counters, fields[j], -fields[j + 1]) == 0 then redis.call('HDEL', counters, fields[j]) end
      end
      if redis.call('TYPE', counters)['ok'] ~= 'hash' then return wrongType(counters, 'hash') end
      return 'WRONGTYPE ' .. counters .. ' field ' .. fields[i] .. ' is not an integer'
    end
  end
  if flag == '0' and redis.call('HGET', counters, 'search_stale') ~= '1' then
    redis.call('HSET', counters, 'search_stale', 1)
  end
  return nil
end
`;

/**
 * Lua helpers of the delete scripts, for the keys of the records they delete (not the bucket's
 * index zsets, counters or search keys, which `guard` still checks): `recordTypes(keys)` asks
 * each key's TYPE into `keyTypes` (as `guard` does, one call a key) but refuses none, and
 * `foreign(key, expected)` says whether it is of another type: another program's data under the
 * store's prefix, which the delete removes (`DEL` takes any type) while counting none of its
 * count or bytes, since no write of the library counted what that key holds. Writes still refuse
 * such a key (README, Redis, Faults): only a delete is the user's way to clear it.
 */
export const RECORD_TYPES = `local function recordTypes(keys)
  for _, key in ipairs(keys) do keyTypes[key] = redis.call('TYPE', key)['ok'] end
end
local function foreign(key, expected)
  local t = keyTypes[key]
  return t ~= nil and t ~= 'none' and t ~= expected
end
`;

/** `body` as a function, so the counters its bumps changed are written on any of its returns. */
function flushedBody(body: string): string {
  return `local function main()\n${body}\nend\nlocal result = main()\nflushCounters()\nreturn result`;
}

/** How a script runs. */
export interface ScriptOptions {
  /**
   * A removal: it runs on a server out of memory too (`noeviction` refusing writes), as deleting
   * is how a caller makes room. Redis 7 refuses, on a full server, a script whose first write may
   * grow memory (an index mark, a counter, a list put back) unless the script declares
   * `allow-oom`; its later writes are then allowed as well.
   */
  allowOom?: boolean;
}

const shebang = (options: ScriptOptions): string =>
  options.allowOom === true ? '#!lua flags=allow-oom\n' : '';

/** A write script: `body` after the guard/bump/pushAll helpers. */
export function script(name: string, body: string, options: ScriptOptions = {}): LuaScript {
  return new LuaScript(name, shebang(options) + PRELUDE + flushedBody(body));
}

/** A write script of searchable records: {@link script} plus the search index helpers (`search-lua.ts`). */
export function indexedScript(name: string, body: string, options: ScriptOptions = {}): LuaScript {
  return new LuaScript(name, shebang(options) + PRELUDE + SEARCH_LUA + flushedBody(body));
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Runs a script by SHA, loading it by source when the server has not seen it yet (on a
 * cluster, its {@link LuaScript.forCluster} form). Not an `async` function (every write passes
 * here): a `catch` costs less than an async frame.
 */
export function runScript(
  client: IoredisClient,
  given: LuaScript,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  const script = client.isCluster ? given.forCluster : given;
  // One array, which ioredis flattens (its Command takes `args.flat()`, numbers included; its
  // typings allow only keys there): spread into the call, the arguments of a long list
  // (`storeRawMessages` of 100,000 messages sends two per message) overflowed the stack.
  const keysAndArgs = keys.concat(args as string[]);
  return client.evalsha(script.sha, keys.length, keysAndArgs).catch((error: unknown) => {
    if (!isNoScript(error)) throw error;
    return client.eval(script.lua, keys.length, keysAndArgs);
  });
}
