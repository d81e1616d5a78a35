/**
 * An empty memory or chain list is no stored data, as an empty raw-message list is (see
 * empty-raw-lists.test.ts; the conformance suite checks the rule through the API on every
 * backend). This library removes `memories.json` with the last memory and
 * `reasoning_chains.json` with the last chain, but a file holding `[]` written by another
 * program (a hand edit, another tool, a script rewriting the reference's envelope) must not
 * list its conversation or agent, nor count the agent, as SQLite and PostgreSQL would not.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { CorruptDataError } from '../../src/core/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const STAMP = '2025-03-06T10:00:00.123000+00:00';

/** The reference's memories envelope, 2-space indented as it writes it. */
function memoriesFile(id: string, memories: unknown[]): string {
  const metadata = { last_updated: STAMP, memory_count: memories.length, conversation_id: id };
  return JSON.stringify({ memories, _metadata: metadata }, null, 2);
}

/** The reference's reasoning-chains envelope. */
function chainsFile(id: string, chains: unknown[]): string {
  const metadata = { last_updated: STAMP, chain_count: chains.length, agent_id: id };
  return JSON.stringify({ chains, _metadata: metadata }, null, 2);
}

describe('empty memory and chain lists written by another program', () => {
  it('list neither their conversation nor their agent, and the agent is not counted', async () => {
    const storage = await openStore({ createBackups: false });
    const memories = (id: string) => path.join(storage.baseDir, 'conversations', id, 'memories.json');
    const chains = (id: string) => path.join(storage.baseDir, 'agents', id, 'reasoning_chains.json');
    const long = 'ü'.repeat(127); // a long id: the envelope is still small enough to be read
    await fse.outputFile(memories('mem-empty'), memoriesFile('mem-empty', []));
    await fse.outputFile(memories(long), memoriesFile(long, []));
    const memory = { memory_id: 'm1', created_at: STAMP, text: 'kept' };
    await fse.outputFile(memories('mem-one'), memoriesFile('mem-one', [memory]));
    // Empty raw messages beside empty memories: still nothing stored.
    await fse.outputFile(memories('both-empty'), memoriesFile('both-empty', []));
    await fse.outputFile(
      path.join(storage.baseDir, 'conversations', 'both-empty', 'raw_messages.json'),
      JSON.stringify({ messages: [], _metadata: { stored_at: STAMP, message_count: 0 } }),
    );
    await fse.outputFile(chains('chains-empty'), chainsFile('chains-empty', []));
    await fse.outputFile(chains(long), chainsFile(long, []));
    await fse.outputFile(chains('chains-one'), chainsFile('chains-one', [{ stored_at: STAMP, step: 1 }]));
    // A file that does not parse is listed (and counted), so its load reports it.
    await fse.outputFile(chains('cut'), '{"chains": [');

    const check = async (s: typeof storage, ids: string[], agents: string[]) => {
      expect(await s.listAllConversationIds()).toEqual(ids);
      expect((await s.listAllConversationIds({ limit: 10 })).items).toEqual(ids);
      expect(await s.listAgents()).toEqual(agents);
      expect((await s.listAgents({ limit: 10 })).items).toEqual(agents);
      expect(await s.getStorageStats()).toMatchObject({ agent_count: agents.length });
    };
    await check(storage, ['mem-one'], ['chains-one', 'cut']);
    expect(await storage.getStorageStats()).toMatchObject({ memory_count: 1, reasoning_chain_count: 1 });
    expect(await storage.loadMemories('mem-empty')).toEqual([]);
    expect(await storage.loadReasoningChains('chains-empty')).toEqual([]);
    await expect(storage.loadReasoningChains('cut')).rejects.toBeInstanceOf(CorruptDataError);
    // Another instance (nothing counted yet in its process) sees the same.
    const other = await openStore({ baseDir: storage.baseDir, readOnly: true });
    await check(other, ['mem-one'], ['chains-one', 'cut']);

    // Files rewritten in place are seen (counts are kept by the file's identity).
    await fse.writeFile(memories('mem-one'), memoriesFile('mem-one', []));
    await fse.writeFile(chains('chains-one'), chainsFile('chains-one', []));
    await fse.writeFile(memories('mem-empty'), memoriesFile('mem-empty', [memory]));
    await fse.writeFile(chains('chains-empty'), chainsFile('chains-empty', [{ stored_at: STAMP }]));
    await check(storage, ['mem-empty'], ['chains-empty', 'cut']);
    await check(other, ['mem-empty'], ['chains-empty', 'cut']);

    // Written through the API, the ids are listed again; emptied, their files go.
    await storage.storeMemory('mem-one', 'm2', { text: 'back' });
    await storage.storeReasoningChain('chains-one', { step: 2 });
    await check(storage, ['mem-empty', 'mem-one'], ['chains-empty', 'chains-one', 'cut']);
    await storage.deleteMemory('mem-one', 'm2');
    expect(await storage.trimReasoningChains('chains-one', 0)).toBe(1);
    expect(await fse.pathExists(memories('mem-one'))).toBe(false);
    expect(await fse.pathExists(chains('chains-one'))).toBe(false);
    await check(storage, ['mem-empty'], ['chains-empty', 'cut']);
  });
});
