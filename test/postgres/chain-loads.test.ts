/**
 * `loadReasoningChains(agent, limit)` reads only the agent's newest `limit` chains, whatever
 * the table's statistics: before its first `ANALYZE` the server expected a few rows per agent
 * and read all of them (bitmap scan and sort); after it, an agent that is a large share of the
 * table was found by walking the primary key past other agents' newer chains.
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

describeWithService('postgres')('postgres chain loads', () => {
  const ctx = usePostgresStore();

  it('runs the same statement for a last-N load with or without sequence numbers', async () => {
    await ctx.open();
    expect(buildChainSql(ctx.schema()).selectLast.text).toBe(buildSql(ctx.schema()).selectLastChains.text);
  });

  it('reads only the newest chains of the agent, before and after ANALYZE, planned either way', async () => {
    const s = await ctx.open({ searchIndex: false });
    // An older agent and one whose chains are all newer: half of the table each.
    const chains = (n: number) => Array.from({ length: n }, (_, step) => ({ step, text: 'x'.repeat(200) }));
    await s.appendReasoningChains('older', chains(600));
    await s.appendReasoningChains('newer', chains(600));
    const text = buildSql(ctx.schema()).selectLastChains.text;
    const client = await ctx.raw().connect();
    try {
      for (const analyzed of [false, true]) {
        if (analyzed) await client.query(`ANALYZE ${ident(ctx.schema())}.reasoning_chains`);
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET plan_cache_mode = ${mode}`);
          await client.query(`PREPARE last_chains(text, bigint) AS ${text}`);
          try {
            for (const agent of ['older', 'newer']) {
              const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
                `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE last_chains('${agent}', 10)`,
              );
              const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
              expect({ analyzed, mode, agent, scanned: rowsScanned(plan) }).toEqual({
                analyzed,
                mode,
                agent,
                scanned: 10,
              });
            }
          } finally {
            await client.query('DEALLOCATE last_chains');
          }
        }
      }
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
    }
    const loaded = await s.loadReasoningChains('older', 10);
    expect(loaded.map((chain) => chain.step)).toEqual([590, 591, 592, 593, 594, 595, 596, 597, 598, 599]);
    const last = await s.loadSequencedReasoningChains('newer', { limit: 3 });
    expect(last.map((chain) => chain.chain.step)).toEqual([597, 598, 599]);
  });
});
