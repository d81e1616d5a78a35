/** Conformance harness for FileStorage: each store is a folder (created by its first open) in a fresh temp directory. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { type BackendHarness, BROKEN_JSON } from './harness.js';

export const fileHarness: BackendHarness = {
  name: 'file',
  breaksRecords: true,
  sharedStore: true,
  available: async () => true,
  async createStore() {
    const parent = await mkdtemp(join(tmpdir(), 'connectome-file-'));
    const baseDir = join(parent, 'store');
    return {
      async open(extraConfig = {}) {
        const storage = new FileStorage({ baseDir, ...extraConfig });
        await storage.initialize();
        return storage;
      },
      exists: async () => existsSync(baseDir),
      shownAs: [baseDir],
      cleanup: () => rm(parent, { recursive: true, force: true }),
      childSpec: { backend: 'file', config: { baseDir } },
      // The whole file cut off mid-record (a plain id is its folder's name), also for one
      // `record`: an owner's list of a kind is one JSON document.
      breakRecords: (kind, owner) =>
        writeFile(
          kind === 'reasoning_chains'
            ? join(baseDir, 'agents', owner, 'reasoning_chains.json')
            : join(baseDir, 'conversations', owner, `${kind}.json`),
          `{"${kind === 'reasoning_chains' ? 'chains' : kind}": [ ${BROKEN_JSON}`,
        ),
    };
  },
};
