/**
 * Case-insensitive and Unicode-normalising file systems (macOS, Windows), through a fake
 * folding layer over a real temp folder: keys differing only by case keep their own files,
 * ids whose folder would be another id's are refused, and a case-sensitive folder is unchanged.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import fse from 'fs-extra';
import { FileStorage } from '../../src/backends/file/index.js';
import {
  assumedNameFolding,
  EXACT_NAMES,
  probeNameFolding,
  SYSTEM_ENTRY_NAMES,
} from '../../src/backends/file/name-folding.js';
import { InvalidIdError, type JsonObject } from '../../src/core/index.js';
import { APFS_LIKE, type FakeFolding, foldingEntryNames, NTFS_LIKE } from './folding-names.js';
import { filesIn, makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

const opened: FileStorage[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((storage) => storage.shutdown()));
  await shutdownAll();
});
afterAll(removeTempDirs);

/** A store whose every name goes through the fake folding layer. */
async function openFolding(fake: FakeFolding = NTFS_LIKE): Promise<FileStorage> {
  const storage = new FileStorage({ baseDir: await makeTempDir() }, { entryNames: foldingEntryNames(fake) });
  await storage.initialize();
  opened.push(storage);
  return storage;
}

const hashedName = (key: string): string =>
  `${key}~${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}.json`;

/** Every file of a keyed folder with the key recorded inside it. */
async function keysInFiles(dir: string, field: 'cache_key' | 'state_key'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await filesIn(dir)) {
    out[name] = ((await fse.readJson(path.join(dir, name))) as Record<string, string>)[field] as string;
  }
  return out;
}

describe('the start-up name probe', () => {
  it('finds what the fake file systems fold, and leaves no probe file behind', async () => {
    for (const [fake, expected] of [
      [NTFS_LIKE, { caseInsensitive: true, normalizationInsensitive: false, preservesNormalization: true }],
      [APFS_LIKE, { caseInsensitive: true, normalizationInsensitive: true, preservesNormalization: true }],
      [{ caseInsensitive: false, normalizationInsensitive: false }, EXACT_NAMES],
    ] as const) {
      const dir = await makeTempDir();
      expect(await probeNameFolding(dir, foldingEntryNames(fake))).toEqual(expected);
      expect(await filesIn(dir)).toEqual([]);
    }
  });

  (process.platform === 'linux' ? it : it.skip)('finds a Linux temp folder exact', async () => {
    expect(await probeNameFolding(await makeTempDir(), SYSTEM_ENTRY_NAMES)).toEqual(EXACT_NAMES);
  });

  it('assumes folding on macOS and Windows where it cannot probe (a read-only open)', () => {
    expect(assumedNameFolding('darwin')).toMatchObject({
      caseInsensitive: true,
      normalizationInsensitive: true,
    });
    expect(assumedNameFolding('win32')).toMatchObject({
      caseInsensitive: true,
      normalizationInsensitive: false,
    });
    expect(assumedNameFolding('linux')).toEqual(EXACT_NAMES);
  });
});

describe('keys differing only by case on a case-insensitive folder', () => {
  it.each([
    ['cache', ['Key', 'key']],
    ['cache', ['key', 'Key']],
    ['state', ['Key', 'key']],
    ['state', ['key', 'Key']],
  ] as const)(
    'keeps %s keys %j apart: the first keeps {key}.json, the twin takes its hashed name',
    async (kind, order) => {
      const storage = await openFolding();
      const [first, second] = order;
      const store = (key: string, data: JsonObject) =>
        kind === 'cache' ? storage.storeCacheEntry(key, data) : storage.storeSystemState(key, data);
      const load = (key: string) =>
        kind === 'cache' ? storage.loadCacheEntry(key) : storage.loadSystemState(key);
      const list = () => (kind === 'cache' ? storage.listCacheKeys() : storage.listSystemStateKeys());
      for (const round of [1, 2]) {
        for (const key of order) await store(key, { key, round });
        for (const key of order) expect(await load(key)).toEqual({ key, round });
        expect(await list()).toEqual(['Key', 'key']);
      }
      const dir = path.join(storage.baseDir, kind === 'cache' ? 'cache' : 'system');
      const live = Object.entries(
        await keysInFiles(dir, kind === 'cache' ? 'cache_key' : 'state_key'),
      ).filter(([name]) => !name.includes('.backup'));
      expect(Object.fromEntries(live)).toEqual({ [`${first}.json`]: first, [hashedName(second)]: second });
      const stats = await storage.getStorageStats();
      expect(kind === 'cache' ? stats.cache_entry_count : stats.system_state_count).toBe(2);

      // Deleting the twin leaves the first alone; deleting the first frees the name for the twin.
      const remove = (key: string) =>
        kind === 'cache' ? storage.deleteCacheEntry(key) : storage.deleteSystemState(key);
      await remove(second);
      expect(await load(first)).toEqual({ key: first, round: 2 });
      await store(second, { key: second, round: 3 });
      await remove(first);
      expect(await load(second)).toEqual({ key: second, round: 3 });
      await store(second, { key: second, round: 4 }); // moves to the reference name, one file per key
      expect(await load(second)).toEqual({ key: second, round: 4 });
      expect((await filesIn(dir)).filter((name) => !name.includes('.backup'))).toEqual([`${second}.json`]);
      expect(await list()).toEqual([second]);
    },
  );

  it('keeps non-plain look-alikes and a plain key apart whatever their case', async () => {
    const storage = await openFolding();
    const keys = ['Chunk:A', 'chunk:a', 'chunk_a', 'CHUNK_A'];
    for (const round of [1, 2]) {
      for (const key of keys) await storage.storeCacheEntry(key, { key, round });
      for (const key of keys) expect(await storage.loadCacheEntry(key)).toEqual({ key, round });
    }
    expect(await storage.listCacheKeys()).toEqual([...keys].sort());
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toHaveLength(keys.length);
  });
  it('reads and lists a key whose file kept another spelling on disk', async () => {
    const storage = await openFolding();
    const record = {
      cache_key: 'Abc',
      data: { v: 1 },
      stored_at: '2025-01-01T00:00:00+00:00',
      expires_at: null,
    };
    await fse.writeJson(path.join(storage.baseDir, 'cache', 'abc.json'), record);
    expect(await storage.loadCacheEntry('Abc')).toEqual({ v: 1 });
    expect(await storage.listCacheKeys()).toEqual(['Abc']);
    await storage.storeCacheEntry('abc', { v: 2 }); // the twin: its hashed name, nothing moves
    expect(await storage.loadCacheEntry('Abc')).toEqual({ v: 1 });
    expect(await storage.loadCacheEntry('abc')).toEqual({ v: 2 });
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toEqual(['abc.json', hashedName('abc')]);
  });

  it("neither replaces nor deletes a corrupt file that may be a case twin's", async () => {
    const storage = await openFolding();
    const corrupt = path.join(storage.baseDir, 'system', 'abc.json');
    await fse.writeFile(corrupt, '{ not json');
    await storage.storeSystemState('Abc', { mine: true });
    expect(await storage.loadSystemState('Abc')).toEqual({ mine: true });
    await storage.deleteSystemState('Abc');
    expect(await fse.readFile(corrupt, 'utf8')).toBe('{ not json');
    expect(await filesIn(path.join(storage.baseDir, 'system'))).toEqual(['abc.json']);
  });
});

describe('conversation and agent ids sharing a folder on a folding file system', () => {
  it('refuses a conversation id whose folder is another id’s, naming both, and keeps the first intact', async () => {
    const storage = await openFolding();
    await storage.storeConversation('conv', { title: 'first' });
    await storage.storeMemory('conv', 'm1', { text: 'kept' });
    await storage.storeRawMessages('conv', [{ role: 'user' }]);
    await storage.storeChunkInfo('conv', { chunks: 1 });
    const writes = [
      () => storage.storeConversation('Conv', { title: 'second' }),
      () => storage.storeMemory('Conv', 'm1', { text: 'other' }),
      () => storage.storeRawMessages('Conv', []),
      () => storage.storeChunkInfo('Conv', { chunks: 2 }),
    ];
    for (const write of writes) {
      const error = await write().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidIdError);
      expect((error as InvalidIdError).field).toBe('conversationId');
      expect((error as Error).message).toContain('"Conv"');
      expect((error as Error).message).toContain('"conv"');
    }
    // Reads of the twin find nothing; deleting it deletes nothing.
    expect(await storage.loadConversation('Conv')).toBeNull();
    expect(await storage.loadMemories('Conv')).toEqual([]);
    expect(await storage.loadRawMessages('Conv')).toEqual([]);
    expect(await storage.loadChunkInfo('Conv')).toBeNull();
    await storage.deleteConversation('Conv');
    expect(await storage.loadConversation('conv')).toEqual({ title: 'first' });
    expect(await storage.loadMemories('conv')).toMatchObject([{ memory_id: 'm1', text: 'kept' }]);
    expect(await storage.loadRawMessages('conv')).toEqual([{ role: 'user' }]);
    expect(await storage.loadChunkInfo('conv')).toEqual({ chunks: 1 });
    expect(await storage.listAllConversationIds()).toEqual(['conv']);
    // Once the first is gone, the other spelling is free.
    await storage.deleteConversation('conv');
    await storage.storeConversation('Conv', { title: 'second' });
    expect(await storage.listConversations()).toEqual(['Conv']);
  });

  it('refuses an agent id whose folder is another id’s', async () => {
    const storage = await openFolding();
    await storage.storeReasoningChain('agent', { step: 1 });
    const error = await storage.storeReasoningChain('AGENT', { step: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidIdError);
    expect((error as InvalidIdError).field).toBe('agentId');
    expect((error as Error).message).toMatch(/"AGENT".*"agent"/);
    expect(await storage.loadReasoningChains('AGENT')).toEqual([]);
    expect(await storage.loadReasoningChains('agent')).toMatchObject([{ step: 1 }]);
    expect(await storage.listAgents()).toEqual(['agent']);
  });

  it('refuses the NFD form of an NFC id where the file system normalises (APFS)', async () => {
    const storage = await openFolding(APFS_LIKE);
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    await storage.storeConversation(nfc, { form: 'NFC' });
    await expect(storage.storeConversation(nfd, { form: 'NFD' })).rejects.toBeInstanceOf(InvalidIdError);
    await expect(storage.storeConversation('CAF\u00c9', { form: 'upper' })).rejects.toBeInstanceOf(
      InvalidIdError,
    );
    expect(await storage.loadConversation(nfd)).toBeNull();
    expect(await storage.loadConversation(nfc)).toEqual({ form: 'NFC' });
  });

  it('keeps NFC and NFD ids apart where the file system ignores only case (NTFS)', async () => {
    const storage = await openFolding(NTFS_LIKE);
    await storage.storeConversation('caf\u00e9', { form: 'NFC' });
    await storage.storeConversation('cafe\u0301', { form: 'NFD' });
    expect(await storage.loadConversation('caf\u00e9')).toEqual({ form: 'NFC' });
    expect(await storage.loadConversation('cafe\u0301')).toEqual({ form: 'NFD' });
  });
});

describe('a case-sensitive folder', () => {
  it('stores case twins under the reference names and folders, as before', async () => {
    const storage = await openStore();
    for (const key of ['Key', 'key']) {
      await storage.storeCacheEntry(key, { key });
      await storage.storeSystemState(key, { key });
    }
    await storage.storeConversation('Conv', { id: 'Conv' });
    await storage.storeConversation('conv', { id: 'conv' });
    await storage.storeReasoningChain('Agent', { id: 'Agent' });
    await storage.storeReasoningChain('agent', { id: 'agent' });
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toEqual(['Key.json', 'key.json']);
    expect(await filesIn(path.join(storage.baseDir, 'system'))).toEqual(['Key.json', 'key.json']);
    expect(await filesIn(path.join(storage.baseDir, 'conversations'))).toEqual(['Conv', 'conv']);
    expect(await filesIn(path.join(storage.baseDir, 'agents'))).toEqual(['Agent', 'agent']);
    expect(await storage.loadConversation('Conv')).toEqual({ id: 'Conv' });
    expect(await storage.loadCacheEntry('Key')).toEqual({ key: 'Key' });
  });
});
