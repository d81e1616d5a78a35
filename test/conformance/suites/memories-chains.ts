/** Conformance: memories (order, replace in place, timestamps) and reasoning chains (append, limit). */
import { parseTimestamp, ValidationError } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';
import { chainDeleteTests, memoryDeleteTests } from './memories-chains-deletes.js';

const REFERENCE_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

function expectRecentTimestamp(value: unknown, before: number): void {
  expect(typeof value).toBe('string');
  expect(value).toMatch(REFERENCE_TIMESTAMP);
  const at = parseTimestamp(value as string) ?? NaN;
  expect(at).toBeGreaterThanOrEqual(before - 1);
  expect(at).toBeLessThanOrEqual(Date.now() + 1);
}

export function memoryAndChainTests(ctx: SuiteContext): void {
  describe('memories', () => {
    memoryDeleteTests(ctx);

    it('loads memories in insertion order with memory_id and created_at', async () => {
      const s = ctx.storage();
      const before = Date.now();
      for (const id of ['m3', 'm1', 'm2']) {
        await expect(
          s.storeMemory('c1', id, { text: `memory ${id}`, nested: { ok: [1, 'ü'] } }),
        ).resolves.toBe(true);
      }
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.memory_id)).toEqual(['m3', 'm1', 'm2']);
      for (const m of loaded) {
        expect(m).toMatchObject({ text: `memory ${String(m.memory_id)}`, nested: { ok: [1, 'ü'] } });
        expectRecentTimestamp(m.created_at, before);
      }
      expect(await s.loadMemories('other')).toEqual([]);
    });

    it('keeps insertion order even when the data carries older timestamps', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'late', { created_at: '2030-01-01T00:00:00.000000+00:00' });
      await s.storeMemory('c1', 'early', { created_at: '2001-01-01T00:00:00.000000+00:00' });
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.memory_id)).toEqual(['late', 'early']);
      expect(loaded.map((m) => m.created_at)).toEqual([
        '2030-01-01T00:00:00.000000+00:00',
        '2001-01-01T00:00:00.000000+00:00',
      ]);
    });

    it('replaces a memory with the same id in place, keeping its created_at (D7)', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'a', { v: 1 });
      await s.storeMemory('c1', 'b', { v: 1 });
      await s.storeMemory('c1', 'c', { v: 1 });
      const [, original] = await s.loadMemories('c1');
      await s.storeMemory('c1', 'b', { v: 2, extra: 'new' });
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.memory_id)).toEqual(['a', 'b', 'c']);
      expect(loaded[1]).toEqual({ memory_id: 'b', created_at: original?.created_at, v: 2, extra: 'new' });
    });

    it('takes the new created_at when the replacing data carries one (D8)', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'a', { v: 1 });
      await s.storeMemory('c1', 'a', { v: 2, created_at: '2024-05-01T12:00:00.000000+00:00' });
      expect(await s.loadMemories('c1')).toEqual([
        { memory_id: 'a', created_at: '2024-05-01T12:00:00.000000+00:00', v: 2 },
      ]);
    });

    it('keeps a created_at of any JSON type the caller provides (D8)', async () => {
      const s = ctx.storage();
      const values = [12345, null, { at: 'custom' }, ['x'], true, ''];
      for (const [i, createdAt] of values.entries())
        await s.storeMemory('c1', `m${i}`, { created_at: createdAt, i });
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.created_at)).toEqual(values);
      await s.storeMemory('c1', 'm0', { i: 'replaced' });
      expect((await s.loadMemories('c1'))[0]).toEqual({ memory_id: 'm0', created_at: 12345, i: 'replaced' });
    });

    it('lets the memoryId argument win over a memory_id field in the data', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'real', { memory_id: 'fake', v: 1 });
      const loaded = await s.loadMemories('c1');
      expect(loaded).toHaveLength(1);
      expect(loaded[0]?.memory_id).toBe('real');
    });

    it('keeps memories of different conversations apart, and ids are per conversation', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'm', { owner: 'c1' });
      await s.storeMemory('c2', 'm', { owner: 'c2' });
      expect((await s.loadMemories('c1')).map((m) => m.owner)).toEqual(['c1']);
      expect((await s.loadMemories('c2')).map((m) => m.owner)).toEqual(['c2']);
    });

    it('loses no memory under 50 concurrent stores on one instance', async () => {
      const s = ctx.storage();
      const ids = Array.from({ length: 50 }, (_, i) => `m${String(i).padStart(2, '0')}`);
      await Promise.all(ids.map((id) => s.storeMemory('c1', id, { id })));
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.memory_id).sort()).toEqual(ids);
    });

    // Separate in-memory stores share nothing, so this only applies to shared stores.
    (ctx.harness.sharedStore ? it : it.skip)(
      'loses no memory when two instances on one store write concurrently',
      async () => {
        const a = ctx.storage();
        const b = await ctx.openAnother();
        const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
        await Promise.all(ids.map((id, i) => (i % 2 ? a : b).storeMemory('c1', id, { id })));
        expect((await a.loadMemories('c1')).map((m) => m.memory_id).sort()).toEqual([...ids].sort());
        expect(await b.loadMemories('c1')).toHaveLength(40);
      },
    );

    it('upserts concurrently without duplicating an id', async () => {
      const s = ctx.storage();
      await Promise.all(Array.from({ length: 20 }, (_, i) => s.storeMemory('c1', 'same', { i })));
      const loaded = await s.loadMemories('c1');
      expect(loaded).toHaveLength(1);
      expect(loaded[0]?.memory_id).toBe('same');
    });
  });

  describe('reasoning chains', () => {
    chainDeleteTests(ctx);

    it('appends chains in order and adds stored_at', async () => {
      const s = ctx.storage();
      const before = Date.now();
      for (let i = 0; i < 4; i += 1) {
        await expect(
          s.storeReasoningChain('agent_a', { chain_id: i, steps: [{ thought: `t${i}` }] }),
        ).resolves.toBe(true);
      }
      const chains = await s.loadReasoningChains('agent_a');
      expect(chains.map((c) => c.chain_id)).toEqual([0, 1, 2, 3]);
      for (const c of chains) expectRecentTimestamp(c.stored_at, before);
      expect(await s.loadReasoningChains('nobody')).toEqual([]);
    });

    it('appends identical chains as separate records', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a', { same: true });
      await s.storeReasoningChain('a', { same: true });
      expect(await s.loadReasoningChains('a')).toHaveLength(2);
    });

    it('keeps a stored_at the caller provides (D8)', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a', { stored_at: '2020-02-02T02:02:02.000000+00:00', n: 1 });
      expect(await s.loadReasoningChains('a')).toEqual([
        { stored_at: '2020-02-02T02:02:02.000000+00:00', n: 1 },
      ]);
    });

    it('keeps a stored_at of any JSON type the caller provides (D8)', async () => {
      const s = ctx.storage();
      const values = [42, null, { at: 'custom' }, false];
      for (const storedAt of values) await s.storeReasoningChain('a', { stored_at: storedAt });
      expect((await s.loadReasoningChains('a')).map((c) => c.stored_at)).toEqual(values);
    });

    it('keeps a created_at / stored_at holding a lone surrogate exactly, in every write path (D8)', async () => {
      // SQLite's driver binds a column's text as UTF-8, which has no lone surrogate: until
      // 2026-12-06 such a timestamp came back with U+FFFD in its place.
      const [lone, low] = ['x\ud800', '\udc00'];
      const stores = [
        ctx.storage(), // fast paths with the index on
        await (await ctx.newStore()).open({ searchIndex: false }), // fast paths, index off
        await (await ctx.newStore()).open({ maxReasoningChainsPerAgent: 100 }), // general chain path
      ];
      for (const s of stores) {
        await s.storeMemory('c1', 'single', { created_at: lone, note: 'y\ud800' });
        await s.storeMemories('c1', [
          { memoryId: 'b1', data: { created_at: lone } },
          { memoryId: 'b2', data: { created_at: low } },
        ]);
        // A batch naming a stored id takes the general path; the replace keeps its created_at (D7).
        await s.storeMemories('c1', [
          { memoryId: 'single', data: { v: 'replaced' } },
          { memoryId: 'b3', data: { created_at: lone } },
        ]);
        await s.storeMemory('c1', 'b1', { v: 'replaced' });
        await s.storeConversationBatch([
          { conversationId: 'c2', memories: [{ memoryId: 'm', data: { created_at: lone } }] },
        ]);
        await s.storeReasoningChain('a1', { stored_at: lone, n: 0 });
        await s.appendReasoningChains('a1', [
          { stored_at: lone, n: 1 },
          { stored_at: low, n: 2 },
        ]);
        await s.appendReasoningChains('a1', [{ stored_at: lone, n: 3 }]);
        expect(await s.loadMemories('c1')).toEqual([
          { memory_id: 'single', created_at: lone, v: 'replaced' },
          { memory_id: 'b1', created_at: lone, v: 'replaced' },
          { memory_id: 'b2', created_at: low },
          { memory_id: 'b3', created_at: lone },
        ]);
        expect(await s.loadMemories('c2')).toEqual([{ memory_id: 'm', created_at: lone }]);
        expect(await s.loadReasoningChains('a1')).toEqual([
          { stored_at: lone, n: 0 },
          { stored_at: lone, n: 1 },
          { stored_at: low, n: 2 },
          { stored_at: lone, n: 3 },
        ]);
      }
    });

    it('returns the most recent `limit` chains, oldest first', async () => {
      const s = ctx.storage();
      for (let i = 0; i < 5; i += 1) await s.storeReasoningChain('a', { n: i });
      expect((await s.loadReasoningChains('a', 2)).map((c) => c.n)).toEqual([3, 4]);
      expect((await s.loadReasoningChains('a', 1)).map((c) => c.n)).toEqual([4]);
      expect((await s.loadReasoningChains('a', 50)).map((c) => c.n)).toEqual([0, 1, 2, 3, 4]);
      expect((await s.loadReasoningChains('a', undefined)).map((c) => c.n)).toEqual([0, 1, 2, 3, 4]);
    });

    it('refuses a limit that is not a positive integer (D5)', async () => {
      const s = ctx.storage();
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2']) {
        await expect(s.loadReasoningChains('a', bad as number)).rejects.toBeInstanceOf(ValidationError);
      }
    });

    it('lists agents in code point order', async () => {
      const s = ctx.storage();
      for (const agent of ['zeta', '😀', 'Alpha', '\uff01', 'beta', 'agent ü']) {
        await s.storeReasoningChain(agent, { agent });
      }
      expect(await s.listAgents()).toEqual(['Alpha', 'agent ü', 'beta', 'zeta', '\uff01', '😀']);
    });

    it('loses no chain under 50 concurrent appends, and none across two instances', async () => {
      const s = ctx.storage();
      await Promise.all(Array.from({ length: 50 }, (_, i) => s.storeReasoningChain('a', { i })));
      const chains = await s.loadReasoningChains('a');
      expect(chains.map((c) => c.i).sort((x, y) => Number(x) - Number(y))).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
      if (!ctx.harness.sharedStore) return;
      const other = await ctx.openAnother();
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? s : other).storeReasoningChain('b', { i })),
      );
      expect(await s.loadReasoningChains('b')).toHaveLength(30);
    });
  });
}
