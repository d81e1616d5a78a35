/**
 * File backend: `deleteReasoningChains` clears a chains file that does not parse (nothing else
 * can through the API), as a delete of a readable one does (its backups, search index, vectors),
 * and the agent's later chains are numbered past every number that file could have held.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { CorruptChainsError, CorruptDataError } from '../../src/core/index.js';
import { createVectorStore } from '../../src/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** Cut off mid-write: 37 bytes, so at most 19 chains could have been in it. */
const BROKEN = '{"chains": [ {"stored_at": "2026-01-0';

const chainsFile = (baseDir: string): string =>
  path.join(baseDir, 'agents', 'agent', 'reasoning_chains.json');

describe('file backend: deleting reasoning chains that do not parse', () => {
  it('removes the file (and its backups) and numbers the next chain past every number it could hold', async () => {
    const storage = await openStore({ searchIndex: true });
    for (let n = 0; n < 3; n += 1) await storage.storeReasoningChain('agent', { text: `apple ${n}` });
    await storage.storeReasoningChain('other', { text: 'apple pie' });
    const file = chainsFile(storage.baseDir);
    await fse.writeFile(file, BROKEN);
    await expect(storage.search({ text: 'apple' })).rejects.toBeInstanceOf(CorruptDataError);

    await expect(storage.deleteReasoningChains('agent')).resolves.toBe(true);

    expect(await fse.pathExists(file)).toBe(false);
    // A delete keeps no copy of what it deleted (until 2026-12-06 the bytes were backed up).
    expect(await fse.pathExists(path.dirname(file))).toBe(false);
    expect(await storage.loadReasoningChains('agent')).toEqual([]);
    expect((await storage.getStorageStats()).corrupt_files).toEqual([]);
    const hits = await storage.search({ text: 'apple' });
    expect(hits.map((hit) => (hit.kind === 'reasoning_chains' ? hit.agentId : hit.kind))).toEqual(['other']);

    await storage.storeReasoningChain('agent', { text: 'after' });
    const [chain] = await storage.loadSequencedReasoningChains('agent');
    expect(chain?.sequence).toBe(Math.ceil(BROKEN.length / 2)); // first was 0
    expect(chain?.chain).toMatchObject({ text: 'after' });
  });

  it('counts from the sequence file: a trim before the damage moved the first number', async () => {
    const storage = await openStore({ createBackups: false });
    for (let n = 0; n < 5; n += 1) await storage.storeReasoningChain('agent', { n });
    expect(await storage.trimReasoningChains('agent', 2)).toBe(3); // the file holds 3 and 4
    await fse.writeFile(chainsFile(storage.baseDir), BROKEN);

    await storage.deleteReasoningChains('agent');
    expect(await storage.listAgents()).toEqual([]);
    await storage.storeReasoningChain('agent', { n: 5 });
    const sequences = (await storage.loadSequencedReasoningChains('agent')).map((item) => item.sequence);
    expect(sequences).toEqual([3 + Math.ceil(BROKEN.length / 2)]);
  });

  /** A store whose agent `agent` holds chain 1 (0 trimmed), its sequence file cut short. */
  async function withBrokenSequenceFile() {
    const storage = await openStore({ createBackups: false });
    await storage.storeReasoningChain('agent', { n: 0 });
    await storage.storeReasoningChain('agent', { n: 1 });
    await storage.trimReasoningChains('agent', 1);
    const sequenceDir = path.join(storage.baseDir, '.connectome-storage', 'chain-sequences');
    const [name] = await fse.readdir(sequenceDir);
    const sequenceFile = path.join(sequenceDir, name as string);
    await fse.writeFile(sequenceFile, '{"first": ');
    return { storage, sequenceFile };
  }

  it('is refused, naming both files, when the sequence file does not parse either', async () => {
    const { storage, sequenceFile } = await withBrokenSequenceFile();
    const file = chainsFile(storage.baseDir);
    await fse.writeFile(file, BROKEN);

    const error: unknown = await storage.deleteReasoningChains('agent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptChainsError);
    expect((error as CorruptChainsError).locations).toEqual([file, sequenceFile]);
    expect(await fse.readFile(file, 'utf8')).toBe(BROKEN);
  });

  it('names the agent when only its sequence file does not parse (the file is named by a hash)', async () => {
    const { storage, sequenceFile } = await withBrokenSequenceFile();

    for (const call of [
      storage.deleteReasoningChains('agent'),
      storage.loadSequencedReasoningChains('agent'),
    ]) {
      const error: unknown = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).location).toBe(sequenceFile);
      expect((error as Error).message).toContain('the chain sequence file of agent "agent"');
    }
    // The sequenced read's error is the CorruptChainsError its docs promise (a plain one before).
    const read: unknown = await storage.loadSequencedReasoningChains('agent').catch((e: unknown) => e);
    expect(read).toBeInstanceOf(CorruptChainsError);
    expect(read).toMatchObject({ agentId: 'agent', sequence: null, locations: [sequenceFile] });
    expect(await storage.loadReasoningChains('agent')).toEqual([expect.objectContaining({ n: 1 })]);
  });

  it('removes the vectors of the chains it could not read', async () => {
    const vectorStore = createVectorStore('memory');
    const storage = await openStore({ semantic: { vectorStore } });
    await storage.storeReasoningChain('agent', { text: 'apple pie' });
    await storage.storeReasoningChain('agent', { text: 'apple tart' });
    await storage.storeReasoningChain('agent2', { text: 'apple crumble' });
    await fse.writeFile(chainsFile(storage.baseDir), BROKEN);

    await storage.deleteReasoningChains('agent');
    expect((await vectorStore.listIds!({ limit: 100 })).items).toEqual(['c/agent2/0']);
  });
});
