/**
 * Removing from the target what the source no longer holds, in a resumed run that is not a
 * merge. The resume marker proves that such a target holds nothing but this migration's
 * earlier attempt, so anything in it the source lacks was deleted from the source between
 * the attempts: left there, it would make every later run end with differences. A first run
 * (empty target) has nothing to remove, and a merge run never deletes: the target's own
 * records must survive.
 */
import { mapConcurrent } from '../core/concurrency.js';
import type { StorageInterface } from '../core/storage-interface.js';
import type { CopyContext } from './copy.js';
import { throwIfAborted } from './errors.js';
import { userStateKeys } from './marker.js';

/** One kind of id the target may hold alone: how to list it, delete it, and name it in a warning. */
export interface TargetOnlyKind {
  what: string;
  list: (store: StorageInterface) => Promise<string[]>;
  remove: (store: StorageInterface, id: string) => Promise<unknown>;
}

/** Conversation ids: each goes with its raw messages, memories and chunk info. */
export const CONVERSATION_IDS: TargetOnlyKind = {
  what: 'conversation id(s)',
  list: (store) => store.listAllConversationIds(),
  remove: (store, id) => store.deleteConversation(id),
};

/** Agents: each goes with all its reasoning chains. */
export const AGENTS: TargetOnlyKind = {
  what: 'agent(s) with their reasoning chains',
  list: (store) => store.listAgents(),
  remove: (store, id) => store.deleteReasoningChains(id),
};

/** Cache keys. */
export const CACHE_KEYS: TargetOnlyKind = {
  what: 'cache key(s)',
  list: (store) => store.listCacheKeys(),
  remove: (store, key) => store.deleteCacheEntry(key),
};

/** System-state keys, the resume marker left out (it goes once the run succeeds). */
export const STATE_KEYS: TargetOnlyKind = {
  what: 'system state key(s)',
  list: async (store) => userStateKeys(await store.listSystemStateKeys()),
  remove: (store, key) => store.deleteSystemState(key),
};

/**
 * When the run converges (`context.converge`), deletes every id of `kind` the target lists
 * and `sourceIds` (the source's listing) does not, `concurrency` at once, with one warning
 * saying how many went. Otherwise does nothing (no listing of the target).
 */
export async function removeTargetOnly(
  context: CopyContext,
  kind: TargetOnlyKind,
  sourceIds: readonly string[],
  concurrency: number,
): Promise<void> {
  if (!context.converge) return;
  throwIfAborted(context.signal);
  const known = new Set(sourceIds);
  const extra = (await kind.list(context.target)).filter((id) => !known.has(id));
  if (extra.length === 0) return;
  await mapConcurrent(extra, concurrency, async (id) => {
    throwIfAborted(context.signal);
    await kind.remove(context.target, id);
  });
  context.warnings.add(
    `removed ${extra.length} ${kind.what} from the target that the source no longer holds ` +
      '(deleted from the source since the interrupted run)',
  );
}
