/**
 * File backend: an agent's chain sequence file that does not parse (its chains file is fine)
 * fails a search that reaches its chains, naming the file; with `unreadable: 'skip'` the
 * agent's chains are left out, as a chains file that does not parse is (the numbers of its
 * hits cannot be told), and the search goes on through the native index and the scan alike.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { CorruptDataError, type SearchHit } from '../../src/core/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

const owner = (hit: SearchHit): string =>
  hit.kind === 'reasoning_chains' ? hit.agentId : hit.conversationId;

describe.each([true, false])(
  'file backend (searchIndex: %s): a chain sequence file that does not parse',
  (searchIndex) => {
    it("fails a search reaching the agent's chains; unreadable: 'skip' leaves them out and logs it", async () => {
      const warnings: Array<Record<string, unknown> | undefined> = [];
      const logger = {
        warn: (_message: string, details?: Record<string, unknown>) => warnings.push(details),
      };
      const storage = await openStore({ searchIndex, createBackups: false, logger });
      await storage.storeReasoningChain('agent', { text: 'apple banana pie' });
      await storage.storeReasoningChain('agent', { text: 'apple banana tart' });
      await storage.storeReasoningChain('agent', { text: 'apple banana cake' });
      await storage.trimReasoningChains('agent', 2); // writes the agent's sequence file
      await storage.storeReasoningChain('other', { text: 'apple crumble' });
      await storage.storeReasoningChain('other', { text: 'apple banana juice' });
      const sequenceDir = path.join(storage.baseDir, '.connectome-storage', 'chain-sequences');
      const [name] = await fse.readdir(sequenceDir);
      const sequenceFile = path.join(sequenceDir, name as string);
      await fse.writeFile(sequenceFile, '{"first": ');

      const error: unknown = await storage.search({ text: 'apple banana' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptDataError);
      expect((error as CorruptDataError).location).toBe(sequenceFile);

      for (const limit of [1, 2, 10]) {
        warnings.length = 0;
        const hits = await storage.search({ text: 'apple banana', limit, unreadable: 'skip' });
        expect(
          hits.map((hit) => `${owner(hit)}#${hit.kind === 'reasoning_chains' ? hit.sequence : ''}`),
        ).toEqual(['other#1', 'other#0'].slice(0, limit));
        expect(warnings).toEqual([
          expect.objectContaining({ kind: 'reasoning_chains', owner: 'agent', location: sequenceFile }),
        ]);
      }
    });
  },
);
