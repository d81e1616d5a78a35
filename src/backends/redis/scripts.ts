/**
 * Lua scripts of the Redis backend. Each one touches only keys of one hash tag (one slot), so
 * it runs atomically on a single server and on a Redis Cluster alike. Every write script is
 * idempotent: ioredis may resend a command after a reconnect, and a resend must not apply twice.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './config.js';

/** A Lua script, run by SHA with a fallback to its source when the server does not know it. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

/**
 * Memory upsert (D7). KEYS: memories (list), memory-data (hash), memory-created (hash).
 * ARGV: memory id, record JSON, created_at as JSON, '1' when the caller chose created_at.
 * A new id is appended to the order list; a known id keeps its position, and keeps its old
 * created_at unless the caller gave one (the read applies memory-created to the record).
 */
export const UPSERT_MEMORY = new LuaScript(
  'upsertMemory',
  `local added = redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if added == 1 then redis.call('RPUSH', KEYS[1], ARGV[1]) end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
else
  redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[3])
end
return added`,
);

/**
 * Reads a conversation's memories in order. KEYS as {@link UPSERT_MEMORY}.
 * Returns a flat array: id, record JSON (or nil), created_at (or nil), id, ...
 */
export const READ_MEMORIES = new LuaScript(
  'readMemories',
  `local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id)
  out[#out + 1] = redis.call('HGET', KEYS[3], id)
end
return out`,
);

/**
 * Appends a reasoning chain once per token. KEYS: chains (list), chain-appends (zset).
 * ARGV: token, record JSON, how long tokens are remembered (ms). Returns 1, or 0 for a resend.
 */
export const APPEND_CHAIN = new LuaScript(
  'appendChain',
  `if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`,
);

/** Adds ARGV[1] to every set in KEYS (index sets, one slot). */
export const ADD_TO_SETS = new LuaScript(
  'addToSets',
  `for _, key in ipairs(KEYS) do redis.call('SADD', key, ARGV[1]) end
return 1`,
);

/** Removes ARGV[1] from every set in KEYS (index sets, one slot). */
export const REMOVE_FROM_SETS = new LuaScript(
  'removeFromSets',
  `for _, key in ipairs(KEYS) do redis.call('SREM', key, ARGV[1]) end
return 1`,
);

// Bytes used by KEYS (MEMORY USAGE), or -1 when the server refuses MEMORY (some hosted Redis).
const BYTES_OF_KEYS = `local bytes = 0
for _, key in ipairs(KEYS) do
  local used = redis.pcall('MEMORY', 'USAGE', key)
  if type(used) == 'number' then bytes = bytes + used
  elseif type(used) == 'table' and used.err then bytes = -1 break end
end`;

/**
 * Counts of one conversation. KEYS: the six conversation keys (see `conversationKeyList`).
 * Returns {has conversation, raw message count, memory count, has chunk info, bytes}.
 */
export const CONVERSATION_STATS = new LuaScript(
  'conversationStats',
  `${BYTES_OF_KEYS}
local raw = tonumber(redis.call('HGET', KEYS[2], 'count') or '0') or 0
return {redis.call('EXISTS', KEYS[1]), raw, redis.call('HLEN', KEYS[5]), redis.call('EXISTS', KEYS[3]), bytes}`,
);

/**
 * Size of one item. KEYS[1] is the item (a list, or a string), further KEYS only add bytes.
 * ARGV[1]: 'list' (returns LLEN), 'string' (EXISTS) or a byte count n (the first n bytes).
 * Returns {count or head, bytes}.
 */
export const ITEM_STATS = new LuaScript(
  'itemStats',
  `${BYTES_OF_KEYS}
local size
if ARGV[1] == 'list' then size = redis.call('LLEN', KEYS[1])
elseif ARGV[1] == 'string' then size = redis.call('EXISTS', KEYS[1])
else size = redis.call('GETRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1) end
return {size, bytes}`,
);

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs a script by SHA, loading it by source when the server has not seen it yet. */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScript(error)) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
