/**
 * A search index that cannot be read. The index keys are not asked their `TYPE` when a query
 * reads them (one per token): the index read scripts (`search-scripts.ts`) run their body
 * under `pcall`, and when it fails (a wrong-typed key, a posting string cut short) they answer
 * `{'corrupt', why}` instead, `why` naming the bucket and its keys of the wrong type (asked
 * only then), else the error. The client then treats the bucket as stale: it marks it so (a
 * writable storage; the next writable open rebuilds it), logs a warning and scans
 * (`search-query.ts`, `search-index.ts`).
 */

import { CorruptDataError } from '../../core/errors.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';

/** The first word of an index script's reply when the bucket's index could not be read. */
const INDEX_FAULT = 'corrupt';

/**
 * Lua: `readIndex(main, tokens)` runs `main()` and returns its result, or, when it fails,
 * `{'corrupt', why, token...}`: the bucket's keys (counters, `search-docs`, `search-gone`,
 * `search-dead`, `search-unheld` and the postings of `tokens`) whose type is not theirs, else
 * the error text, then the tokens whose postings are of the wrong type.
 */
export const READ_INDEX_LUA = `local base = string.sub(KEYS[1], 1, #KEYS[1] - 8)
local function readIndex(main, tokens)
  local ok, result = pcall(main)
  if ok then return result end
  local expected = {{KEYS[1], 'hash'}, {base .. 'search-docs', 'hash'}, {base .. 'search-gone', 'string'},
    {base .. 'search-dead', 'hash'}, {base .. 'search-unheld', 'hash'}}
  local fixed = #expected
  for _, tok in ipairs(tokens) do expected[#expected + 1] = {base .. 'q:' .. tok, 'string'} end
  local wrong, badTokens = {}, {}
  for i, e in ipairs(expected) do
    local t = redis.call('TYPE', e[1])['ok']
    if t ~= 'none' and t ~= e[2] then
      wrong[#wrong + 1] = e[1] .. ' is a ' .. t .. ', expected a ' .. e[2]
      if i > fixed then badTokens[#badTokens + 1] = tokens[i - fixed] end
    end
  end
  local why = table.concat(wrong, '; ')
  if #wrong == 0 then why = type(result) == 'table' and tostring(result.err or result.msg) or tostring(result) end
  return {'${INDEX_FAULT}', 'search index of ' .. base .. ': ' .. why, unpack(badTokens)}
end
`;

/**
 * Lua: `postingLength(tok)`, the bytes of `tok`'s postings; 0 for a posting key of the wrong
 * type whose token the last build of the bucket found held by no doc (`search-unheld` says
 * '1'), so a search reads the bucket's index as if it had none (see `noteUnheld` in
 * `search-state.ts`). Any other wrong-typed key is an error (`readIndex` names it).
 */
export const POSTING_LENGTH_LUA = `local function postingLength(tok)
  local n = redis.pcall('STRLEN', base .. 'q:' .. tok)
  if type(n) ~= 'table' then return n end
  if redis.call('HGET', base .. 'search-unheld', tok) == '1' then return 0 end
  error(n)
end
`;

/** A bucket whose index a search could not read: its number, and why (naming its keys). */
export interface IndexFault {
  bucket: number;
  problem: string;
  /** The query tokens whose posting keys have the wrong type (noted for the next rebuild). */
  tokens: string[];
}

/** Thrown by a search that met buckets whose index cannot be read; caught by `searchRedisIndex`. */
export class IndexFaults extends Error {
  constructor(readonly faults: IndexFault[]) {
    super(faults.map((f) => f.problem).join('; '));
  }
}

/** Throws {@link IndexFaults} when any reply (of `buckets[i]`) is `{'corrupt', why}`. */
export function throwFaults(
  buckets: readonly number[],
  replies: ReadonlyArray<ReadonlyArray<unknown>>,
): void {
  const faults = replies.flatMap((reply, i) =>
    reply[0] === INDEX_FAULT
      ? [{ bucket: buckets[i]!, problem: String(reply[1]), tokens: reply.slice(2).map(String) }]
      : [],
  );
  if (faults.length > 0) throw new IndexFaults(faults);
}

/**
 * Rethrows `error` of a client call that read bucket `n`'s `search-docs`, as {@link IndexFaults}
 * when it is a `WRONGTYPE` (one `TYPE` call, to name the key's type).
 */
export async function docsFault(
  redis: RedisConnection,
  keys: KeyLayout,
  n: number,
  error: unknown,
): Promise<never> {
  if (!(error instanceof CorruptDataError)) throw error;
  const { base, searchDocs } = keys.buckets[n]!;
  const type = await redis.run('read search index key type', (c) => c.type(searchDocs));
  throw new IndexFaults([
    {
      bucket: n,
      problem: `search index of ${base}: ${searchDocs} is a ${type}, expected a hash`,
      tokens: [],
    },
  ]);
}
