/**
 * A record key of another Redis type (another program's data under the prefix) met by a
 * search through the index: with `unreadable: 'skip'` only the hits reading that key are left
 * out (and logged, naming it); without, the search fails with a `CorruptDataError` naming it.
 * Until 2026-12-06 the bucket's whole load failed with the server's `WRONGTYPE`, naming no
 * key, and `'skip'` lost every hit too.
 */
import type { RedisStorage } from '../../src/backends/redis/index.js';
import { KeyLayout } from '../../src/backends/redis/keys.js';
import { CorruptDataError, type SearchKind } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { useRedisStore } from './helpers.js';

/** Every kind (by default a search leaves out conversations and chunk infos). */
const KINDS: SearchKind[] = ['raw_messages', 'memories', 'reasoning_chains', 'conversations', 'chunk_info'];

/** Each hit as `<kind> <owner>`, sorted. */
async function hitsOf(s: RedisStorage, unreadable: 'skip' | 'fail'): Promise<string[]> {
  const hits = await s.search({ text: 'apple', kinds: KINDS, limit: 50, unreadable });
  return hits.map((h) => `${h.kind} ${h.kind === 'reasoning_chains' ? h.agentId : h.conversationId}`).sort();
}

/** Records matching "apple": c1's of every kind, c2's memory, a1's and a2's chains. */
async function seed(s: RedisStorage): Promise<void> {
  await s.storeConversation('c1', { text: 'apple conversation' });
  await s.storeRawMessages('c1', [{ text: 'apple raw' }]);
  await s.storeChunkInfo('c1', { text: 'apple chunk' });
  await s.storeMemory('c1', 'm1', { text: 'apple memory' });
  await s.storeMemory('c2', 'm1', { text: 'apple other memory' });
  await s.storeReasoningChain('a1', { text: 'apple chain' });
  await s.storeReasoningChain('a2', { text: 'apple other chain' });
}

const ALL = [
  'chunk_info c1',
  'conversations c1',
  'memories c1',
  'memories c2',
  'raw_messages c1',
  'reasoning_chains a1',
  'reasoning_chains a2',
];

/** The key replaced, the hit it leaves out, and that hit's kind and owner. */
const CASES: ReadonlyArray<[string, (k: KeyLayout) => string, SearchKind, string]> = [
  ['memory data hash', (k) => k.conversation('c1').memoryData, 'memories', 'c1'],
  ['memory created_at hash', (k) => k.conversation('c1').memoryCreated, 'memories', 'c1'],
  ['raw-message list', (k) => k.conversation('c1').raw, 'raw_messages', 'c1'],
  ['conversation string', (k) => k.conversation('c1').conversation, 'conversations', 'c1'],
  ['chunk info string', (k) => k.conversation('c1').chunks, 'chunk_info', 'c1'],
  ['chains list', (k) => k.agent('a1').chains, 'reasoning_chains', 'a1'],
  ['agent hash', (k) => k.agent('a1').agent, 'reasoning_chains', 'a1'],
];

describeWithService('redis')('redis search over record keys of another type', () => {
  const ctx = useRedisStore();

  it.each(CASES)('record key of another type: %s', async (_name, keyOf, kind, owner) => {
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const logger = { warn: (_message: string, details?: Record<string, unknown>) => warnings.push(details) };
    const s = await ctx.open({ logger });
    await seed(s);
    expect(await hitsOf(s, 'fail')).toEqual(ALL);
    const key = keyOf(new KeyLayout(ctx.prefix()));
    await ctx.raw().del(key);
    await ctx.raw().sadd(key, 'another program');

    const error = await hitsOf(s, 'fail').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptDataError);
    expect((error as Error).message).toContain(`${key} is a set`);

    warnings.length = 0;
    expect(await hitsOf(s, 'skip')).toEqual(ALL.filter((hit) => hit !== `${kind} ${owner}`));
    expect(warnings).toEqual([expect.objectContaining({ kind, owner })]);
    expect(warnings[0]!.reason).toContain(`${key} is a set`);
  });
});
