/**
 * What keeps an upgrade from v1 that is late from writing over a finished one (`upgrade.ts`).
 * Several processes may upgrade one store at once: each copies the same v1 values with the
 * idempotent v2 write scripts, so counters stay exact. But one that read a v1 record and then
 * stalled (a GC pause, a slow link) wrote its old value after another process had finished
 * the upgrade and a caller had written or deleted that record (until 2026-12-06). So each
 * upgrade has a generation (a random token, kept in `{index}:upgrade` until it finishes, so
 * a resumed run keeps it); the process that finishes sets every bucket's `upgraded` key to it
 * before the layout version reads `2` (no open of this library writes before that), and the
 * upgrade's record writes are the v2 scripts behind a check of that key in the same script: a
 * bucket fenced for the writer's generation writes nothing. One key per bucket, in the
 * bucket's slot, so the check and the write are one script on a cluster too. An older
 * generation's fence (a prefix upgraded before, then given a v1 store again) fences nothing.
 */
import { randomUUID } from 'node:crypto';
import { WRITE_CACHE } from './cache-scripts.js';
import type { RedisConnection } from './connection.js';
import type { KeyLayout } from './keys.js';
import { LAYOUT_VERSION, UPGRADING_LAYOUT_VERSION } from './keys.js';
import { UPSERT_MEMORY } from './memory-scripts.js';
import { RESTORE_CHAINS, WRITE_RAW, WRITE_STRING } from './record-scripts.js';
import { LuaScript } from './scripts.js';

/**
 * Lua run first by a fenced script: takes its last key (the bucket's `upgraded` key) and last
 * argument (the upgrade's generation) off `KEYS` and `ARGV`, so the script reads its own as
 * before, and returns `'fenced'` before any write when the key holds that generation.
 */
const FENCE_LUA = `local upgradeFence, upgradeGeneration = table.remove(KEYS), table.remove(ARGV)
if redis.call('GET', upgradeFence) == upgradeGeneration then return 'fenced' end
`;

/** `script` behind the fence: call it with the bucket's `upgraded` key and the generation last. */
function fenced(script: LuaScript): LuaScript {
  const lua = script.lua;
  // A `#!lua` line must stay first (the cluster's slot probe goes after it too).
  const end = lua.startsWith('#!') ? lua.indexOf('\n') + 1 : 0;
  return new LuaScript(`${script.name}Moved`, lua.slice(0, end) + FENCE_LUA + lua.slice(end));
}

/** The v2 write scripts as the upgrade runs them. */
export const MOVE = {
  string: fenced(WRITE_STRING),
  raw: fenced(WRITE_RAW),
  memory: fenced(UPSERT_MEMORY),
  chains: fenced(RESTORE_CHAINS),
  cache: fenced(WRITE_CACHE),
};

/**
 * Starts or resumes an upgrade. KEYS: layout, upgrade marker. ARGV: start time, a new
 * generation. Returns the upgrade's generation (the marker's, else the new one), or nil when
 * the layout already reads 2: an open that read v1 before another process finished.
 */
const START_UPGRADE = new LuaScript(
  'startUpgrade',
  `if redis.call('GET', KEYS[1]) == '${LAYOUT_VERSION}' then return false end
redis.call('HSETNX', KEYS[2], 'started_at', ARGV[1])
redis.call('HSETNX', KEYS[2], 'generation', ARGV[2])
redis.call('SET', KEYS[1], '${UPGRADING_LAYOUT_VERSION}')
return redis.call('HGET', KEYS[2], 'generation')`,
);

/**
 * Counts a moved record in the progress marker. KEYS: marker. ARGV: field. Only while the
 * marker exists: a late process's count would make it again after the upgrade finished.
 */
const COUNT_MOVE = new LuaScript(
  'countUpgradeMove',
  `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], ARGV[1], 1) end
return 0`,
);

/** Marks the upgrade started (layout `1>2`); its generation, or null when it finished already. */
export async function startUpgrade(redis: RedisConnection, keys: KeyLayout): Promise<string | null> {
  const args = [new Date().toISOString(), randomUUID()];
  const keyNames = [keys.store.layout, keys.store.upgrade];
  return (await redis.script('mark upgrade', START_UPGRADE, keyNames, args)) as string | null;
}

/** Counts one moved record of `kind` in the progress marker. */
export async function countMove(redis: RedisConnection, keys: KeyLayout, kind: string): Promise<void> {
  await redis.script('count upgrade', COUNT_MOVE, [keys.store.upgrade], [kind]);
}

/** Fences every bucket for `generation`: called once every record moved, before the layout reads 2. */
export async function fenceBuckets(
  redis: RedisConnection,
  keys: KeyLayout,
  generation: string,
): Promise<void> {
  await Promise.all(
    keys.buckets.map((bucket) =>
      redis.run('fence upgraded buckets', (c) => c.set(bucket.upgraded, generation)),
    ),
  );
}
