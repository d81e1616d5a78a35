/**
 * Chain appends lock their agent per schema: stores in two schemas never wait for each other's
 * agents of the same name.
 */
import { describeWithService } from '../services.js';
import { ident, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres chain locks', () => {
  const ctx = usePostgresStore();

  it('appends to an agent while a store in another schema holds the same agent', async () => {
    const a = await ctx.open();
    const other = ctx.extraSchema();
    // Before the fix this append waited for `a`'s lock until its statement timeout.
    const b = await ctx.open({ schema: other, statementTimeoutMillis: 5000 });
    const raw = ctx.raw();
    // `a`'s insert stops in a trigger, holding its agent lock, until `holder` lets it go.
    const s = ident(ctx.schema());
    await raw.query(`CREATE FUNCTION ${s}.wait() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_advisory_xact_lock(424242, 1); RETURN NEW; END $$`);
    await raw.query(`CREATE TRIGGER wait BEFORE INSERT ON ${s}.reasoning_chains
      FOR EACH ROW EXECUTE FUNCTION ${s}.wait()`);
    const holder = await raw.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(424242, 1)');
      const held = a.storeReasoningChain('agent', { from: 'a' });
      // Until `a` waits in its trigger (it holds its agent lock from before the insert).
      for (;;) {
        const { rows } = await raw.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
          AND NOT granted AND classid = 424242 AND objid = 1 AND objsubid = 2`);
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await b.storeReasoningChain('agent', { from: 'b' });
      await b.appendReasoningChains('agent', [{ n: 1 }, { n: 2 }]);
      await holder.query('SELECT pg_advisory_unlock(424242, 1)');
      await held;
    } finally {
      // Destroyed rather than pooled: a session lock left by a failure goes with it.
      holder.release(true);
    }
    expect(await a.loadReasoningChains('agent')).toEqual([expect.objectContaining({ from: 'a' })]);
    expect((await b.loadReasoningChains('agent')).map((c) => c.from ?? c.n)).toEqual(['b', 1, 2]);
  });
});
