/**
 * Reasoning-chain appends, sequence numbers and trims of the Redis backend (layout v2, see
 * `keys.ts`). The agent hash's `next` counts the chains ever appended and never goes back, and
 * chains leave the list only from its head (a trim) or all at once (a delete), so the chain at
 * list index `i` has sequence `next - LLEN + i`: per agent, contiguous from 0, never reused.
 * A `next` below the list's length is one an eviction lost (`agent-next.ts`).
 * Each script touches one bucket's slot, checks key types before its first write and keeps
 * the bucket counters exact, like those in `scripts.ts`.
 */
import { randomUUID } from 'node:crypto';
import {
  type JsonObject,
  parseEach,
  parseSequencedChain,
  type SequencedChain,
  type SequencedChainRead,
  type SkipItem,
} from '../../core/index.js';
import { AGENT_NEXT_LUA } from './agent-next.js';
import { TRIM_HEAD } from './chain-trims.js';
import { decodeObject } from './codec.js';
import type { RedisConnection } from './connection.js';
import type { AgentKeys } from './keys.js';
import { LuaScript, indexedScript, WRITE_CHECKS } from './scripts.js';
import { DOC_WRITES } from './doc-writes.js';
import { searchOwner, type SearchWriter } from './search-writer.js';
import { quoteName } from '../../core/shown-text.js';

const q = quoteName;

/** How long a chain-append token is remembered, so a resent append lands once (ms). */
const APPEND_TOKEN_TTL_MS = 60 * 60 * 1000;

/**
 * Appends chains once per token (with their search docs), then trims when asked. KEYS: chains
 * (list), chain-appends (zset), agent (hash), agents (zset), counters. ARGV: token, how long
 * tokens are remembered (ms), agent id, chains to keep (-1: no limit), search flag, search
 * owner part, n, then n record JSON texts, then (flag '1') n search specs. Returns the first
 * new chain's sequence number, or -1 for a resend.
 *
 * A token's score and the prune bound are the server's clock (`TIME`), not the writer's: with
 * each writer's own clock, a writer more than the TTL ahead of another pruned that one's fresh
 * tokens, and its resend within the hour appended twice. One clock for all writers keeps the
 * hour for every token; it costs one `TIME` call per append (allowed before writes since
 * scripts replicate their effects, the default from Redis 5 and the only mode from 7).
 *
 * An append is the hot path, and each server call costs about as much as the `RPUSH` itself,
 * so it makes as few as it can. No key is asked its TYPE: the token's `ZADD NX` (the first
 * write; it answers 0 for a token already there, a resend) and the list's `LLEN` fail on
 * another type, and so do `ZADD NX` of the agent into the bucket's agents (only when the list
 * is empty, or the trim keeps none: a listed agent stays listed while it has chains),
 * `HINCRBY` of the agent's `next` and the counters' `HINCRBY`s (`bumpFirst`; with the index
 * on, after one HMGET of the doc counters, `DOC_WRITES`, which the docs are numbered from and
 * written back with; an append that trims or meets a stale bucket takes the guard path, whose
 * `HGETALL` reads every counter first, as the other write scripts do). When one fails, the
 * writes before it are taken back (`ZADD NX` added only what was missing), so a wrong type
 * still writes nothing. The search docs (the new chains', then a
 * trim's) are written next, before the chains (`indexPhase`, `search-lua.ts`); when that
 * fails, the same writes are taken back. Tokens older than the TTL are dropped when the new sequence numbers cross a
 * multiple of 64 (at least every 64 chains, known without a read), not on every append: the
 * zset holds at most an hour's tokens plus 64, and a token is never dropped before its hour.
 */
export const APPEND_CHAINS = indexedScript(
  'appendChains',
  `${TRIM_HEAD}${AGENT_NEXT_LUA}${WRITE_CHECKS}${DOC_WRITES}local n, keep = tonumber(ARGV[7]), tonumber(ARGV[4])
if n < 1 then return redis.error_reply('ERR appendChains needs at least one chain') end
-- A trim that keeps none bumps agents after the list's writes, and an indexed append that trims
-- or meets a stale bucket takes its doc numbers from the counters the guard reads; other appends
-- bump their counters first (bumpFirst), an indexed one after reading its doc counters (DOC_WRITES).
local guarded, counts, dw = keep == 0, nil, nil
if ARGV[5] == '1' then
  if keep < 0 then
    local bad
    dw = docWrites()
    counts, bad = dw.read(KEYS[5])
    if bad then return redis.error_reply(bad) end
  end
  guarded = not counts
end
if guarded then
  local bad = guard({}, KEYS[5])
  if bad then return redis.error_reply(bad) end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fresh = redis.pcall('ZADD', KEYS[2], 'NX', now, ARGV[1])
if failed(fresh) then return redis.error_reply(refused(fresh, KEYS[2], 'zset')) end
if fresh == 0 then return -1 end
local added, prior = 0, nil
-- takeBack(): undoes next (back to \`prior\`, recovered or not; never stored as 0: it was
-- absent), the agent's member and the token (ZADD NX: each was missing before).
local function takeBack()
  if prior == 0 then redis.call('HDEL', KEYS[3], 'next') elseif prior then redis.call('HSET', KEYS[3], 'next', prior) end
  if added == 1 then redis.call('ZREM', KEYS[4], ARGV[3]) end
  redis.call('ZREM', KEYS[2], ARGV[1])
end
local before = redis.pcall('LLEN', KEYS[1])
if failed(before) then
  takeBack()
  return redis.error_reply(wrongType(KEYS[1], 'list'))
end
if before == 0 or keep == 0 then
  added = redis.pcall('ZADD', KEYS[4], 'NX', 0, ARGV[3])
  if failed(added) then
    added = 0
    takeBack()
    return redis.error_reply(wrongType(KEYS[4], 'zset'))
  end
end
local seq = redis.pcall('HINCRBY', KEYS[3], 'next', n)
if failed(seq) then
  takeBack()
  if redis.call('TYPE', KEYS[3])['ok'] ~= 'hash' then return redis.error_reply(wrongType(KEYS[3], 'hash')) end
  return redis.error_reply('WRONGTYPE ' .. KEYS[3] .. ' field next is not an integer')
end
prior = seq - n
if seq < before + n then
  -- The agent hash lost next (evicted) while chains survived: number on from theirs.
  seq = recoveredNext(KEYS[5], ARGV[6], before) + n
  redis.call('HSET', KEYS[3], 'next', seq)
end
local nextSeq = seq
local first, len = nextSeq - n, before + n
local bytes = 0
for i = 8, 7 + n do bytes = bytes + #ARGV[i] end
if not guarded then
  local fields = {'chains', n, 'bytes', bytes}
  if before == 0 then fields[5], fields[6] = 'agents', 1 end
  local bad = bumpFirst(KEYS[5], fields, ARGV[5])
  if bad then
    takeBack()
    return redis.error_reply(bad)
  end
  if counts then
    local names, specs, tokens = {}, {}, 0
    for i = 1, n do
      names[i], specs[i] = 'a' .. ARGV[6] .. (first + i - 1), ARGV[7 + n + i]
      tokens = tokens + tonumber(string.match(specs[i], '^%d+'))
    end
    bad = indexPhase(KEYS[5], addDocs, KEYS[5], names, specs, counts[1])
    if bad then
      dw.unbump(KEYS[5], fields)
      takeBack()
      return redis.error_reply(bad)
    end
    dw.count(KEYS[5], counts, n, tokens)
  end
elseif searchOn(KEYS[5], ARGV[5]) then
  local bad = indexPhase(KEYS[5], indexChains, n, first, nextSeq, len, keep)
  if bad then
    takeBack()
    return redis.error_reply(bad)
  end
end
pushAll(KEYS[1], 8, 7 + n)
if math.floor(nextSeq / 64) ~= math.floor(first / 64) then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if guarded then
  bump(KEYS[5], 'chains', n)
  bump(KEYS[5], 'bytes', bytes)
  if before == 0 then bump(KEYS[5], 'agents', 1) end
end
if keep >= 0 then trimHead(KEYS[1], KEYS[4], KEYS[5], ARGV[3], keep, len) end
return first`,
);

/**
 * Keeps the last chains of an agent. KEYS: chains (list), agents (zset), counters, agent
 * (hash). ARGV: agent id, chains to keep, search flag, search owner part. The agent hash
 * (`next`) stays. Returns how many were removed.
 */
const TRIM_CHAINS = indexedScript(
  'trimChains',
  `${TRIM_HEAD}${AGENT_NEXT_LUA}local bad = guard({KEYS[1], 'list', KEYS[2], 'zset', KEYS[3], 'hash', KEYS[4], 'hash'}, KEYS[3])
if bad then return redis.error_reply(bad) end
local keep, len = tonumber(ARGV[2]), redis.call('LLEN', KEYS[1])
if keep < len and searchOn(KEYS[3], ARGV[3]) then
  local nextSeq, lost = agentNext(KEYS[4], len, KEYS[3], ARGV[4])
  bad = indexPhase(KEYS[3], unindexHead, KEYS[3], ARGV[4], nextSeq, len, keep)
  if bad then return redis.error_reply(bad) end
  if lost then redis.call('HSET', KEYS[4], 'next', nextSeq) end
end
return trimHead(KEYS[1], KEYS[2], KEYS[3], ARGV[1], keep, len)`,
  { allowOom: true },
);

/**
 * Reads chains with the head's sequence, from one snapshot. KEYS: chains, agent, counters (of
 * the agent's bucket). ARGV: 'after' or 'last', the sequence to read after, limit (0: none),
 * search owner part. Returns {first sequence, items, list index of the first item}.
 */
const READ_SEQUENCED = new LuaScript(
  'readSequencedChains',
  `${AGENT_NEXT_LUA}local len = redis.call('LLEN', KEYS[1])
local head = agentNext(KEYS[2], len, KEYS[3], ARGV[4]) - len
local limit = tonumber(ARGV[3])
local start, stop = 0, -1
if ARGV[1] == 'after' then
  start = math.max(0, tonumber(ARGV[2]) + 1 - head)
  if limit > 0 then stop = start + limit - 1 end
elseif limit > 0 then
  start = math.max(0, len - limit)
end
if start >= len then return {head + start, {}, start} end
return {head + start, redis.call('LRANGE', KEYS[1], start, stop), start}`,
);

/**
 * Appends `records` in order and, with `keepLast`, trims the agent to its last `keepLast`
 * chains, in one script. Returns the sequence numbers given to the records (`[]` when the
 * server had already applied this very call, resent after a reconnect). A batch append calls this too.
 */
export async function appendChainRecords(
  redis: RedisConnection,
  k: AgentKeys,
  search: SearchWriter,
  agentId: string,
  records: readonly JsonObject[],
  keepLast: number | null,
): Promise<number[]> {
  if (records.length === 0) return [];
  const keys = [k.chains, k.chainAppends, k.agent, k.bucket.agents, k.bucket.counters];
  const args = [
    randomUUID(),
    APPEND_TOKEN_TTL_MS,
    agentId,
    keepLast ?? -1,
    search.flag,
    searchOwner(agentId),
  ];
  const json = records.map((record) => JSON.stringify(record));
  const specs = search.enabled ? records.map((record) => search.spec('reasoning_chains', record)) : [];
  // A failure names the call the user made: one chain stored, or a batch appended.
  const what = (): string =>
    records.length === 1
      ? `store reasoning chain of ${q(agentId)}`
      : `append ${records.length} reasoning chains of ${q(agentId)}`;
  const first = Number(
    await redis.script(what, APPEND_CHAINS, keys, [...args, records.length, ...json, ...specs]),
  );
  return first < 0 ? [] : records.map((_, i) => first + i);
}

/** Keeps the last `keepLast` chains of the agent (all or nothing); returns how many were removed. */
export async function trimChainRecords(
  redis: RedisConnection,
  k: AgentKeys,
  search: SearchWriter,
  agentId: string,
  keepLast: number,
): Promise<number> {
  const keys = [k.chains, k.bucket.agents, k.bucket.counters, k.agent];
  const args = [agentId, keepLast, search.flag, searchOwner(agentId)];
  return Number(await redis.script(`trim reasoning chains of ${q(agentId)}`, TRIM_CHAINS, keys, args));
}

/** The chains `read` selects with their sequence numbers, oldest first (`skip`: see `SkipItem`). */
export async function readSequencedChainRecords(
  redis: RedisConnection,
  k: AgentKeys,
  agentId: string,
  read: SequencedChainRead,
  skip?: SkipItem,
): Promise<SequencedChain[]> {
  const owner = searchOwner(agentId);
  const args =
    read.after === null ? ['last', 0, read.limit ?? 0, owner] : ['after', read.after, read.limit ?? 0, owner];
  const what = `load reasoning chains of ${q(agentId)}`;
  const keys = [k.chains, k.agent, k.bucket.counters];
  const [first, items, start] = (await redis.script(what, READ_SEQUENCED, keys, args)) as [
    number,
    string[],
    number,
  ];
  const sequence = (i: number): number => Number(first) + i;
  // Named by its index in the list, not in this page: two pages' bad chains are two places.
  const key = (i: number): string => `${k.chains} item ${Number(start) + i}`;
  const parse = (json: string, i: number): SequencedChain => ({
    sequence: sequence(i),
    chain: parseSequencedChain(agentId, sequence(i), () => decodeObject(json, key(i)) as JsonObject),
  });
  return parseEach(items, skip, parse, (_, i) => sequence(i));
}
