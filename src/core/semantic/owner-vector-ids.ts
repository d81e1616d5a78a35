/**
 * The vector ids a conversation's or an agent's records hold in the vector store, found by
 * listing the store's ids: for a delete of records no read can parse, which so cannot name
 * their vectors (a raw message's position, a chain's sequence number). Every id of one owner's
 * kind shares a prefix (`r/{conversation}/`, `{conversation}/`, `c/{agent}/`, see
 * `vector-ids.ts`), so each is one range of the store's code point order.
 */
import type { SemanticIndex } from './semantic-index.js';
import { idPart, parseVectorId, type VectorRef } from './vector-ids.js';

/** Ids listed per page. */
const PAGE = 1000;

/** The listed ids starting with `prefix` for which `mine` holds. */
async function idsInRange(
  index: SemanticIndex,
  prefix: string,
  mine: (ref: VectorRef | null) => boolean,
): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | null = prefix; after !== null;) {
    const page = await index.listIds(after, PAGE);
    const inRange = page.items.filter((id) => id.startsWith(prefix));
    for (const id of inRange) if (mine(parseVectorId(id))) ids.push(id);
    after = inRange.length < page.items.length ? null : page.next;
  }
  return ids;
}

/**
 * Every vector id of `agentId`'s chains; `[]` for a vector store that lists no ids: those
 * vectors are left to search (which drops hits whose record is gone) and `reindex()`.
 */
export function agentChainIds(index: SemanticIndex, agentId: string): Promise<string[]> {
  if (!index.listsIds) return Promise.resolve([]);
  const mine = (ref: VectorRef | null) => ref?.kind === 'reasoning_chains' && ref.agentId === agentId;
  return idsInRange(index, `c/${idPart(agentId)}/`, mine);
}

/**
 * Every vector id of `conversationId`'s raw messages and memories; `[]` as {@link agentChainIds}.
 * A memory's prefix is the conversation's part alone, which other kinds' ids may share (`c/`),
 * so each id is parsed.
 */
export async function conversationListedIds(index: SemanticIndex, conversationId: string): Promise<string[]> {
  if (!index.listsIds) return [];
  const part = idPart(conversationId);
  const raw = await idsInRange(
    index,
    `r/${part}/`,
    (ref) => ref?.kind === 'raw_messages' && ref.conversationId === conversationId,
  );
  const memories = await idsInRange(
    index,
    `${part}/`,
    (ref) => ref?.kind === 'memories' && ref.conversationId === conversationId,
  );
  return [...raw, ...memories];
}
