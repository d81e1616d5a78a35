/**
 * The `checkSource` pre-pass: every record of the source read once, before anything is written,
 * and every one that does not parse named. Without it, a source record that does not parse
 * fails the run when the copy reaches it: no part of its conversation or agent is written
 * (each is read whole first), but what came before it is, and each run names only the first
 * such record, so a source with several takes a failed run per record to find them. A full read
 * costs about what the copy's own reads do (2,000 conversations from a file store: ~0.1 s of a
 * ~1.3 s copy into Redis), so it is asked for, not the default; the default check reads only
 * the files the listings leave out (`corrupt-source.ts`).
 */
import { CorruptChainsError, CorruptDataError } from '../core/errors.js';
import type { SequencedChain } from '../core/storage-retention.js';
import type { StorageInterface } from '../core/storage-interface.js';
import { BoundedList } from './bounded.js';
import { CACHE_GROUP_SIZE } from './copy-cache.js';
import { CHAIN_PAGE_SIZE } from './copy.js';
import { READ_SLICE } from './copy-batches.js';
import { unlistedFiles } from './corrupt-source.js';
import { MigrationRefusedError } from './errors.js';
import { userStateKeys } from './marker.js';
import { type PassContext, runGroupedPhase, runPhase } from './pool.js';
import { AGENT_ID, CACHE_KEY, CONVERSATION_ID, type ListedKind, screenIds, STATE_KEY } from './screen.js';

/** Places named in the refusal; the rest are counted. */
const SHOWN = 20;

/** `null` when `read` resolves, the `CorruptDataError` it rejects with; any other error rejects. */
async function corruptIn(read: () => Promise<unknown>): Promise<CorruptDataError | null> {
  try {
    await read();
    return null;
  } catch (error) {
    if (error instanceof CorruptDataError) return error;
    throw error;
  }
}

/** Runs `read`, noting where the data is when it does not parse. */
async function noting(found: BoundedList<string>, read: () => Promise<unknown>): Promise<void> {
  const error = await corruptIn(read);
  if (error !== null) found.add(error.location);
}

/** The ids of a listing that can be read by id (the copy reports the others as conflicts). */
async function readable(listed: ListedKind, list: () => Promise<string[]>): Promise<string[]> {
  return screenIds(listed, await list()).valid;
}

/**
 * A group of conversation ids: one batch read, as the copy's; when it fails on corrupt data,
 * each id's four parts alone, so that every file that does not parse is named.
 */
async function checkConversations(source: StorageInterface, found: BoundedList<string>, ids: string[]) {
  if ((await corruptIn(() => source.loadConversationBatch(ids))) === null) return;
  for (const id of ids) {
    await Promise.all([
      noting(found, () => source.loadConversation(id)),
      noting(found, () => source.loadRawMessages(id)),
      noting(found, () => source.loadMemories(id)),
      noting(found, () => source.loadChunkInfo(id)),
    ]);
  }
}

/** The `CorruptChainsError` of a chain read (the marked source's error carries it as its cause). */
function chainsErrorOf(error: CorruptDataError): CorruptChainsError | null {
  if (error instanceof CorruptChainsError) return error;
  return error.cause instanceof CorruptChainsError ? error.cause : null;
}

/**
 * An agent's chains, a page at a time as the copy reads them. A chain that does not parse is
 * noted and the read goes on after it when its store says where (one row or list item), so
 * that every bad one is named; each place the store names at once (a file store's chains file
 * and sequence file) is noted.
 */
async function checkAgent(source: StorageInterface, found: BoundedList<string>, agentId: string) {
  let afterSequence = Number.MIN_SAFE_INTEGER;
  for (;;) {
    let page: SequencedChain[];
    try {
      page = await source.loadSequencedReasoningChains(agentId, { afterSequence, limit: CHAIN_PAGE_SIZE });
    } catch (error) {
      if (!(error instanceof CorruptDataError)) throw error;
      const chains = chainsErrorOf(error);
      for (const location of chains?.locations ?? [error.location]) found.add(location);
      // Past the bad chain, or done when the store cannot say where it is (a whole file).
      if (chains?.sequence == null || chains.sequence <= afterSequence) return;
      afterSequence = chains.sequence;
      continue;
    }
    const last = page.at(-1);
    if (last === undefined) return;
    afterSequence = last.sequence;
  }
}

/** A group of cache keys: one batch read; when it fails on corrupt data, each key alone. */
async function checkCache(source: StorageInterface, found: BoundedList<string>, keys: string[]) {
  if ((await corruptIn(() => source.loadCacheRecords(keys))) === null) return;
  for (const key of keys) await noting(found, () => source.loadCacheRecord(key));
}

/**
 * Every place of `source` holding data that does not parse (the first {@link SHOWN}, and how
 * many in all): the files its listings leave out (a file store's), then every record the copy
 * would read, read the way the copy reads it. Reads only. Errors other than corrupt data reject.
 */
export async function findCorruptSource(
  source: StorageInterface,
  pass: PassContext,
): Promise<BoundedList<string>> {
  const found = new BoundedList<string>(SHOWN);
  for (const file of await unlistedFiles(source)) found.add(file);
  const ids = await readable(CONVERSATION_ID, () => source.listAllConversationIds());
  await runGroupedPhase(pass, 'conversations', ids, READ_SLICE, (group) =>
    checkConversations(source, found, group),
  );
  const agents = await readable(AGENT_ID, () => source.listAgents());
  await runPhase(pass, 'agents', agents, (agentId) => checkAgent(source, found, agentId));
  const keys = await readable(CACHE_KEY, () => source.listCacheKeys());
  await runGroupedPhase(pass, 'cache', keys, CACHE_GROUP_SIZE, (group) => checkCache(source, found, group));
  const stateKeys = await readable(STATE_KEY, async () => userStateKeys(await source.listSystemStateKeys()));
  await runPhase(pass, 'system_state', stateKeys, (key) => noting(found, () => source.loadSystemState(key)));
  return found;
}

/**
 * Rejects with {@link MigrationRefusedError} (reason `corrupt-source`) naming every place of
 * the source holding data that does not parse ({@link findCorruptSource}); writes nothing.
 */
export async function refuseCorruptRecords(source: StorageInterface, pass: PassContext): Promise<void> {
  const found = await findCorruptSource(source, pass);
  if (found.count === 0) return;
  const more = found.count > found.kept.length ? `, and ${found.count - found.kept.length} more` : '';
  throw new MigrationRefusedError(
    'corrupt-source',
    `The source holds ${found.count} file(s) or record(s) that do not parse (a file store's cache or ` +
      `state files relative to its folder): ${found.kept.join(', ')}${more}. Repair them, or move them ` +
      'out of the store (keep a copy), then run again. Nothing was written',
  );
}
