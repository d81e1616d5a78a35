/**
 * Conformance harness for a user-written backend (`test/support/memory-storage.ts`): it
 * implements only the storage primitives, so every other behaviour (batches, paging,
 * retention, search) comes from the core's defaults, which the suite then proves.
 */
import { InMemoryStorage } from '../support/memory-storage.js';
import type { BackendHarness } from './harness.js';

/** Each instance keeps its own Maps, so instances never share data. */
export const userBackendHarness: BackendHarness = {
  name: 'user backend (in-memory)',
  sharedStore: false,
  available: async () => true,
  async createStore() {
    return {
      async open(extraConfig = {}) {
        const storage = new InMemoryStorage(extraConfig);
        await storage.initialize();
        return storage;
      },
      exists: async () => false,
      shownAs: ['in-memory'],
      cleanup: async () => undefined,
    };
  },
};
