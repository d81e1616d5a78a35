/**
 * After `reindex()`'s pass, with a vector store that lists its ids (`listIds()`): every stored
 * vector is checked against the records, page by page, so none goes unseen however many a kind
 * holds, and the index is never emptied (queries list at most 4,096 vectors of a kind, so
 * `reindex-unlisted.ts`, the way without it, empties and refills a bigger index).
 */
import { throwIfAborted } from '../abort.js';
import { StorageError } from '../errors.js';
import { compareCodePoints, sortedByCodePoint } from '../order.js';
import { lockOf, settleOwner, type ReembedAccess } from './reembed-owner.js';
import { isValidId, type ListedOwners } from './reindex-unlisted.js';
import type { SemanticIndex } from './semantic-index.js';
import { parseVectorId } from './vector-ids.js';

/** Ids per page of the walk. */
const PAGE_SIZE = 1_000;

/**
 * Walks every vector id. Ids naming no record this library could write are removed page by
 * page. Vectors of owners the pass did not list (gone ones whose removal failed at a delete, new
 * ones a write added meanwhile), and of owners whose sweep may have left some (more vectors
 * than a query lists), are then settled owner by owner under the owner's lock: the first are
 * re-embedded as the pass does it; then each vector of no record the owner now holds goes.
 */
export async function settleByListing(
  index: SemanticIndex,
  access: ReembedAccess,
  listed: ListedOwners,
): Promise<void> {
  const conversations = new Map<string, string[]>();
  const agents = new Map<string, string[]>();
  const note = (owners: Map<string, string[]>, ownerId: string, id: string): void => {
    const ids = owners.get(ownerId);
    if (ids === undefined) owners.set(ownerId, [id]);
    else ids.push(id);
  };
  let after: string | null = null;
  do {
    throwIfAborted(access.signal, 'reindex');
    const page = await index.listIds(after, PAGE_SIZE);
    const strays: string[] = [];
    for (const id of page.items) {
      const ref = parseVectorId(id);
      if (ref === null) strays.push(id);
      else if (ref.kind === 'reasoning_chains') {
        const owner = { agentId: ref.agentId };
        if (listed.agentIds.has(ref.agentId) && !listed.unswept.has(lockOf(owner))) continue;
        if (isValidId('agentId', ref.agentId)) note(agents, ref.agentId, id);
        else strays.push(id);
      } else {
        const owner = { conversationId: ref.conversationId };
        if (listed.conversationIds.has(ref.conversationId) && !listed.unswept.has(lockOf(owner))) continue;
        if (isValidId('conversationId', ref.conversationId)) note(conversations, ref.conversationId, id);
        else strays.push(id);
      }
    }
    // Removing ids already listed moves no later page: pages are keyset pages.
    await index.remove(strays);
    after = nextPosition(after, page.next);
  } while (after !== null);
  // An owner the pass listed was re-embedded by it: its vectors are only checked.
  for (const [id, found] of sortedEntries(conversations)) {
    throwIfAborted(access.signal, 'reindex');
    await settleOwner(index, access, { conversationId: id }, found, !listed.conversationIds.has(id));
  }
  for (const [id, found] of sortedEntries(agents)) {
    throwIfAborted(access.signal, 'reindex');
    await settleOwner(index, access, { agentId: id }, found, !listed.agentIds.has(id));
  }
}

/** The entries of `owners`, by owner id in code point order. */
function sortedEntries(owners: ReadonlyMap<string, string[]>): Array<[string, string[]]> {
  return sortedByCodePoint(owners.keys()).map((id) => [id, owners.get(id) ?? []]);
}

/**
 * The page's `next`, checked to move forward: a store of your own whose `next` does not would
 * walk for ever.
 */
function nextPosition(after: string | null, next: string | null): string | null {
  if (next === null) return null;
  if (typeof next !== 'string' || (after !== null && compareCodePoints(next, after) <= 0)) {
    throw new StorageError(
      `vector store listIds() did not move forward: after ${JSON.stringify(after)} it gave next ${JSON.stringify(next)}`,
    );
  }
  return next;
}
