/**
 * What sits in `conversations/` and `agents/` besides this library's folders: a stray file (a
 * `.DS_Store`, a note).
 * The listings (whole and paged), the stats and the loads must tell the same story about each.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileStorage } from '../../src/backends/file/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** Every conversation and agent listing, whole and walked in pages of one. */
async function listings(s: FileStorage): Promise<Record<string, string[]>> {
  const walk = async (listing: 'conversations' | 'allConversationIds' | 'agents'): Promise<string[]> => {
    const ids: string[] = [];
    for await (const id of s.iterate(listing, { pageSize: 1 })) ids.push(id);
    return ids;
  };
  return {
    conversations: await s.listConversations(),
    allConversationIds: await s.listAllConversationIds(),
    agents: await s.listAgents(),
    conversationPages: await walk('conversations'),
    allConversationIdPages: await walk('allConversationIds'),
    agentPages: await walk('agents'),
  };
}

/** The stats' conversation and agent counts. */
async function counts(s: FileStorage): Promise<Record<string, number>> {
  const stats = await s.getStorageStats();
  return {
    conversation_count: stats.conversation_count,
    memory_count: stats.memory_count,
    chunk_info_count: stats.chunk_info_count,
    agent_count: stats.agent_count,
    reasoning_chain_count: stats.reasoning_chain_count,
  };
}

describe('file backend: stray entries beside the data folders', () => {
  it('neither lists nor counts a plain file in conversations/ or agents/', async () => {
    const s = await openStore();
    await s.storeConversation('c1', { title: 't' });
    await s.storeReasoningChain('a1', { step: 1 });
    // Finder leaves one in every folder it shows; it holds no conversation and no agent.
    fs.writeFileSync(path.join(s.baseDir, 'conversations', '.DS_Store'), 'x');
    fs.writeFileSync(path.join(s.baseDir, 'agents', '.DS_Store'), 'x');
    expect(await listings(s)).toEqual({
      conversations: ['c1'],
      allConversationIds: ['c1'],
      agents: ['a1'],
      conversationPages: ['c1'],
      allConversationIdPages: ['c1'],
      agentPages: ['a1'],
    });
    expect(await counts(s)).toEqual({
      conversation_count: 1,
      memory_count: 0,
      chunk_info_count: 0,
      agent_count: 1,
      reasoning_chain_count: 1,
    });
  });
});
