/** Conformance harness for FileStorage: each store is a fresh temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import type { BackendHarness } from './harness.js';

export const fileHarness: BackendHarness = {
  name: 'file',
  sharedStore: true,
  available: async () => true,
  async createStore() {
    const baseDir = await mkdtemp(join(tmpdir(), 'connectome-file-'));
    return {
      async open() {
        const storage = new FileStorage({ baseDir });
        await storage.initialize();
        return storage;
      },
      cleanup: () => rm(baseDir, { recursive: true, force: true }),
    };
  },
};
