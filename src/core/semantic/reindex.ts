/**
 * `reindex()`'s vector part: every raw message, memory and chain embedded again, one owner
 * (conversation or agent) at a time under that owner's write lock. The index is never emptied
 * first: vectors are upserted over the old ones and each owner's leftovers removed, so a
 * failure part-way (a transient embedder error) leaves a working index and searches running
 * meanwhile find what they find before and after. Vectors no listed owner holds are settled
 * owner by owner too: with a vector store that lists its ids, by walking them all
 * (`reindex-listing.ts`); without, by one query per kind (`reindex-unlisted.ts`), and only when a
 * kind holds more vectors than a query lists, and more vectors remain than the owners hold, is
 * the index emptied and filled again.
 */
import { throwIfAborted } from '../abort.js';
import { validateId } from '../ids.js';
import { logEvent, type StorageLogger } from '../logger.js';
import { sortedByCodePoint } from '../order.js';
import {
  lockOf,
  reembedAgent,
  reembedConversation,
  type ReembedAccess,
  type SkippedMemories,
} from './reembed-owner.js';
import { settleByListing } from './reindex-listing.js';
import { settleUnlisted } from './reindex-unlisted.js';
import type { SemanticIndex } from './semantic-index.js';

export type { ReembedAccess } from './reembed-owner.js';

/**
 * Embeds every record again. Upserts over the existing vectors and removes each owner's
 * leftovers (vectors of its records that are gone). Vectors of owners the listing did not hold
 * (gone ones whose removal failed at a delete, new ones a write added meanwhile) are settled the
 * same way. A vector store that lists its ids (`listIds()`, every built-in one) has each vector
 * checked, and the index is never emptied. With one that does not, only when some may have gone
 * unseen (a kind holds 4,096 vectors or more) and more vectors remain than the owners hold is
 * the index emptied and filled again; a failure during
 * that refill leaves the index partial: it is logged (`error`) and the error says so (running
 * `reindex()` again completes it).
 */
export async function reembedAll(
  index: SemanticIndex,
  access: ReembedAccess,
  logger: StorageLogger | undefined,
): Promise<void> {
  const skipped: SkippedOwners = { conversationIds: [], agentIds: [], memories: [] };
  const listed = {
    conversationIds: new Set<string>(),
    agentIds: new Set<string>(),
    unswept: new Set<string>(),
  };
  const live = await embedEveryOwner(index, access, true, skipped, listed);
  if (skipped.conversationIds.length + skipped.agentIds.length > 0) {
    logEvent(
      logger,
      'warn',
      'reindex() skipped the conversations and agents whose ids the id rule refuses (written by another ' +
        'program; the vector stores take only such ids as scopes): their records have no vectors',
      // The first few of each (a store could hold many), and how many there were.
      {
        method: 'reindex',
        conversationIds: skipped.conversationIds.slice(0, 20),
        conversationCount: skipped.conversationIds.length,
        agentIds: skipped.agentIds.slice(0, 20),
        agentCount: skipped.agentIds.length,
      },
    );
  }
  if (skipped.memories.length > 0) {
    logEvent(
      logger,
      'warn',
      'reindex() skipped the memories whose vector ids the vector stores refuse (a memory id longer than ' +
        'the id rule allows, written by another program): they have no vectors, full-text search finds them',
      {
        method: 'reindex',
        // The first few (ids cut to 100 characters: such an id may be very long), and how many.
        memories: skipped.memories.slice(0, 20).map(({ conversationId, memoryId }) => ({
          conversationId,
          memoryId: memoryId.length > 100 ? `${memoryId.slice(0, 100)}…` : memoryId,
        })),
        memoryCount: skipped.memories.length,
      },
    );
  }
  // Every vector id, checked: also when the count looks right (a delete during the pass lowers
  // it as much as a leftover raises it).
  throwIfAborted(access.signal, 'reindex');
  if (index.listsIds) {
    await settleByListing(index, access, listed);
    return;
  }
  // More vectors than the owners hold: some belong to owners that are gone, or to owners a write
  // added meanwhile (or to an owner with more than one query returns). Telling them apart keeps
  // the index whole for the searches running meanwhile; emptying it is the last resort.
  if ((await index.count()) <= live) return;
  if (await settleUnlisted(index, access, listed)) return;
  if ((await index.count()) <= live) return;
  await index.reset();
  try {
    await embedEveryOwner(index, access, false, { conversationIds: [], agentIds: [], memories: [] });
  } catch (error) {
    const note =
      'reindex() emptied the vector index to refill it and failed: the index is partial; run reindex() again to complete it';
    logEvent(logger, 'error', note, {
      method: 'reindex',
      error: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) error.message = `${error.message} (${note})`;
    throw error;
  }
}

/**
 * What {@link embedEveryOwner} left out: owners whose ids the id rule refuses, and memories whose
 * vector id the vector stores refuse.
 */
interface SkippedOwners {
  conversationIds: string[];
  agentIds: string[];
  memories: SkippedMemories;
}

/** The ids of `ids` the id rule accepts, sorted; the others are added to `skipped`. */
function indexable(field: 'conversationId' | 'agentId', ids: readonly string[], skipped: string[]): string[] {
  return sortedByCodePoint(ids).filter((id) => {
    try {
      validateId(field, id);
      return true;
    } catch {
      skipped.push(id);
      return false;
    }
  });
}

/**
 * Re-embeds every owner; with `sweep`, removes each owner's leftover vectors. Returns the vectors
 * upserted; the owners re-embedded are added to `listed`. An owner whose id the id rule refuses
 * (a store the Python reference wrote may hold a conversation `team/alpha`) is left out and noted
 * in `skipped`: the vector stores refuse such a scope, and the first one failed the whole reindex.
 */
async function embedEveryOwner(
  index: SemanticIndex,
  access: ReembedAccess,
  sweep: boolean,
  skipped: SkippedOwners,
  listed: { conversationIds: Set<string>; agentIds: Set<string>; unswept: Set<string> } = {
    conversationIds: new Set(),
    agentIds: new Set(),
    unswept: new Set(),
  },
): Promise<number> {
  let upserted = 0;
  const conversationIds = await access.listStoredConversationIds();
  // A registered backend's listing may repeat an id: each is embedded once.
  for (const conversationId of indexable('conversationId', conversationIds, skipped.conversationIds)) {
    throwIfAborted(access.signal, 'reindex');
    const done = await reembedConversation(index, access, conversationId, sweep, skipped.memories);
    upserted += done.upserted;
    listed.conversationIds.add(conversationId);
    if (!done.swept) listed.unswept.add(lockOf({ conversationId }));
  }
  for (const agentId of indexable('agentId', await access.listAgentIds(), skipped.agentIds)) {
    throwIfAborted(access.signal, 'reindex');
    const done = await reembedAgent(index, access, agentId, sweep);
    upserted += done.upserted;
    listed.agentIds.add(agentId);
    if (!done.swept) listed.unswept.add(lockOf({ agentId }));
  }
  return upserted;
}
