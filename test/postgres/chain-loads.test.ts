/**
 * Chain loads read only the chains they return, whatever the table's statistics: the last
 * `limit` of an agent (`loadReasoningChains(agent, limit)`, `loadSequencedReasoningChains`
 * with `limit`) and a page after a sequence number. Written plainly, before the table's first
 * `ANALYZE` the server expected a few rows per agent and read all of them (bitmap scan and
 * sort); after it, an agent that is a large share of the table was found by walking the
 * primary key past other agents' newer chains.
 */
import { buildChainSql } from '../../src/backends/postgres/chains.js';
import { buildSql } from '../../src/backends/postgres/sql.js';
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

/** A node of `EXPLAIN (FORMAT JSON)`. */
interface PlanNode {
  'Node Type': string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows the table scans of `node` produced or looked at and dropped. */
function rowsScanned(node: PlanNode): number {
  const own = /Scan$/.test(node['Node Type']) && node['Node Type'] !== 'Subquery Scan';
  const here = own
    ? (node['Actual Rows'] ?? 0) +
      (node['Rows Removed by Filter'] ?? 0) +
      (node['Rows Removed by Index Recheck'] ?? 0)
    : 0;
  return here + (node.Plans ?? []).reduce((sum, child) => sum + rowsScanned(child), 0);
}

/** A read of a statement: its parameter types, its arguments (SQL literals), the rows it returns. */
interface Read {
  types: string;
  args: string;
  rows: number;
}

describeWithService('postgres')('postgres chain loads', () => {
  const ctx = usePostgresStore();

  /**
   * Stores 600 chains of an agent and then 600 of another (half of the table each, all newer),
   * and checks that each read of `text` scans only the rows it returns, before and after
   * `ANALYZE`, with the plan made for the values and with the cached one.
   */
  async function expectExactReads(text: (schema: string) => string, reads: Read[]): Promise<void> {
    const s = await ctx.open({ searchIndex: false });
    const chains = (n: number) => Array.from({ length: n }, (_, step) => ({ step, text: 'x'.repeat(200) }));
    await s.appendReasoningChains('older', chains(600));
    await s.appendReasoningChains('newer', chains(600));
    const client = await ctx.raw().connect();
    const seen: object[] = [];
    const expected: object[] = [];
    try {
      for (const analyzed of [false, true]) {
        if (analyzed) await client.query(`ANALYZE ${ident(ctx.schema())}.reasoning_chains`);
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET plan_cache_mode = ${mode}`);
          for (const read of reads) {
            await client.query(`PREPARE chains_read(${read.types}) AS ${text(ctx.schema())}`);
            try {
              const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
                `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE chains_read(${read.args})`,
              );
              const scanned = rowsScanned(rows[0]!['QUERY PLAN'][0]!.Plan);
              seen.push({ analyzed, mode, args: read.args, scanned });
              expected.push({ analyzed, mode, args: read.args, scanned: read.rows });
            } finally {
              await client.query('DEALLOCATE chains_read');
            }
          }
        }
      }
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
    }
    expect(seen).toEqual(expected);
  }

  it('runs the same statement for a last-N load with or without sequence numbers', async () => {
    await ctx.open();
    expect(buildChainSql(ctx.schema()).selectLast.text).toBe(buildSql(ctx.schema()).selectLastChains.text);
  });

  it('reads only the newest chains of the agent for a last-N load', async () => {
    await expectExactReads(
      (schema) => buildSql(schema).selectLastChains.text,
      [
        { types: 'text, bigint', args: `'older', 10`, rows: 10 },
        { types: 'text, bigint', args: `'newer', 10`, rows: 10 },
      ],
    );
    const s = await ctx.open();
    expect((await s.loadReasoningChains('older', 3)).map((chain) => chain.step)).toEqual([597, 598, 599]);
    const last = await s.loadSequencedReasoningChains('newer', { limit: 2 });
    expect(last.map((chain) => chain.chain.step)).toEqual([598, 599]);
  });

  it('reads only the page of the agent after a sequence number', async () => {
    // Ids 1-600 are the older agent's, 601-1200 the newer's.
    await expectExactReads(
      (schema) => buildChainSql(schema).selectAfter.text,
      [
        { types: 'text, bigint, bigint', args: `'older', 595, 10`, rows: 5 },
        { types: 'text, bigint, bigint', args: `'older', 0, 10`, rows: 10 },
        { types: 'text, bigint, bigint', args: `'older', 595, NULL`, rows: 5 },
        { types: 'text, bigint, bigint', args: `'newer', 1195, 10`, rows: 5 },
      ],
    );
    const s = await ctx.open();
    const page = await s.loadSequencedReasoningChains('older', { afterSequence: 595, limit: 10 });
    expect(page.map((chain) => [chain.sequence, chain.chain.step])).toEqual([
      [596, 595],
      [597, 596],
      [598, 597],
      [599, 598],
      [600, 599],
    ]);
    const rest = await s.loadSequencedReasoningChains('newer', { afterSequence: 1198 });
    expect(rest.map((chain) => chain.sequence)).toEqual([1199, 1200]);
  });
});
