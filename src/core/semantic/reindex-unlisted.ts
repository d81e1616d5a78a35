/**
 * After `reindex()`'s pass, the vectors no listed owner vouched for: of conversations or agents
 * that are gone (their removal failed at a delete), of owners a write added while the pass ran,
 * or ids this library did not write. Each embedded kind is listed whole with one query, so they
 * are told apart and the first are removed without emptying the index, which left the searches
 * running meanwhile with a part of the records.
 */
import { validateId } from '../ids.js';
import { sortedByCodePoint } from '../order.js';
import { MAX_QUERY_K } from '../../semantic/vector-stores/types.js';
import { probeOf, reembedAgent, reembedConversation, type ReembedAccess } from './reembed-owner.js';
import type { SemanticIndex } from './semantic-index.js';
import { EMBEDDED_KINDS, parseVectorId } from './vector-ids.js';

/** The owners `reindex()`'s pass re-embedded and swept. */
export interface ListedOwners {
  conversationIds: ReadonlySet<string>;
  agentIds: ReadonlySet<string>;
  /** Owners (by lock, `c/<id>` or `a/<id>`) whose sweep found as many vectors as a query lists: some may remain. */
  unswept: ReadonlySet<string>;
}

/** True when the id rule accepts `id`. */
export function isValidId(field: 'conversationId' | 'agentId', id: string): boolean {
  try {
    validateId(field, id);
    return true;
  } catch {
    return false;
  }
}

/**
 * Settles the vectors of owners the pass did not list, for a vector store without `listIds()`
 * (`reindex-listing.ts` is the way with it): each such owner is re-embedded and swept as the pass does it (under its lock, so a record written meanwhile keeps its vector and a gone
 * one loses it), and ids naming no record this library could write are removed. Returns `false`
 * when a kind holds as many vectors as a query returns, so some may have gone unseen.
 */
export async function settleUnlisted(
  index: SemanticIndex,
  access: ReembedAccess,
  listed: ListedOwners,
): Promise<boolean> {
  let complete = true;
  const strays: string[] = [];
  const conversations = new Set<string>();
  const agents = new Set<string>();
  for (const kind of EMBEDDED_KINDS) {
    const found = await index.query(probeOf(index), MAX_QUERY_K, { kinds: [kind] });
    if (found.length >= MAX_QUERY_K) complete = false;
    for (const { id } of found) {
      const ref = parseVectorId(id);
      if (ref === null) strays.push(id);
      else if (ref.kind === 'reasoning_chains') {
        if (listed.agentIds.has(ref.agentId)) continue;
        if (isValidId('agentId', ref.agentId)) agents.add(ref.agentId);
        else strays.push(id);
      } else {
        if (listed.conversationIds.has(ref.conversationId)) continue;
        if (isValidId('conversationId', ref.conversationId)) conversations.add(ref.conversationId);
        else strays.push(id);
      }
    }
  }
  await index.remove(strays);
  // Memories the vector stores refuse were refused before: none of them has a vector to settle.
  for (const id of sortedByCodePoint(conversations)) await reembedConversation(index, access, id, true, []);
  for (const id of sortedByCodePoint(agents)) await reembedAgent(index, access, id, true);
  return complete;
}
