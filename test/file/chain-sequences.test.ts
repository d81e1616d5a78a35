/**
 * File backend: reasoning-chain sequence numbers live in the library's own folder, so the chains
 * file stays the reference's envelope; chains the reference appends are numbered on; a crash
 * between the two files of a trim leaves numbers that agree with the chains file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import type { JsonObject } from '../../src/core/index.js';
import {
  countReadsOf,
  FIXTURE_STORE,
  isBackup,
  listTree,
  makeTempDir,
  openStore,
  removeTempDirs,
  shutdownAll,
} from './helpers.js';

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const SEQUENCES_DIR = path.join('.connectome-storage', 'chain-sequences');

async function storeWithChains(count: number) {
  const storage = await openStore({ createBackups: false });
  for (let n = 0; n < count; n += 1) await storage.storeReasoningChain('agent', { n });
  return storage;
}

/** Appends a chain the way the Python reference does: read, append, rewrite the whole envelope. */
async function referenceAppend(baseDir: string, agentId: string, chain: JsonObject): Promise<void> {
  const file = path.join(baseDir, 'agents', agentId, 'reasoning_chains.json');
  const current = (await fse.pathExists(file))
    ? ((await fse.readJson(file)) as { chains: JsonObject[] }).chains
    : [];
  const chains = [...current, { stored_at: '2026-01-01T00:00:00.000000+00:00', ...chain }];
  await fse.outputJson(file, {
    chains,
    _metadata: {
      last_updated: '2026-01-01T00:00:00.000000+00:00',
      chain_count: chains.length,
      agent_id: agentId,
    },
  });
}

/** The one sequence file of the store (`.connectome-storage/chain-sequences/*.json`). */
async function sequenceFile(baseDir: string): Promise<string> {
  const names = await fse.readdir(path.join(baseDir, SEQUENCES_DIR));
  expect(names).toHaveLength(1);
  return path.join(baseDir, SEQUENCES_DIR, names[0] as string);
}

const hashOf = (chain: JsonObject): string =>
  createHash('sha256').update(JSON.stringify(chain)).digest('hex');

describe('file backend: reasoning-chain sequence numbers', () => {
  it('a trimmed agent keeps the reference envelope; the numbers live under .connectome-storage', async () => {
    const storage = await storeWithChains(5);
    await storage.trimReasoningChains('agent', 2);
    const file = path.join(storage.baseDir, 'agents', 'agent', 'reasoning_chains.json');
    const envelope = (await fse.readJson(file)) as JsonObject;
    expect(Object.keys(envelope)).toEqual(['chains', '_metadata']);
    expect(Object.keys(envelope._metadata as JsonObject)).toEqual([
      'last_updated',
      'chain_count',
      'agent_id',
    ]);
    expect(envelope.chains).toEqual(await storage.loadReasoningChains('agent'));
    expect(await listTree(path.join(storage.baseDir, 'agents'), (rel) => !isBackup(rel))).toEqual([
      'agent/reasoning_chains.json',
    ]);
    expect(await fse.readJson(await sequenceFile(storage.baseDir))).toEqual({ agent_id: 'agent', first: 3 });
  });

  it('numbers a store the reference wrote from 0, and chains the reference appends after ours', async () => {
    const baseDir = path.join(await makeTempDir(), 'store');
    await fse.copy(FIXTURE_STORE, baseDir);
    const storage = await openStore({ baseDir });
    const alpha = await storage.loadSequencedReasoningChains('agent_alpha');
    expect(alpha.map((item) => item.sequence)).toEqual([0, 1, 2, 3]);
    await storage.trimReasoningChains('agent_alpha', 1);
    await referenceAppend(baseDir, 'agent_alpha', { by: 'reference' });
    await storage.storeReasoningChain('agent_alpha', { by: 'us' });
    const after = await storage.loadSequencedReasoningChains('agent_alpha');
    expect(after.map((item) => [item.sequence, item.chain.by ?? item.chain.chain_id])).toEqual([
      [3, 'agent_alpha-3'],
      [4, 'reference'],
      [5, 'us'],
    ]);
    // After a delete, the reference starts a new file; its chains are numbered on too.
    await storage.deleteReasoningChains('agent_alpha');
    await referenceAppend(baseDir, 'agent_alpha', { by: 'reference again' });
    expect((await storage.loadSequencedReasoningChains('agent_alpha')).map((item) => item.sequence)).toEqual([
      6,
    ]);
  });

  it('a trim that crashed before replacing the chains file keeps the old numbers; the next write settles it', async () => {
    const storage = await storeWithChains(5);
    const chains = await storage.loadReasoningChains('agent');
    // The journal a trim to 3 writes first, as if the process died right after it.
    const agentFile = path.join(
      storage.baseDir,
      SEQUENCES_DIR,
      `${createHash('sha256').update('agent').digest('hex').slice(0, 32)}.json`,
    );
    const pending = { first: 2, length: 3, head: hashOf(chains[2]!), old_head: hashOf(chains[0]!) };
    await fse.outputJson(agentFile, { agent_id: 'agent', first: 0, pending });
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(await storage.trimReasoningChains('agent', 4)).toBe(1);
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([
      1, 2, 3, 4,
    ]);
    expect(await fse.readJson(agentFile)).toEqual({ agent_id: 'agent', first: 1 });
  });

  it('a trim that crashed after replacing the chains file reads the new numbers', async () => {
    const storage = await storeWithChains(5);
    const chains = await storage.loadReasoningChains('agent');
    await storage.trimReasoningChains('agent', 3);
    const file = await sequenceFile(storage.baseDir);
    // The sequence file as it was before the settle step.
    const pending = { first: 2, length: 3, head: hashOf(chains[2]!), old_head: hashOf(chains[0]!) };
    await fse.writeJson(file, { agent_id: 'agent', first: 0, pending });
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([2, 3, 4]);
    await storage.storeReasoningChain('agent', { n: 5 });
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([
      2, 3, 4, 5,
    ]);
    // The same for a delete that crashed after removing the file.
    const last = await storage.loadReasoningChains('agent');
    await storage.deleteReasoningChains('agent');
    await fse.writeJson(file, {
      agent_id: 'agent',
      first: 2,
      pending: { first: 6, length: 0, head: null, old_head: hashOf(last[0]!) },
    });
    await storage.storeReasoningChain('agent', { n: 6 });
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([6]);
  });

  it('a plain append does not read the sequence file; a trim does, and the numbers stay right', async () => {
    const storage = await storeWithChains(5);
    await storage.trimReasoningChains('agent', 3);
    const file = await sequenceFile(storage.baseDir);
    const reads = countReadsOf(file);
    for (let n = 5; n < 10; n += 1) await storage.storeReasoningChain('agent', { n });
    expect(reads()).toBe(0);
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(await storage.trimReasoningChains('agent', 4)).toBe(4);
    expect(reads()).toBeGreaterThan(1); // the sequenced load, then the trim
    expect((await storage.loadSequencedReasoningChains('agent')).map((c) => c.sequence)).toEqual([
      6, 7, 8, 9,
    ]);
  });
  /**
   * Makes `writer` trim the agent to its last 2 chains and append `{ n: 5 }` (journal, chains
   * file, settle, append) when another instance first opens a sequence file, that open waiting
   * for it: the reader then holds the chains as they were before, and the sequence file of after.
   * Returns whether the interleaving happened.
   */
  function overtakeAtSequenceRead(writer: Awaited<ReturnType<typeof openStore>>): () => boolean {
    const realOpen = fs.open;
    let overtake = true;
    jest.spyOn(fs, 'open').mockImplementation(((target: fs.PathLike, ...rest: unknown[]) => {
      const open = () => (realOpen as (...args: unknown[]) => void)(target, ...rest);
      if (!overtake || !String(target).includes(SEQUENCES_DIR)) return open();
      overtake = false;
      void writer
        .trimReasoningChains('agent', 2)
        .then(() => writer.storeReasoningChain('agent', { n: 5, text: 'walrus' }))
        .then(open, open);
      return undefined;
    }) as typeof fs.open);
    return () => !overtake;
  }

  it('a sequenced load that a trim by another instance overtakes numbers the chains it read as they were', async () => {
    const reader = await storeWithChains(5);
    const writer = await openStore({ baseDir: reader.baseDir, createBackups: false });
    await writer.trimReasoningChains('agent', 4); // the sequence file exists from here on: chains 1..4
    const overtaken = overtakeAtSequenceRead(writer);
    const loaded = await reader.loadSequencedReasoningChains('agent');
    expect(overtaken()).toBe(true);
    // Each chain's number is its `n` (appended in order from 0), whichever list was read.
    for (const { sequence, chain } of loaded) expect(sequence).toBe(chain.n);
    // A forward walk from there misses nothing and repeats nothing.
    const last = loaded.at(-1)?.sequence ?? -1;
    const rest = await reader.loadSequencedReasoningChains('agent', { afterSequence: last });
    expect([...loaded, ...rest].map((c) => c.chain.n).filter((n) => (n as number) >= 3)).toEqual([3, 4, 5]);
  });

  it('a search that a trim by another instance overtakes numbers its chain hits as loads do', async () => {
    const reader = await openStore({ createBackups: false });
    for (let n = 0; n < 5; n += 1) await reader.storeReasoningChain('agent', { n, text: 'walrus' });
    const writer = await openStore({ baseDir: reader.baseDir, createBackups: false });
    await writer.trimReasoningChains('agent', 4); // chains 1..4, numbered from 1
    // The search has read the chains file (its hits' records) when it reads the sequence file.
    const overtaken = overtakeAtSequenceRead(writer);
    const hits = await reader.search({ text: 'walrus', kinds: ['reasoning_chains'], limit: 10 });
    expect(overtaken()).toBe(true);
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      if (hit.kind !== 'reasoning_chains') throw new Error(`unexpected hit ${hit.kind}`);
      expect(hit.sequence).toBe((hit.record as JsonObject).n);
    }
  });

  describe('an interrupted append-with-trim of chains whose first ones are equal', () => {
    /** An agent holding two identical chains (a batch gives its chains one `stored_at`), at most 2 kept. */
    async function twinChains() {
      const storage = await openStore({ createBackups: false, maxReasoningChainsPerAgent: 2 });
      await storage.appendReasoningChains('agent', [{ step: 'same' }, { step: 'same' }]);
      const [a, b] = await storage.loadReasoningChains('agent');
      expect(a).toEqual(b);
      return storage;
    }

    /** Fails the `nth` (from 1) rename onto a file whose path ends with `suffix`; the others go through. */
    function failRename(suffix: string, nth: number): void {
      const realRename = fs.promises.rename;
      let seen = 0;
      jest.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
        if (String(to).endsWith(suffix) && (seen += 1) === nth) throw new Error('EIO: injected');
        return realRename(from, to);
      });
    }

    const sequences = async (storage: Awaited<ReturnType<typeof twinChains>>) =>
      (await storage.loadSequencedReasoningChains('agent')).map((c) => [c.sequence, c.chain.step]);

    it('keeps the old numbers when the chains file was not replaced', async () => {
      const storage = await twinChains();
      failRename('reasoning_chains.json', 1); // the journal is written, the chains file is not
      await expect(storage.storeReasoningChain('agent', { step: 'B' })).rejects.toThrow('injected');
      jest.restoreAllMocks();
      expect(await sequences(storage)).toEqual([
        [0, 'same'],
        [1, 'same'],
      ]);
      await storage.storeReasoningChain('agent', { step: 'C' });
      expect(await sequences(storage)).toEqual([
        [1, 'same'],
        [2, 'C'],
      ]);
    });

    it('reads the new numbers when only the settle step failed, and the call resolves (it landed)', async () => {
      const storage = await twinChains();
      failRename('.json', 3); // journal, chains file, then the settle of the sequence file
      // Until 2026-12-03 it rejected, so a caller's retry appended the chain a second time.
      await expect(storage.storeReasoningChain('agent', { step: 'B' })).resolves.toBe(true);
      jest.restoreAllMocks();
      const file = await sequenceFile(storage.baseDir);
      expect((await fse.readJson(file)) as JsonObject).toHaveProperty('pending');
      expect(await sequences(storage)).toEqual([
        [1, 'same'],
        [2, 'B'],
      ]);
      await storage.storeReasoningChain('agent', { step: 'C' });
      expect(await sequences(storage)).toEqual([
        [2, 'B'],
        [3, 'C'],
      ]);
    });
  });
});
