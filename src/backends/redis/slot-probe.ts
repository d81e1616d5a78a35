/**
 * The slot check every script runs first on a Redis Cluster. While a slot migrates, its keys
 * are split between two nodes, and a script command on a key its node does not hold (one not
 * moved yet, or gone already: a key the script deleted a moment before, a new search token)
 * fails with "Script attempted to access a non local key". Redis does not roll a script back,
 * so the commands before it stay: a raw-message replace deleted the list and then failed to
 * push the new one, a search write marked its bucket stale. The declared keys do not protect:
 * Redis checks them only when the script starts, and most scripts also touch undeclared keys
 * (postings) or keys they delete and recreate.
 *
 * So on a cluster each script first asks `EXISTS` of two keys that never exist, in its slot:
 * on a node whose slot is migrating away (missing keys are asked elsewhere) or being imported
 * (a multi-key command with missing keys must wait) that call fails, and the script answers
 * `TRYAGAIN` before anything is read or written. ioredis's `Cluster` retries a `TRYAGAIN` as it
 * does Redis's own (`retryDelayOnTryAgain`, up to `maxRedirections`), so a call of a migrating
 * bucket waits for the slot to settle and then runs whole on its new owner, or fails with a
 * `BackendUnavailableError` having written nothing. A standalone server runs the scripts as
 * they are (no probe, no cost).
 */

/**
 * Lua: returns a `TRYAGAIN` error reply when this node's slot of `KEYS[1]` is migrating or
 * importing. The probe keys are `KEYS[1]` plus a suffix with a NUL byte, which no key of the
 * layout holds (ids cannot contain NUL), in the same slot (the suffix comes after the hash tag).
 */
const SLOT_PROBE_LUA = `if #KEYS > 0 then
  local probe = redis.pcall('EXISTS', KEYS[1] .. '\\0slot-probe-1', KEYS[1] .. '\\0slot-probe-2')
  if type(probe) == 'table' and probe.err then
    return redis.error_reply('TRYAGAIN connectome-storage: the slot of ' .. KEYS[1] ..
      ' is migrating; nothing was written (' .. probe.err .. ')')
  end
end
`;

/** `lua` with the slot probe in front (after a `#!lua` line, which must stay first). */
export function withSlotProbe(lua: string): string {
  if (!lua.startsWith('#!')) return SLOT_PROBE_LUA + lua;
  const end = lua.indexOf('\n') + 1;
  return lua.slice(0, end) + SLOT_PROBE_LUA + lua.slice(end);
}
