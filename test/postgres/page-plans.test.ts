/**
 * PostgreSQL: a page of `listAllConversationIds` reads about the page from each kind's index,
 * not every id after the cursor. It used to filter a union of the four tables, so each page
 * read every row after the cursor (every message and memory row too) and a walk of the whole
 * listing was quadratic in the store's size.
 */
import { buildPagingSql } from '../../src/backends/postgres/paging.js';
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

/** A node of `EXPLAIN (FORMAT JSON)`. */
interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows the table scans of `node` produced or looked at and dropped. */
function rowsScanned(node: PlanNode): number {
  const own = /Scan$/.test(node['Node Type']) && node['Node Type'] !== 'Subquery Scan';
  const here = own ? (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) : 0;
  return here + (node.Plans ?? []).reduce((sum, child) => sum + rowsScanned(child), 0);
}

describeWithService('postgres')('postgres listing pages', () => {
  const ctx = usePostgresStore();

  it('reads about one page per kind for a page of every conversation id, wherever the cursor is', async () => {
    const s = await ctx.open({ searchIndex: false });
    // 600 ids, each in one kind: 3 messages, 2 memories, a conversation or chunk info.
    const ids = Array.from({ length: 600 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    await s.storeConversationBatch(
      ids.map(
        (conversationId, i) =>
          [
            { conversationId, rawMessages: [1, 2, 3] },
            {
              conversationId,
              memories: [
                { memoryId: 'a', data: {} },
                { memoryId: 'b', data: {} },
              ],
            },
            { conversationId, conversation: {} },
            { conversationId, chunkInfo: {} },
          ][i % 4]!,
      ),
    );
    const limit = 20;
    // At most the rows of the first `limit` ids of each kind, and one more of each; a page that
    // reads every row after the cursor reads up to 1,050.
    const bound = limit * (3 + 2 + 1 + 1) + 4;
    const client = await ctx.raw().connect();
    const seen: object[] = [];
    const expected: object[] = [];
    try {
      for (const analyzed of [false, true]) {
        if (analyzed) {
          for (const table of ['conversations', 'raw_messages', 'memories', 'chunk_info']) {
            await client.query(`ANALYZE ${ident(ctx.schema())}.${table}`);
          }
        }
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET plan_cache_mode = ${mode}`);
          const text = buildPagingSql(ctx.schema()).pages.allConversationIds;
          await client.query(`PREPARE page_read(text, bigint) AS ${text}`);
          try {
            for (const after of ['', 'c000', 'c299']) {
              const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
                `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE page_read('${after}', ${limit})`,
              );
              const scanned = rowsScanned(rows[0]!['QUERY PLAN'][0]!.Plan);
              seen.push({ analyzed, mode, after, withinBound: scanned <= bound, scanned });
              expected.push({ analyzed, mode, after, withinBound: true, scanned });
            }
          } finally {
            await client.query('DEALLOCATE page_read');
          }
        }
      }
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
    }
    expect(seen).toEqual(expected);
    // And the pages are the listing's.
    const walked: string[] = [];
    let next: string | null = null;
    do {
      const page: { items: string[]; next: string | null } = await s.listAllConversationIds({
        after: next,
        limit,
      });
      walked.push(...page.items);
      next = page.next;
    } while (next !== null);
    expect(walked).toEqual(ids);
  });
});
