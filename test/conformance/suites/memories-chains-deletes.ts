/** Conformance: `deleteMemory` and `deleteReasoningChains` (issue 12, deletes). */
import { InvalidIdError, type StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const HOSTILE_IDS: unknown[] = [
  '',
  '..',
  '../escape',
  'a/b',
  'nul\u0000byte',
  'lone\udc00surrogate',
  42,
  null,
];

interface Counts {
  memory_count: number;
  reasoning_chain_count: number;
  agent_count: number;
  conversation_count: number;
}

async function counts(s: StorageInterface): Promise<Counts> {
  const { memory_count, reasoning_chain_count, agent_count, conversation_count } = await s.getStorageStats();
  return { memory_count, reasoning_chain_count, agent_count, conversation_count };
}

/** A read-only instance on the test's store, where the store outlives its instances (not SQLite :memory:). */
async function openReadOnly(ctx: SuiteContext): Promise<StorageInterface | null> {
  return ctx.harness.sharedStore ? ctx.openAnother({ readOnly: true }) : null;
}

/** Registered inside the `memories` describe. */
export function memoryDeleteTests(ctx: SuiteContext): void {
  describe('deleteMemory', () => {
    it('removes one memory; the others keep their order and data', async () => {
      const s = ctx.storage();
      for (const id of ['m1', 'm2', 'm3']) await s.storeMemory('c1', id, { text: id, nested: [id] });
      await s.storeMemory('c2', 'm2', { text: 'other conversation' });
      const before = await s.loadMemories('c1');
      const stats = await counts(s);
      await expect(s.deleteMemory('c1', 'm2')).resolves.toBe(true);
      expect(await s.loadMemories('c1')).toEqual([before[0], before[2]]);
      expect((await s.loadMemories('c2')).map((m) => m.text)).toEqual(['other conversation']);
      expect(await counts(s)).toEqual({ ...stats, memory_count: stats.memory_count - 1 });
    });

    it('is true and changes nothing for an absent memory or conversation', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'm1', { text: 'kept' });
      const before = await s.loadMemories('c1');
      const stats = await counts(s);
      await expect(s.deleteMemory('c1', 'absent')).resolves.toBe(true);
      await expect(s.deleteMemory('nowhere', 'm1')).resolves.toBe(true);
      expect(await s.loadMemories('c1')).toEqual(before);
      expect(await s.loadMemories('nowhere')).toEqual([]);
      expect(await counts(s)).toEqual(stats);
      expect(await s.listAllConversationIds()).toEqual(['c1']);
    });

    it('deleting the last memory leaves the conversation as if it never had memories', async () => {
      const s = ctx.storage();
      await s.storeConversation('c1', { title: 'kept' });
      await s.storeMemory('c1', 'm1', { text: 'gone' });
      await s.storeMemory('only', 'm1', { text: 'gone too' });
      await s.deleteMemory('c1', 'm1');
      await s.deleteMemory('only', 'm1');
      expect(await s.loadMemories('c1')).toEqual([]);
      expect(await s.loadConversation('c1')).toEqual({ title: 'kept' });
      expect(await s.listAllConversationIds()).toEqual(['c1']);
      expect((await counts(s)).memory_count).toBe(0);
    });

    it('a re-stored deleted id is appended at the end', async () => {
      const s = ctx.storage();
      for (const id of ['m1', 'm2', 'm3']) await s.storeMemory('c1', id, { text: id });
      await s.deleteMemory('c1', 'm1');
      await s.storeMemory('c1', 'm1', { text: 'again' });
      const loaded = await s.loadMemories('c1');
      expect(loaded.map((m) => m.memory_id)).toEqual(['m2', 'm3', 'm1']);
      expect(loaded[2]?.text).toBe('again');
      expect((await counts(s)).memory_count).toBe(3);
    });

    it('refuses hostile ids with InvalidIdError before any I/O', async () => {
      const s = ctx.storage();
      await s.storeMemory('c1', 'm1', { text: 'kept' });
      for (const bad of HOSTILE_IDS) {
        await expect(s.deleteMemory(bad as string, 'm1')).rejects.toBeInstanceOf(InvalidIdError);
        await expect(s.deleteMemory('c1', bad as string)).rejects.toBeInstanceOf(InvalidIdError);
      }
      // Validation comes before the read-only check, so it comes before any I/O.
      const readOnly = await openReadOnly(ctx);
      if (readOnly) await expect(readOnly.deleteMemory('c1', '../m1')).rejects.toBeInstanceOf(InvalidIdError);
      expect((await s.loadMemories('c1')).map((m) => m.text)).toEqual(['kept']);
    });
  });
}

/** Registered inside the `reasoning chains` describe. */
export function chainDeleteTests(ctx: SuiteContext): void {
  describe('deleteReasoningChains', () => {
    it('removes every chain of that agent only, and it is no longer listed', async () => {
      const s = ctx.storage();
      for (const n of [1, 2, 3]) await s.storeReasoningChain('a1', { n });
      await s.storeReasoningChain('a2', { n: 'other' });
      const others = await s.loadReasoningChains('a2');
      const stats = await counts(s);
      await expect(s.deleteReasoningChains('a1')).resolves.toBe(true);
      expect(await s.loadReasoningChains('a1')).toEqual([]);
      expect(await s.loadReasoningChains('a1', 2)).toEqual([]);
      expect(await s.listAgents()).toEqual(['a2']);
      expect(await s.loadReasoningChains('a2')).toEqual(others);
      expect(await counts(s)).toEqual({
        ...stats,
        reasoning_chain_count: stats.reasoning_chain_count - 3,
        agent_count: stats.agent_count - 1,
      });
    });

    it('is true and changes nothing for an absent agent', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a1', { n: 1 });
      const stats = await counts(s);
      await expect(s.deleteReasoningChains('absent')).resolves.toBe(true);
      expect(await counts(s)).toEqual(stats);
      expect(await s.listAgents()).toEqual(['a1']);
    });

    it('appending after a delete starts a new list', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a1', { n: 1 });
      await s.storeReasoningChain('a1', { n: 2 });
      await s.deleteReasoningChains('a1');
      await s.storeReasoningChain('a1', { n: 3 });
      expect((await s.loadReasoningChains('a1')).map((c) => c.n)).toEqual([3]);
      expect(await s.listAgents()).toEqual(['a1']);
      expect(await counts(s)).toMatchObject({ reasoning_chain_count: 1, agent_count: 1 });
    });

    it('refuses hostile ids with InvalidIdError before any I/O', async () => {
      const s = ctx.storage();
      await s.storeReasoningChain('a1', { n: 1 });
      for (const bad of HOSTILE_IDS) {
        await expect(s.deleteReasoningChains(bad as string)).rejects.toBeInstanceOf(InvalidIdError);
      }
      const readOnly = await openReadOnly(ctx);
      if (readOnly)
        await expect(readOnly.deleteReasoningChains('../a1')).rejects.toBeInstanceOf(InvalidIdError);
      expect(await s.listAgents()).toEqual(['a1']);
    });
  });
}
