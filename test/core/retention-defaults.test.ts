/**
 * The retention layer's defaults, which a registered backend that does not override them gets:
 * chains numbered by position, a trim built on remove + append, the option reported as null.
 */
import { ReadOnlyError, ValidationError } from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

async function openStore(): Promise<InMemoryStorage> {
  const storage = new InMemoryStorage();
  await storage.initialize();
  return storage;
}

describe('retention defaults of a registered backend', () => {
  it('numbers chains by position and selects with limit and afterSequence', async () => {
    const s = await openStore();
    for (let n = 0; n < 5; n += 1) await s.storeReasoningChain('a', { n });
    const all = await s.loadSequencedReasoningChains('a');
    expect(all.map((item) => [item.sequence, item.chain.n])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(await s.loadSequencedReasoningChains('a', { limit: 2 })).toEqual(all.slice(3));
    expect(await s.loadSequencedReasoningChains('a', { afterSequence: 1, limit: 2 })).toEqual(
      all.slice(2, 4),
    );
    expect(s.maxReasoningChainsPerAgent).toBeNull();
  });

  it('trims by removing and appending the kept chains again, in order', async () => {
    const s = await openStore();
    for (let n = 0; n < 5; n += 1) await s.storeReasoningChain('a', { n });
    const before = await s.loadReasoningChains('a');
    expect(await s.trimReasoningChains('a', 2)).toBe(3);
    expect(await s.loadReasoningChains('a')).toEqual(before.slice(3));
    expect(await s.trimReasoningChains('a', 0)).toBe(2);
    expect(await s.listAgents()).toEqual([]);
  });

  it('validates before calling the backend, and a read-only backend refuses the trim', async () => {
    const s = await openStore();
    await expect(s.trimReasoningChains('a', -1)).rejects.toBeInstanceOf(ValidationError);
    class ReadOnlyMemory extends InMemoryStorage {
      override get isReadOnly(): boolean {
        return true;
      }
    }
    const readOnly = new ReadOnlyMemory();
    await readOnly.initialize();
    await expect(readOnly.trimReasoningChains('a', 1)).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(readOnly.loadSequencedReasoningChains('a')).resolves.toEqual([]);
  });
});
