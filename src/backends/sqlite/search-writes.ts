/**
 * What each write path tells the search index ({@link SearchSync}): the rows it wrote, as it
 * wrote them, so the index adds their entries without reading them back.
 */
import type { WrittenMemoryRow } from './batches.js';
import type { WrittenChainRow } from './chains.js';
import type { SearchSync } from './search-entries.js';

/**
 * A memory write: rows replaced in place are reindexed; new rows are added from their values
 * (a row inserted and then replaced by the same batch is reindexed only).
 */
export function memorySearchSync(conversationId: string, rows: readonly WrittenMemoryRow[]): SearchSync {
  const replaced = new Set(rows.filter((row) => row.replaced).map((row) => row.id));
  const added = rows
    .filter((row) => !replaced.has(row.id))
    .map((row) => ({
      base: row.id,
      scope: conversationId,
      stamp: null,
      position: 0,
      memory_id: row.memoryId,
      memory_data: row.json,
      created_at: row.createdAt,
    }));
  return { reindex: [...replaced], added };
}

/** A chain change: removed chains are pruned; appended rows are added from their values. */
export function chainSearchSync(
  agentId: string,
  removed: boolean,
  added: readonly WrittenChainRow[],
): SearchSync {
  return {
    prune: removed,
    added: added.map((row) => ({
      base: row.id,
      scope: agentId,
      stamp: null,
      position: 0,
      id: row.id,
      chain_data: row.json,
      created_at: row.createdAt,
    })),
  };
}
