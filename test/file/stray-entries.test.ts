/**
 * What sits in `conversations/` and `agents/` besides this library's folders: a stray file (a
 * `.DS_Store`, a note), a symbolic link to a folder, a link to nothing where a data file belongs.
 * The listings (whole and paged), the stats and the loads must tell the same story about each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StorageError } from '../../src/core/index.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

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

const describePosix = process.platform === 'win32' ? describe.skip : describe;

/** What every per-id read and delete answers for `id` (as conversation and as agent). */
async function readsAndDeletes(s: FileStorage, id: string): Promise<Record<string, unknown>> {
  return {
    conversation: await s.loadConversation(id),
    rawMessages: await s.loadRawMessages(id),
    memories: await s.loadMemories(id),
    chunkInfo: await s.loadChunkInfo(id),
    chains: await s.loadReasoningChains(id),
    lastChain: await s.loadReasoningChains(id, 1),
    sequenced: await s.loadSequencedReasoningChains(id),
    sequencedAfter: await s.loadSequencedReasoningChains(id, { afterSequence: -1, limit: 1 }),
    batch: (await s.loadConversationBatch([id])).map((item) => ({ ...item, conversationId: '' })),
    searchConversation: await s.search({ text: 'stray', conversationId: id }),
    searchAgent: await s.search({ text: 'stray', agentId: id }),
    deleteMemory: await s.deleteMemory(id, 'm1'),
    trim: await s.trimReasoningChains(id, 0),
    deleteChains: await s.deleteReasoningChains(id),
    deleteConversation: await s.deleteConversation(id),
  };
}

/** Writes a stray file at `conversations/note` and `agents/note`; returns their paths. */
function strayFiles(s: FileStorage): string[] {
  const files = [path.join(s.baseDir, 'conversations', 'note'), path.join(s.baseDir, 'agents', 'note')];
  for (const file of files) fs.writeFileSync(file, 'stray words');
  return files;
}

/** Each file's content (`null`: gone, or no longer a plain file). */
const contents = (files: string[]): Array<string | null> =>
  files.map((file) =>
    fs.lstatSync(file, { throwIfNoEntry: false })?.isFile() ? fs.readFileSync(file, 'utf8') : null,
  );

describe("file backend: a stray file where an id's folder belongs", () => {
  it('reads and deletes answer as for an absent id and leave the file alone', async () => {
    const s = await openStore();
    await s.storeMemory('c1', 'm1', { text: 'stray words elsewhere' });
    await s.storeReasoningChain('a1', { text: 'stray words elsewhere' });
    const files = strayFiles(s);
    // Until 2026-12-04 deleteReasoningChains threw ENOTDIR and deleteConversation removed the file.
    expect(await readsAndDeletes(s, 'note')).toEqual(await readsAndDeletes(s, 'absent'));
    expect(contents(files)).toEqual(['stray words', 'stray words']);
    expect(await s.loadMemories('c1')).toHaveLength(1);
  });

  it('a write fails with a StorageError naming the file, which stays as it was', async () => {
    const s = await openStore();
    const files = strayFiles(s);
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['conversations', () => s.storeConversation('note', { title: 't' })],
      ['conversations', () => s.storeRawMessages('note', ['hi'])],
      ['conversations', () => s.storeMemory('note', 'm1', { text: 'x' })],
      ['conversations', () => s.storeMemories('note', [{ memoryId: 'm1', data: { text: 'x' } }])],
      ['conversations', () => s.storeChunkInfo('note', { chunks: 1 })],
      ['conversations', () => s.storeConversationBatch([{ conversationId: 'note', conversation: {} }])],
      ['agents', () => s.storeReasoningChain('note', { step: 1 })],
      ['agents', () => s.appendReasoningChains('note', [{ step: 1 }, { step: 2 }])],
    ];
    for (const [folder, write] of writes) {
      const error = await write().then(
        () => new Error('the write resolved'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as Error).message).toBe(
        `Cannot write in ${path.join(s.baseDir, folder, 'note')}: it is a file, not the folder this ` +
          'library keeps there; the file is left as it is (move it away to store data there)',
      );
    }
    expect(contents(files)).toEqual(['stray words', 'stray words']);
    expect(await listings(s)).toMatchObject({ conversations: [], agents: [] });
  });
});

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

describePosix('file backend: symbolic links beside and inside the data folders', () => {
  it('counts a conversation or agent folder that is a link as it lists and loads it', async () => {
    const elsewhere = await openStore();
    await elsewhere.storeConversation('c1', { title: 't' });
    await elsewhere.storeMemory('c1', 'm1', { text: 'one' });
    await elsewhere.storeChunkInfo('c1', { chunks: 1 });
    await elsewhere.appendReasoningChains('a1', [{ step: 1 }, { step: 2 }]);
    const s = await openStore();
    fs.symlinkSync(
      path.join(elsewhere.baseDir, 'conversations', 'c1'),
      path.join(s.baseDir, 'conversations', 'c1'),
    );
    fs.symlinkSync(path.join(elsewhere.baseDir, 'agents', 'a1'), path.join(s.baseDir, 'agents', 'a1'));
    expect(await s.loadConversation('c1')).toEqual({ title: 't' });
    expect(await s.loadMemories('c1')).toHaveLength(1);
    expect(await s.loadReasoningChains('a1')).toHaveLength(2);
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
      memory_count: 1,
      chunk_info_count: 1,
      agent_count: 1,
      reasoning_chain_count: 2,
    });
  });

  it('deleteConversation leaves a link to a file or to nothing in place of the folder', async () => {
    const s = await openStore();
    const target = path.join(await makeTempDir(), 'note.txt');
    fs.writeFileSync(target, 'kept');
    const toFile = path.join(s.baseDir, 'conversations', 'c1');
    const toNothing = path.join(s.baseDir, 'conversations', 'c2');
    fs.symlinkSync(target, toFile);
    fs.symlinkSync(path.join(path.dirname(target), 'gone'), toNothing);
    expect(await s.deleteConversation('c1')).toBe(true);
    expect(await s.deleteConversation('c2')).toBe(true);
    expect(fs.readlinkSync(toFile)).toBe(target);
    expect(fs.readlinkSync(toNothing)).toBe(path.join(path.dirname(target), 'gone'));
    expect(fs.readFileSync(target, 'utf8')).toBe('kept');
  });

  it('neither lists nor counts a link to nothing in place of a conversation or chunk info file', async () => {
    const s = await openStore();
    const missing = path.join(await makeTempDir(), 'gone.json');
    for (const [id, file] of [
      ['c1', 'current.json'],
      ['c2', 'chunks.json'],
    ]) {
      const folder = path.join(s.baseDir, 'conversations', id as string);
      fs.mkdirSync(folder);
      fs.symlinkSync(missing, path.join(folder, file as string));
    }
    expect(await s.loadConversation('c1')).toBeNull();
    expect(await s.loadChunkInfo('c2')).toBeNull();
    expect(await listings(s)).toEqual({
      conversations: [],
      allConversationIds: [],
      agents: [],
      conversationPages: [],
      allConversationIdPages: [],
      agentPages: [],
    });
    expect(await counts(s)).toEqual({
      conversation_count: 0,
      memory_count: 0,
      chunk_info_count: 0,
      agent_count: 0,
      reasoning_chain_count: 0,
    });
  });
});
