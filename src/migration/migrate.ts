/**
 * `migrateStorage(source, target)`: copies everything from one store to another through
 * the public `StorageInterface` only, so any backend (a user's own included) can be either
 * side. Order: conversations (all ids from `listAllConversationIds()`), reasoning chains per
 * agent, live cache entries with their stored and expiry times, system state; then verification.
 *
 * Refusals (a {@link MigrationRefusedError}, before anything is written): options that are
 * not valid, hold an unknown name or cannot be read (see `read-options.ts`), the same store on
 * both sides, a non-empty target without `merge` unless it holds this migration's own
 * unfinished run (see `marker.ts`), a target whose `maxReasoningChainsPerAgent` is below
 * an agent's chain count in the source (see `chain-limit.ts`), and a source holding files that
 * do not parse whose records its listings leave out (see `corrupt-source.ts`), or with
 * `checkSource` any record that does not parse (see `source-check.ts`). A run that stops halfway (abort, crash, failed write)
 * resumes when started again: every write is idempotent (see `copy.ts`), and a resumed run that
 * is not a merge deletes what the source no longer holds (see `converge.ts`).
 */
import type { StorageInterface } from '../core/storage-interface.js';
import { DEFAULT_BULK_COPY } from '../core/storage-conversation-batches.js';
import { BoundedList } from './bounded.js';
import { type CopyContext, copyAgentChains, copyConversation, copySystemState } from './copy.js';
import { copyConversationGroup } from './copy-batches.js';
import { AGENTS, CACHE_KEYS, CONVERSATION_IDS, removeTargetOnly, STATE_KEYS } from './converge.js';
import { CACHE_GROUP_SIZE, copyCacheEntries } from './copy-cache.js';
import { refuseChainLimit } from './chain-limit.js';
import { refuseCorruptSource } from './corrupt-source.js';
import { refuseCorruptRecords } from './source-check.js';
import { markingSourceErrors } from './source-reads.js';
import { MigrationRefusedError, throwIfAborted } from './errors.js';
import { describeValue } from '../core/errors.js';
import { sameStoreId } from './identity.js';
import { clearMarker, keepMarkerAlive, MIGRATION_MARKER_KEY, userStateKeys } from './marker.js';
import { type PassContext, runGroupedPhase, runPhase } from './pool.js';
import { AGENT_ID, CACHE_KEY, CONVERSATION_ID, type ListedKind, screenIds, STATE_KEY } from './screen.js';
import { emptyCounts, type MigrateOptions, type MigrationSummary } from './types.js';
import { planTarget, type TargetPlan } from './target-plan.js';
import { verifyMigration } from './verify.js';
import { type OptionProblem, verifyOptionProblem } from './verify-options.js';
import { readMigrateOptions } from './read-options.js';

/** What a run may do to its target, decided before the first write. */

/** Stops the run's marker heartbeat (`keepMarkerAlive`) once it started. */
interface Heartbeat {
  stop?: () => Promise<void>;
}

/**
 * The run's shape: the options', else the defaults. The target's `bulkCopyDefaults` shape only
 * the conversation groups (their records are what a run holds in flight); agents, cache keys,
 * state and the verification are copied or read one item or small group per call, so more at
 * once is faster (1,000 agents of 10 chains, 3 alternating cold runs, 4 against 2 at once: into
 * Redis 1,164–1,276 against 1,507–1,610 ms, into PostgreSQL 1,835–1,968 against 1,975–2,395).
 */
interface RunShape {
  /** Agents, cache key groups, state keys and verification reads at once. */
  concurrency: number;
  /** Conversation groups at once. */
  groupConcurrency: number;
  /** Conversations per batch write (0: one conversation at a time). */
  batchSize: number;
}

function checkOptions(source: StorageInterface, target: StorageInterface, options: MigrateOptions): RunShape {
  const defaults = target.bulkCopyDefaults;
  // A value left out comes from the target: a bad one is the backend's, and the message says so.
  const from = (given: unknown) => (given === undefined ? ", the target's bulkCopyDefaults" : '');
  const concurrency = options.concurrency ?? DEFAULT_BULK_COPY.concurrency;
  const groupConcurrency = options.concurrency ?? defaults.concurrency;
  for (const value of [concurrency, groupConcurrency]) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new MigrationRefusedError(
        'invalid-option',
        `concurrency must be a positive integer (got ${value}${from(options.concurrency)})`,
      );
    }
  }
  const batchSize = options.conversationBatchSize ?? defaults.conversationBatchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 0) {
    throw new MigrationRefusedError(
      'invalid-option',
      `conversationBatchSize must be a non-negative integer (got ${batchSize}${from(options.conversationBatchSize)})`,
    );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new MigrationRefusedError('invalid-option', 'signal must be an AbortSignal');
  }
  refuseOtherOptions(options);
  const sameId =
    options.sourceId !== undefined &&
    options.targetId !== undefined &&
    sameStoreId(options.sourceId, options.targetId);
  if (source === target || sameId) {
    throw new MigrationRefusedError(
      'same-store',
      `Source and target are the same store${sameId ? ` (${options.sourceId})` : ''}; nothing was written`,
    );
  }
  return { concurrency, groupConcurrency, batchSize };
}

/**
 * Refuses the options checked nowhere else before the first write: until 2026-12-06 a bad
 * `maxDifferences` failed the verification after the whole copy, a bad `onProgress` the first
 * event after the resume marker was written, and that marker then made every later run
 * without `sourceId` refuse the target as foreign.
 */
function refuseOtherOptions(options: MigrateOptions): void {
  const refuse = ({ name, value, expected }: OptionProblem): never => {
    throw new MigrationRefusedError(
      'invalid-option',
      `${name} must be ${expected} (got ${describeValue(value)})`,
    );
  };
  // The two the verification takes too, checked by its rule (concurrency has its own above).
  const shared = verifyOptionProblem({
    maxDifferences: options.maxDifferences,
    onProgress: options.onProgress,
  });
  if (shared !== null) refuse(shared);
  for (const name of ['dryRun', 'verify', 'merge', 'checkSource'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') refuse({ name, value, expected: 'a boolean' });
  }
  for (const name of ['sourceId', 'targetId'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'string') refuse({ name, value, expected: 'a string' });
  }
}

/** Initializes `source` and (unless `null`) `target` concurrently; rejects after both settled. */
async function openBoth(source: StorageInterface, target: StorageInterface | null): Promise<void> {
  const opened = await Promise.allSettled([source.initialize(), target?.initialize()]);
  for (const result of opened) if (result.status === 'rejected') throw result.reason;
}

/**
 * The ids of a source listing that the id rule accepts; each refused one is a conflict naming
 * it (it can be neither read by id nor written), and the rest is copied.
 */
function screened(context: CopyContext, listed: ListedKind, ids: string[]): string[] {
  const { valid, refused } = screenIds(listed, ids);
  for (const { id, message } of refused) context.conflicts.add({ kind: listed.kind, id, message });
  return valid;
}

/** The kept warnings, plus a line saying how many were left out. */
function withOmitted(warnings: BoundedList<string>): string[] {
  const omitted = warnings.count - warnings.kept.length;
  return omitted > 0 ? [...warnings.kept, `... and ${omitted} more warning(s)`] : warnings.kept;
}

/**
 * Copies every record of `source` into `target` and (unless `verify: false`) verifies the
 * copy. Initializes both stores if needed (a dry run never touches the target) and leaves
 * them open; the caller shuts them down. Rejects with {@link MigrationRefusedError} before
 * writing any record when refused (both stores are opened first, which creates an empty target
 * store where none existed), with `MigrationAbortedError` when `signal` fires, and with
 * the backend's error when a read or write fails; a later run resumes in both cases, except
 * after a `CorruptSourceError` (data of the source that does not parse), which every run meets
 * until that data is repaired. While it runs, its marker in the target carries a heartbeat: a
 * second run into the same target is refused (`migration-running`) instead of copying beside it.
 */
export async function migrateStorage(
  source: StorageInterface,
  target: StorageInterface,
  options: MigrateOptions = {},
): Promise<MigrationSummary> {
  const heartbeat: Heartbeat = {};
  try {
    // Read once, here: a getter or Proxy read again later could throw or give another value.
    return await runMigration(source, target, readMigrateOptions(options), heartbeat);
  } finally {
    await heartbeat.stop?.();
  }
}

/**
 * Embeds every record of a resumed run's target with semantic search again (its `reindex()`):
 * a run cut between a record's write and the upsert of its vectors (a killed process) left that
 * record without vectors, and the resumed run keeps it as held (a chain cannot even be written
 * again). Until 2026-12-06 such records stayed out of vector searches, verified "no
 * differences".
 */
async function embedResumedTarget(context: CopyContext): Promise<void> {
  throwIfAborted(context.signal);
  try {
    await context.target.reindex({ signal: context.signal });
  } catch (error) {
    throwIfAborted(context.signal); // reported as the migration's interruption, as elsewhere
    throw error;
  }
  context.warnings.add(
    'resumed into a store with semantic search: every record of the target was embedded again ' +
      '(reindex()), since a run cut between a write and its vectors leaves that record without them',
  );
}

/** {@link migrateStorage}'s run; starts the marker's heartbeat into `heartbeat`. */
async function runMigration(
  source: StorageInterface,
  target: StorageInterface,
  options: MigrateOptions,
  heartbeat: Heartbeat,
): Promise<MigrationSummary> {
  const started = performance.now();
  const { concurrency, groupConcurrency, batchSize } = checkOptions(source, target, options);
  // Every read below goes through it: corrupt data of the source is told from the target's.
  source = markingSourceErrors(source);
  throwIfAborted(options.signal); // an already-aborted signal opens nothing
  const dryRun = options.dryRun ?? false;
  const maxNotes = options.maxDifferences ?? 50;
  // Both stores open at once: opening costs each side a fixed wait (driver load, schema
  // checks) that is a large share of a small migration's time. Opening writes no record, so
  // a refusal below still leaves the target without any.
  await openBoth(source, dryRun ? null : target);
  let plan: TargetPlan = { resumed: false, merge: options.merge ?? false };
  if (options.checkSource === true) {
    const check: PassContext = {
      stage: 'check',
      onProgress: options.onProgress,
      signal: options.signal,
      concurrency,
    };
    await refuseCorruptRecords(source, check);
  } else await refuseCorruptSource(source);
  await refuseChainLimit(source, target, concurrency, options.signal);
  // The marker below is the first write: an abort that fired while the stores opened or the
  // checks read the source must leave the target untouched (a marker alone would make a
  // later run without `sourceId` refuse it as foreign, and the CLI report a partial copy).
  throwIfAborted(options.signal);
  if (!dryRun) plan = await planTarget(target, options.sourceId, source.storageType, plan.merge);
  if (plan.marker !== undefined) heartbeat.stop = keepMarkerAlive(target, plan.marker);
  const context: CopyContext = {
    source,
    target,
    dryRun,
    compareFirst: !dryRun && (plan.resumed || plan.merge),
    converge: !dryRun && plan.resumed && !plan.merge,
    counts: emptyCounts(),
    // Bounded like the differences: one note per conversation or agent could be O(store).
    conflicts: new BoundedList(maxNotes),
    warnings: new BoundedList(maxNotes),
    signal: options.signal,
  };
  if (plan.warning !== undefined) context.warnings.add(plan.warning);
  const pass: PassContext = {
    stage: 'copy',
    onProgress: options.onProgress,
    signal: options.signal,
    concurrency,
  };

  // Checked before each listing too (runPhase checks before each record).
  throwIfAborted(options.signal);
  const ids = screened(context, CONVERSATION_ID, await source.listAllConversationIds());
  await removeTargetOnly(context, CONVERSATION_IDS, ids, concurrency);
  if (batchSize === 0) await runPhase(pass, 'conversations', ids, (id) => copyConversation(context, id));
  else {
    // Groups no larger than an even share, so that a small store still copies as many at once as it may.
    const groupSize = Math.max(1, Math.min(batchSize, Math.ceil(ids.length / groupConcurrency)));
    const groupPass = { ...pass, concurrency: groupConcurrency };
    await runGroupedPhase(groupPass, 'conversations', ids, groupSize, (group) =>
      copyConversationGroup(context, group),
    );
  }
  throwIfAborted(options.signal);
  const agents = screened(context, AGENT_ID, await source.listAgents());
  await removeTargetOnly(context, AGENTS, agents, concurrency);
  await runPhase(pass, 'agents', agents, (agentId) => copyAgentChains(context, agentId));
  throwIfAborted(options.signal);
  const cacheKeys = screened(context, CACHE_KEY, await source.listCacheKeys());
  await removeTargetOnly(context, CACHE_KEYS, cacheKeys, concurrency);
  await runGroupedPhase(pass, 'cache', cacheKeys, CACHE_GROUP_SIZE, (group) =>
    copyCacheEntries(context, group),
  );
  throwIfAborted(options.signal);
  const allStateKeys = await source.listSystemStateKeys();
  const stateKeys = screened(context, STATE_KEY, userStateKeys(allStateKeys));
  await removeTargetOnly(context, STATE_KEYS, stateKeys, concurrency);
  // Asked by name: a key the id rule refuses (screened out above) is no marker.
  if (allStateKeys.includes(MIGRATION_MARKER_KEY)) {
    context.warnings.add(
      `the source holds an unfinished migration marker (${MIGRATION_MARKER_KEY}); not copied`,
    );
  }
  await runPhase(pass, 'system_state', stateKeys, (key) => copySystemState(context, key));
  if (!dryRun && plan.resumed && target.hasSemanticSearch) await embedResumedTarget(context);

  const verification =
    dryRun || options.verify === false
      ? null
      : await verifyMigration(source, target, {
          allowExtra: plan.merge,
          concurrency,
          maxDifferences: maxNotes,
          onProgress: options.onProgress,
          signal: options.signal,
        });
  const ok = context.conflicts.count === 0 && (verification?.ok ?? true);
  // The marker stays until a run succeeds, so that the same command can be run again. No
  // heartbeat may land after it is cleared.
  if (!dryRun && ok) {
    await heartbeat.stop?.();
    heartbeat.stop = undefined;
    await clearMarker(target);
  }
  return {
    ok,
    dryRun,
    merge: plan.merge,
    resumed: plan.resumed,
    counts: context.counts,
    conversationIds: ids.length,
    agents: agents.length,
    conflicts: context.conflicts.kept,
    conflictCount: context.conflicts.count,
    warnings: withOmitted(context.warnings),
    verification,
    durationMs: Math.round(performance.now() - started),
  };
}
