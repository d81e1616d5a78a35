/**
 * In-place upgrade of a v1 store (one `{c:<id>}` slot per record plus global `{index}` sets)
 * to layout v2 (see `keys.ts`). The v1 index sets are the progress record: each record is
 * copied with the v2 write scripts (which are idempotent and keep counters exact), then its v1
 * keys are deleted, then it leaves the v1 index. A crash at any point leaves every record in
 * v1 (still indexed there) or in v2, and the next writable open resumes where it stopped.
 * While it runs, the layout version reads `1>2` so that a v1 library refuses the prefix.
 * Several processes may run it at once; the moves of one that is late write nothing once
 * another has finished (`upgrade-fence.ts`).
 */
import { mapConcurrent } from '../../core/concurrency.js';
import { cacheExpiryMs, isJsonObject } from '../../core/index.js';
import { pxUntil } from './cache.js';
import { decodeArray, decodeCacheRecord } from './codec.js';
import type { RedisConnection } from './connection.js';
import { BUCKET_COUNT, escapeKeyPart, type KeyLayout, LAYOUT_VERSION, writeRawKeys } from './keys.js';
import { READ_MEMORIES } from './memory-scripts.js';
import { countMove, fenceBuckets, MOVE, startUpgrade } from './upgrade-fence.js';
import { quoteName } from '../../core/shown-text.js';

/** Test hooks: `beforeStep` runs before every write step and may throw to simulate a crash there. */
export interface UpgradeHooks {
  beforeStep?: (step: string) => void | Promise<void>;
}

/** Records upgraded at once (each is a few round trips; ioredis pipelines them). */
const BATCH = 64;

/** Key names of the v1 layout. */
function v1Layout(prefix: string) {
  const tag = (kind: string, id: string) => `${prefix}{${kind}:${escapeKeyPart(id)}}:`;
  const index = (name: string) => `${prefix}{index}:${name}`;
  return {
    conversations: index('conversations'),
    conversationIds: index('conversation-ids'),
    agents: index('agents'),
    cacheKeys: index('cache-keys'),
    stateKeys: index('state-keys'),
    conversation: (id: string) =>
      ['conversation', 'raw', 'chunks', 'memories', 'memory-data', 'memory-created'].map(
        (n) => tag('c', id) + n,
      ),
    agent: (id: string) => [`${tag('a', id)}chains`, `${tag('a', id)}chain-appends`],
    cache: (key: string) => `${tag('k', key)}cache`,
    state: (key: string) => `${tag('s', key)}state`,
  };
}

/** The v1 layout's `{index}` sets: only a v1 store, or an upgrade not done with them, has one. */
export function v1IndexKeys(prefix: string): string[] {
  const v1 = v1Layout(prefix);
  return [v1.conversations, v1.conversationIds, v1.agents, v1.cacheKeys, v1.stateKeys];
}

type Step = (name: string) => Promise<void>;

/** What every record move needs: the test hook, and the upgrade's generation (`upgrade-fence.ts`). */
interface Mover {
  step: Step;
  generation: string;
}

/**
 * The created_at (as JSON) of a moved memory that v1 kept none for in its `memory-created`
 * hash: the record's own, else null. A record that does not parse, or is no JSON object
 * (another program's bytes), is moved as it is, as the other kinds are, with created_at null:
 * loads then refuse it as they did in v1 (`CorruptDataError` naming the field), and the
 * upgrade completes instead of failing every writable open (until 2026-12-06 a bare
 * `SyntaxError` or `TypeError`, the store left at `1>2`).
 */
function movedCreatedAt(json: string): string {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return 'null';
  }
  return JSON.stringify((isJsonObject(record) ? record.created_at : undefined) ?? null);
}

/** Copies one conversation (every kind) to v2, then deletes its v1 keys. */
async function moveConversation(redis: RedisConnection, keys: KeyLayout, id: string, mover: Mover) {
  const { step, generation } = mover;
  const [conversation, raw, chunks, memories, memoryData, memoryCreated] = v1Layout(keys.prefix).conversation(
    id,
  );
  const what = `upgrade conversation ${quoteName(id)}`;
  const [conversationJson, rawJson, chunksJson, flat] = await Promise.all([
    redis.run(what, (c) => c.get(conversation as string)),
    redis.run(what, (c) => c.hget(raw as string, 'messages')),
    redis.run(what, (c) => c.get(chunks as string)),
    redis.script(what, READ_MEMORIES, [memories, memoryData, memoryCreated] as string[], [0, -1]) as Promise<
      Array<string | null>
    >,
  ]);
  const k = keys.conversation(id);
  const { counters, conversations, conversationIds } = k.bucket;
  await step('conversation');
  if (conversationJson !== null) {
    const indexes = [conversations, conversationIds];
    await redis.script(
      what,
      MOVE.string,
      [k.conversation, counters, ...indexes, k.bucket.upgraded],
      [id, conversationJson, 'conversations', generation],
    );
  }
  await step('raw messages');
  const messages = decodeArray(rawJson, raw as string);
  if (messages !== null) {
    const items = messages.map((m) => JSON.stringify(m));
    // Search flag '': the index is left alone (it is built after the upgrade).
    const args = [id, '', '', items.length, ...items, generation];
    await redis.script(what, MOVE.raw, [...writeRawKeys(k), k.bucket.upgraded], args);
  }
  await step('chunk info');
  if (chunksJson !== null) {
    await redis.script(
      what,
      MOVE.string,
      [k.chunks, counters, conversationIds, k.bucket.upgraded],
      [id, chunksJson, 'chunk_infos', generation],
    );
  }
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const [memoryId, json, created] = [flat[i] as string, flat[i + 1], flat[i + 2]];
    if (json === null || json === undefined) continue;
    await step('memory');
    const createdAt = created ?? movedCreatedAt(json);
    const memoryKeys = [
      k.memories,
      k.memoryData,
      k.memoryCreated,
      conversationIds,
      counters,
      k.bucket.upgraded,
    ];
    await redis.script(what, MOVE.memory, memoryKeys, [memoryId, json, createdAt, '1', id, generation]);
  }
  await step('delete v1 conversation');
  await redis.run(what, (c) =>
    c.del(
      conversation as string,
      raw as string,
      chunks as string,
      memories as string,
      memoryData as string,
      memoryCreated as string,
    ),
  );
}

/** Copies one agent's chains to v2 (sequence numbers from 0), then deletes its v1 keys. */
async function moveAgent(redis: RedisConnection, keys: KeyLayout, id: string, mover: Mover) {
  const { step, generation } = mover;
  const [chains, appends] = v1Layout(keys.prefix).agent(id) as [string, string];
  const what = `upgrade agent ${quoteName(id)}`;
  const items = await redis.run(what, (c) => c.lrange(chains, 0, -1));
  const k = keys.agent(id);
  await step('chains');
  if (items.length > 0) {
    await redis.script(
      what,
      MOVE.chains,
      [k.chains, k.agent, k.bucket.agents, k.bucket.counters, k.bucket.upgraded],
      [id, ...items, generation],
    );
  }
  await step('delete v1 agent');
  await redis.run(what, (c) => c.del(chains, appends));
}

/**
 * The `WRITE_CACHE` arguments after the value for a moved entry whose v1 key has `pttl` ms left
 * (0: none): PX, trim limit 0, and the index score and now on this client's clock. A cache
 * record with an expiry is indexed at its own `expiresAt`, with its PX from now, as every write
 * indexes it: the instant loads, listings and stats compare with the caller's clock (the
 * server's now plus the remaining PX was off by the clock skew between client and server). An
 * `expiresAt` that does not parse (another program's) is passed, as loads take it: PX 1 and
 * score 0, where no PX meant a value kept and listed for ever. A value that is no cache record
 * keeps its remaining PX, scored on the server's clock as before.
 */
function movedCacheArgs(value: string, valueKey: string, pttl: number): Array<string | number> {
  let record;
  try {
    record = decodeCacheRecord(value, valueKey);
  } catch {
    return [pttl, 0];
  }
  const now = Date.now();
  if (record === null || record.expiresAt === null) return [pttl, 0, pttl === 0 ? 0 : now + pttl, now];
  // The instant loads decide by (`cacheExpiryMs`: also an out-of-range text's), 0 when none.
  const expiresAtMs = cacheExpiryMs(record.expiresAt) ?? 0;
  return [pxUntil(expiresAtMs, now), 0, expiresAtMs, now];
}

/** Copies one cache entry with its expiry, then deletes its v1 key. */
async function moveCacheEntry(redis: RedisConnection, keys: KeyLayout, cacheKey: string, mover: Mover) {
  const { step, generation } = mover;
  const key = v1Layout(keys.prefix).cache(cacheKey);
  const what = `upgrade cache entry ${quoteName(cacheKey)}`;
  const [ttl, value] = await Promise.all([
    redis.run(what, (c) => c.pttl(key)),
    redis.run(what, (c) => c.get(key)),
  ]);
  const k = keys.cache(cacheKey);
  await step('cache entry');
  if (value !== null && ttl !== -2) {
    await redis.script(
      what,
      MOVE.cache,
      [k.key, k.bucket.cacheKeys, k.bucket.cacheExpiry, k.bucket.upgraded],
      [cacheKey, value, ...movedCacheArgs(value, key, ttl > 0 ? ttl : 0), generation],
    );
  }
  await step('delete v1 cache entry');
  await redis.run(what, (c) => c.del(key));
}

/** Copies one system state object, then deletes its v1 key. */
async function moveState(redis: RedisConnection, keys: KeyLayout, stateKey: string, mover: Mover) {
  const { step, generation } = mover;
  const key = v1Layout(keys.prefix).state(stateKey);
  const what = `upgrade system state ${quoteName(stateKey)}`;
  const value = await redis.run(what, (c) => c.get(key));
  const k = keys.state(stateKey);
  await step('system state');
  if (value !== null) {
    await redis.script(
      what,
      MOVE.string,
      [k.key, k.bucket.counters, k.bucket.stateKeys, k.bucket.upgraded],
      [stateKey, value, 'states', generation],
    );
  }
  await step('delete v1 system state');
  await redis.run(what, (c) => c.del(key));
}

/** Upgrades the v1 store at `keys.prefix` to v2, resuming an unfinished upgrade. */
export async function upgradeFromV1(
  redis: RedisConnection,
  keys: KeyLayout,
  hooks: UpgradeHooks = {},
): Promise<void> {
  const step: Step = async (name) => {
    await hooks.beforeStep?.(name);
  };
  const v1 = v1Layout(keys.prefix);
  const generation = await startUpgrade(redis, keys);
  // Another process finished it after this open read the layout: nothing is left to move.
  if (generation === null) return;
  const mover: Mover = { step, generation };
  await redis.run('write bucket count', (c) => c.set(keys.store.buckets, BUCKET_COUNT, 'NX'));
  const phases: Array<[string, string[], (id: string) => Promise<void>]> = [
    [
      'conversations',
      [v1.conversationIds, v1.conversations],
      (id) => moveConversation(redis, keys, id, mover),
    ],
    ['agents', [v1.agents], (id) => moveAgent(redis, keys, id, mover)],
    ['cache_entries', [v1.cacheKeys], (key) => moveCacheEntry(redis, keys, key, mover)],
    ['system_states', [v1.stateKeys], (key) => moveState(redis, keys, key, mover)],
  ];
  for (const [name, sets, move] of phases) {
    for (const set of sets) {
      for (;;) {
        const batch = await redis.run('read v1 index', (c) => c.srandmember(set, BATCH));
        if (batch.length === 0) break;
        // mapConcurrent, not Promise.all: after a failure the moves in flight finish before
        // the open rejects, so none is still writing when the caller closes the connection.
        await mapConcurrent(batch, BATCH, async (member) => {
          await move(member);
          await step('unindex v1');
          // Removed from every set of the phase: a conversation can be in both v1 sets.
          await Promise.all(sets.map((s) => redis.run('unindex v1', (c) => c.srem(s, member))));
          await countMove(redis, keys, name);
        });
      }
    }
  }
  await step('finish');
  // Before the version reads 2, so before any write of an open of this library.
  await fenceBuckets(redis, keys, generation);
  await redis.run('finish upgrade', (c) => c.set(keys.store.layout, LAYOUT_VERSION));
  await redis.run('finish upgrade', (c) => c.del(keys.store.upgrade));
}
