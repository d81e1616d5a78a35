/**
 * An agent hash (its `next` sequence counter) evicted while the agent's chains survived: no
 * negative sequence numbers, searches still find the survivors, and the next append numbers on
 * from them instead of from 0 (README, redis). With the index on, `next` comes back exactly from
 * the survivors' search docs; without it the survivors are numbered from 0. Evicted by `DEL` of
 * exactly that key, as an eviction would, on a private server.
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { bucketOf, KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { usePrivateStores } from './private-stores.js';

const chain = (word: string) => ({ steps: [`think ${word}`] });

/** An agent id in the same bucket as `agentId`, so its docs share that bucket's docs hash. */
function bucketMate(agentId: string): string {
  for (let i = 0; ; i += 1) {
    if (bucketOf('a', `other${i}`) === bucketOf('a', agentId)) return `other${i}`;
  }
}

describeWithService('redis')('redis chains whose agent hash was evicted', () => {
  const { raw, prefix, open } = usePrivateStores('eva');
  const agentHash = (agentId: string) => new KeyLayout(prefix()).agent(agentId).agent;
  const sequences = async (storage: RedisStorage, agentId: string) =>
    (await storage.loadSequencedReasoningChains(agentId)).map(({ sequence, chain: c }) => [
      sequence,
      c.steps,
    ]);
  const chainHits = async (storage: RedisStorage, text: string) =>
    (await storage.search({ text, kinds: ['reasoning_chains'] })).map((hit) =>
      hit.kind === 'reasoning_chains' ? [hit.agentId, hit.sequence, hit.record.steps] : [],
    );

  /** Five chains of `agentId` ("think alpha" .. "think echo"), trimmed to the last three (numbers 2-4). */
  async function seed(storage: RedisStorage, agentId: string): Promise<void> {
    for (const word of ['alpha', 'bravo', 'charlie', 'delta', 'echo'])
      await storage.storeReasoningChain(agentId, chain(word));
    expect(await storage.trimReasoningChains(agentId, 3)).toBe(2);
    expect(await raw().del(agentHash(agentId))).toBe(1);
  }

  it('with the index on, keeps the survivors numbers and numbers on after them', async () => {
    const storage = await open();
    // Ten chains (numbers 0-9) of another agent whose docs share the bucket's docs hash.
    const other = bucketMate('agent');
    await storage.appendReasoningChains(other, [
      chain('xray'),
      ...[...'123456789'].map((digit) => chain(`n${digit}`)),
    ]);
    await seed(storage, 'agent');
    const survivors = [
      [2, ['think charlie']],
      [3, ['think delta']],
      [4, ['think echo']],
    ];
    const readOnly = await open({ readOnly: true });
    expect(await sequences(readOnly, 'agent')).toEqual(survivors);
    expect(
      (await readOnly.loadSequencedReasoningChains('agent', { afterSequence: 3 })).map(
        ({ sequence }) => sequence,
      ),
    ).toEqual([4]);
    expect(await chainHits(readOnly, 'delta')).toEqual([['agent', 3, ['think delta']]]);
    expect(await raw().exists(agentHash('agent'))).toBe(0); // reads repair nothing

    await storage.storeReasoningChain('agent', chain('foxtrot'));
    await storage.appendReasoningChains('agent', [chain('golf'), chain('hotel')]);
    expect(await raw().hget(agentHash('agent'), 'next')).toBe('8');
    expect(await sequences(storage, 'agent')).toEqual([
      ...survivors,
      [5, ['think foxtrot']],
      [6, ['think golf']],
      [7, ['think hotel']],
    ]);
    expect(await chainHits(storage, 'charlie')).toEqual([['agent', 2, ['think charlie']]]);
    expect(await chainHits(storage, 'foxtrot')).toEqual([['agent', 5, ['think foxtrot']]]);
    expect(await chainHits(storage, 'xray')).toEqual([[other, 0, ['think xray']]]);

    // A trim and a delete after a loss drop exactly the survivors' docs.
    expect(await raw().del(agentHash('agent'))).toBe(1);
    expect(await storage.trimReasoningChains('agent', 2)).toBe(4);
    expect(await raw().hget(agentHash('agent'), 'next')).toBe('8');
    expect(await chainHits(storage, 'charlie')).toEqual([]);
    expect(await chainHits(storage, 'golf')).toEqual([['agent', 6, ['think golf']]]);
    expect(await raw().del(agentHash('agent'))).toBe(1);
    await storage.deleteReasoningChains('agent');
    expect(await chainHits(storage, 'hotel')).toEqual([]);
    expect((await storage.getStorageStats()).search_index_entries).toBe(10); // the other agent's
    await storage.storeReasoningChain('agent', chain('india'));
    expect(await sequences(storage, 'agent')).toEqual([[8, ['think india']]]);
    expect(await chainHits(storage, 'india')).toEqual([['agent', 8, ['think india']]]);
  });

  it('leaves the lost hash as it was when a write fails in its index phase', async () => {
    const storage = await open();
    await seed(storage, 'agent');
    // The postings of "think" (every chain has it) replaced by a key of the wrong type.
    const posting = `${new KeyLayout(prefix()).agent('agent').bucket.base}q:think`;
    expect(await raw().del(posting)).toBe(1);
    await raw().hset(posting, 'f', 'v');
    const survivors = [
      [2, ['think charlie']],
      [3, ['think delta']],
      [4, ['think echo']],
    ];
    await expect(storage.trimReasoningChains('agent', 1)).rejects.toBeInstanceOf(CorruptDataError);
    await expect(storage.deleteReasoningChains('agent')).rejects.toBeInstanceOf(CorruptDataError);
    expect(await raw().exists(agentHash('agent'))).toBe(0);
    expect(await sequences(storage, 'agent')).toEqual(survivors);
    // An append's index phase writes its doc before the postings (a rebuild drops such docs),
    // so only the hash is checked after it.
    await expect(storage.storeReasoningChain('agent', chain('foxtrot'))).rejects.toBeInstanceOf(
      CorruptDataError,
    );
    expect(await raw().exists(agentHash('agent'))).toBe(0);
    expect(await raw().llen(new KeyLayout(prefix()).agent('agent').chains)).toBe(3);
  });

  it('with searchIndex false, numbers the survivors from 0 and appends after them', async () => {
    const storage = await open({ searchIndex: false });
    await seed(storage, 'agent');
    expect(await sequences(storage, 'agent')).toEqual([
      [0, ['think charlie']],
      [1, ['think delta']],
      [2, ['think echo']],
    ]);
    await storage.storeReasoningChain('agent', chain('foxtrot'));
    expect(await sequences(storage, 'agent')).toEqual([
      [0, ['think charlie']],
      [1, ['think delta']],
      [2, ['think echo']],
      [3, ['think foxtrot']],
    ]);
    // A delete after another loss keeps the number it recovered: the next append is numbered after it.
    expect(await raw().del(agentHash('agent'))).toBe(1);
    await storage.deleteReasoningChains('agent');
    await storage.storeReasoningChain('agent', chain('golf'));
    expect(await sequences(storage, 'agent')).toEqual([[4, ['think golf']]]);
    const stats = await storage.getStorageStats();
    expect([stats.reasoning_chain_count, stats.agent_count]).toEqual([1, 1]);
  });

  it('finds the agent among docs whose ids need escaping in a match pattern', async () => {
    const storage = await open();
    const agentId = 'a*[?]b';
    await seed(storage, agentId);
    expect((await sequences(storage, agentId)).map(([sequence]) => sequence)).toEqual([2, 3, 4]);
    await storage.storeReasoningChain(agentId, chain('foxtrot'));
    expect((await sequences(storage, agentId)).map(([sequence]) => sequence)).toEqual([2, 3, 4, 5]);
  });
});
