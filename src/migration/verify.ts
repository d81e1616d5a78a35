/**
 * Verification: re-reads both stores and compares every record by canonical JSON. The
 * target must hold every source record unchanged (memories in order with their ids and
 * `created_at`, chains in order with `stored_at`, cache entries with the same data, the same
 * `storedAt` and expiry within a tolerance), list every source id it holds records under,
 * and, unless `allowExtra`, hold nothing else.
 */
import type { JsonValue } from '../core/json.js';
import { type CacheRecord, cacheRecordTimesProblem } from '../core/records.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { BoundedList } from './bounded.js';
import { describeDifference } from './compare.js';
import { loadConversationPartsBatch, READ_SLICE } from './copy-batches.js';
import { CACHE_GROUP_SIZE } from './copy-cache.js';
import { throwIfSourceUnlisted } from './corrupt-source.js';
import { throwIfAborted } from './errors.js';
import { checkVerifyOptions } from './verify-options.js';
import { readVerifyOptions } from './read-options.js';
import { EXPIRY_TOLERANCE_MS, expiryMs, sameExpiry, sameStoredAt } from './copy.js';
import { userStateKeys } from './marker.js';
import { type ConversationParts, upsertedMemories } from './memories.js';
import { type PassContext, runGroupedPhase, runPhase } from './pool.js';
import { withoutReservedFields } from './reserved.js';
import { markingSourceErrors } from './source-reads.js';
import {
  AGENT_ID,
  CACHE_KEY,
  CONVERSATION_ID,
  type ListedKind,
  refusal,
  screenIds,
  STATE_KEY,
} from './screen.js';
import {
  type MigrationDifference,
  RECORD_KINDS,
  type RecordKind,
  type VerificationResult,
  type VerifyOptions,
} from './types.js';

/** Collects differences: counts all, keeps the first `max`. */
class Differences extends BoundedList<MigrationDifference> {
  /** Records one difference. */
  note(kind: RecordKind, id: string, message: string): void {
    this.add({ kind, id, message });
  }

  /** Records a difference between two values when there is one. */
  compare(kind: RecordKind, id: string, what: string, source: JsonValue | null, target: JsonValue | null) {
    if (source === null && target === null) return;
    if (target === null) this.note(kind, id, `${what} missing in the target`);
    else if (source === null) this.note(kind, id, `${what} only in the target`);
    else {
      const difference = describeDifference(source, target);
      if (difference !== null) this.note(kind, id, `${what} differs ${difference}`);
    }
  }

  /** Reports ids the target holds and the source does not, unless `excused`. */
  async extras(
    kind: RecordKind,
    sourceIds: readonly string[],
    targetIds: readonly string[],
    what: string,
    excused: (id: string) => Promise<boolean> = () => Promise.resolve(false),
  ): Promise<void> {
    const known = new Set(sourceIds);
    for (const id of targetIds) {
      if (!known.has(id) && !(await excused(id))) this.note(kind, id, `${what} only in the target`);
    }
  }
}

/** Shared state of one verification pass. */
interface VerifyContext {
  source: StorageInterface;
  target: StorageInterface;
  allowExtra: boolean;
  toleranceMs: number;
  differences: Differences;
  checked: Record<RecordKind, number>;
  /** The target's listing of each kind listed so far (conversation ids, agents, cache keys, state keys). */
  listed: Partial<Record<RecordKind, ReadonlySet<string>>>;
  signal: AbortSignal | undefined;
}

/**
 * Notes a source id whose records the target holds but does not list: a store is walked
 * through its listings, so such records are lost to anyone who lists the target. A source id
 * the target holds nothing under is reported by the comparison of its records instead (once),
 * and one neither side holds anything under (deleted since the source listed it) is no loss.
 */
function checkListed(
  context: VerifyContext,
  kind: RecordKind,
  id: string,
  what: string,
  held: boolean,
): void {
  if (held && context.listed[kind]?.has(id) === false) {
    context.differences.note(kind, id, `${what} listed by the source but not by the target, which holds it`);
  }
}

/** True when any of a conversation id's parts holds something. */
function holdsAny([conversation, messages, memories, chunk]: ConversationParts): boolean {
  return conversation !== null || messages.length > 0 || memories.length > 0 || chunk !== null;
}

/** Compares a group of conversation ids, each side read with batch loads. */
async function verifyConversationGroup(context: VerifyContext, ids: readonly string[]): Promise<void> {
  const [sources, targets] = await Promise.all([
    loadConversationPartsBatch(context.source, ids),
    loadConversationPartsBatch(context.target, ids),
  ]);
  ids.forEach((id, i) => {
    compareConversation(context, id, sources[i]!, targets[i]!);
    checkListed(context, 'conversations', id, 'conversation id', holdsAny(targets[i]!));
  });
}

/** Notes how a conversation id's parts in the target differ from the source's. */
function compareConversation(
  context: VerifyContext,
  id: string,
  sourceParts: ConversationParts,
  [tConversation, tMessages, tMemories, tChunk]: ConversationParts,
): void {
  const { differences, checked, allowExtra } = context;
  // The copy left out the reserved fields (with a warning); they are not differences.
  const [conversation, messages, memories, chunk] = withoutReservedFields(id, sourceParts);
  checked.conversations += conversation === null ? 0 : 1;
  checked.raw_messages += messages.length;
  checked.memories += memories.length;
  checked.chunk_info += chunk === null ? 0 : 1;
  // Without a source record, a target record is a difference unless extras are allowed.
  const other = <T extends JsonValue>(value: unknown, tValue: T | null): T | null =>
    value === null && allowExtra ? null : tValue;
  differences.compare('conversations', id, 'conversation', conversation, other(conversation, tConversation));
  if (messages.length > 0 || !allowExtra) {
    differences.compare('raw_messages', id, 'raw message list', messages, tMessages);
  }
  const expectedIds = new Set(memories.map((memory) => memory.memory_id));
  const kept = allowExtra ? tMemories.filter((memory) => expectedIds.has(memory.memory_id)) : tMemories;
  differences.compare('memories', id, 'memory list', upsertedMemories(memories), kept);
  differences.compare('chunk_info', id, 'chunk info', chunk, other(chunk, tChunk));
}

async function verifyAgent(context: VerifyContext, agentId: string): Promise<void> {
  const [chains, tChains] = await Promise.all([
    context.source.loadReasoningChains(agentId),
    context.target.loadReasoningChains(agentId),
  ]);
  context.checked.reasoning_chains += chains.length;
  context.differences.compare('reasoning_chains', agentId, 'chain list', chains, tChains);
  checkListed(context, 'reasoning_chains', agentId, 'agent', tChains.length > 0);
}

/** Compares a group of cache keys, each side read with one `loadCacheRecords`. */
async function verifyCacheGroup(context: VerifyContext, keys: readonly string[]): Promise<void> {
  const [records, tRecords] = await Promise.all([
    context.source.loadCacheRecords(keys),
    context.target.loadCacheRecords(keys),
  ]);
  keys.forEach((key, i) => compareCacheEntry(context, key, records[i] ?? null, tRecords[i] ?? null));
}

/** Notes how a cache entry in the target differs from the source's (`null`: none live). */
function compareCacheEntry(
  context: VerifyContext,
  key: string,
  record: CacheRecord | null,
  tRecord: CacheRecord | null,
): void {
  if (record === null) return; // expired since it was listed
  context.checked.cache_entries += 1;
  const expiresAt = expiryMs(record);
  if (tRecord === null) {
    // An entry about to expire may be gone from the target already.
    if (expiresAt === null || expiresAt - Date.now() > context.toleranceMs) {
      context.differences.note('cache_entries', key, 'cache entry missing in the target');
    }
    return;
  }
  checkListed(context, 'cache_entries', key, 'cache key', true);
  context.differences.compare('cache_entries', key, 'cache entry', record.data, tRecord.data);
  if (!sameExpiry(expiresAt, expiryMs(tRecord), context.toleranceMs)) {
    context.differences.note(
      'cache_entries',
      key,
      `cache expiry differs: source ${record.expiresAt ?? 'never'}, target ${tRecord.expiresAt ?? 'never'}`,
    );
  }
  // A source record with timestamps no store accepts was copied with a new storedAt (and a warning).
  const timesKept = cacheRecordTimesProblem(record) === null;
  if (timesKept && !sameStoredAt(record.storedAt, tRecord.storedAt)) {
    context.differences.note(
      'cache_entries',
      key,
      `cache stored_at differs: source ${record.storedAt}, target ${tRecord.storedAt}`,
    );
  }
}

async function verifySystemState(context: VerifyContext, key: string): Promise<void> {
  const [state, tState] = await Promise.all([
    context.source.loadSystemState(key),
    context.target.loadSystemState(key),
  ]);
  if (state === null) return; // deleted since it was listed
  context.checked.system_state += 1;
  context.differences.compare('system_state', key, 'system state', state, tState);
  checkListed(context, 'system_state', key, 'system state key', tState !== null);
}

/**
 * A target-only cache key is no difference when its entry expires within the tolerance:
 * a copy's TTL is taken just before its write, so it outlives the source's by a moment and
 * the source may list the key no more while the target still does.
 */
async function expiringInTarget(context: VerifyContext, key: string): Promise<boolean> {
  const record = await context.target.loadCacheRecord(key);
  const expiresAt = record === null ? Date.now() : expiryMs(record);
  return expiresAt !== null && expiresAt - Date.now() <= context.toleranceMs;
}

/**
 * Lists ids on both sides, reports target-only ids unless extras are allowed, and returns the
 * source's that the id rule accepts: a refused one cannot be read by id (nor was it copied),
 * so it is reported as missing in the target, with the reason.
 */
async function listBoth(
  context: VerifyContext,
  listed: ListedKind,
  what: string,
  list: (store: StorageInterface) => Promise<string[]>,
): Promise<string[]> {
  const { kind } = listed;
  throwIfAborted(context.signal); // a phase with no items checks it nowhere else
  const [ids, tIds] = await Promise.all([list(context.source), list(context.target)]);
  context.listed[kind] = new Set(tIds);
  if (!context.allowExtra) {
    const excused = kind === 'cache_entries' ? (key: string) => expiringInTarget(context, key) : undefined;
    await context.differences.extras(kind, ids, tIds, what, excused);
  }
  const { valid, refused } = screenIds(listed, ids);
  for (const { id } of refused) {
    context.differences.note(kind, id, `${what} missing in the target: ${refusal(listed.field, id)}`);
  }
  return valid;
}

/**
 * Compares every record of `source` with `target` (see the module comment). Reads only; both
 * stores must be initialized. The resume marker is ignored on both sides. Source data that does
 * not parse (a file source's unlisted cache or state files too) rejects with a `CorruptSourceError`
 * naming where, not a difference; the target's stays a `CorruptDataError`. Options that are not
 * valid, hold an unknown name or cannot be read reject with a `ValidationError` before any read.
 */
export async function verifyMigration(
  source: StorageInterface,
  target: StorageInterface,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  // Each read once: a getter read again could throw, or give another value.
  const read = readVerifyOptions(options);
  checkVerifyOptions(read);
  source = markingSourceErrors(source);
  throwIfAborted(read.signal); // an already-aborted signal reads nothing
  await throwIfSourceUnlisted(source);
  const differences = new Differences(read.maxDifferences ?? 50);
  const context: VerifyContext = {
    source,
    target,
    allowExtra: read.allowExtra ?? false,
    toleranceMs: read.expiryToleranceMs ?? EXPIRY_TOLERANCE_MS,
    differences,
    checked: Object.fromEntries(RECORD_KINDS.map((kind) => [kind, 0])) as Record<RecordKind, number>,
    listed: {},
    signal: read.signal,
  };
  const pass: PassContext = {
    stage: 'verify',
    onProgress: read.onProgress,
    signal: read.signal,
    concurrency: read.concurrency ?? 4,
  };
  const ids = await listBoth(context, CONVERSATION_ID, 'conversation id', (s) => s.listAllConversationIds());
  // Groups as the copy's (an even share at most, at most READ_SLICE), each side read with one batch load.
  const groupSize = Math.max(1, Math.min(READ_SLICE, Math.ceil(ids.length / pass.concurrency)));
  await runGroupedPhase(pass, 'conversations', ids, groupSize, (group) =>
    verifyConversationGroup(context, group),
  );
  const agents = await listBoth(context, AGENT_ID, 'agent', (s) => s.listAgents());
  await runPhase(pass, 'agents', agents, (agentId) => verifyAgent(context, agentId));
  const cacheKeys = await listBoth(context, CACHE_KEY, 'cache entry', (s) => s.listCacheKeys());
  await runGroupedPhase(pass, 'cache', cacheKeys, CACHE_GROUP_SIZE, (group) =>
    verifyCacheGroup(context, group),
  );
  const stateKeys = await listBoth(context, STATE_KEY, 'system state', async (s) =>
    userStateKeys(await s.listSystemStateKeys()),
  );
  await runPhase(pass, 'system_state', stateKeys, (key) => verifySystemState(context, key));
  return {
    ok: differences.count === 0,
    checked: context.checked,
    differenceCount: differences.count,
    differences: differences.kept,
  };
}
