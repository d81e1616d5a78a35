/**
 * The one vector-store conformance suite: every store in `vector-harnesses.ts` runs every test
 * here, unchanged. Behaviour every store shares goes into `suites/`, never into one store's tests.
 */
import type { VectorStore } from '../../src/index.js';
import { useTempDir } from '../support/temp-dir.js';
import { vectorBasicsTests } from './suites/vector-basics.js';
import { vectorIdTests } from './suites/vector-ids.js';
import { vectorPersistenceTests, vectorScopeChurnTests, vectorScopeTests } from './suites/vector-scopes.js';
import { vectorHarnesses } from './vector-harnesses.js';

for (const harness of vectorHarnesses) {
  describe(`${harness.name} vector store`, () => {
    const dir = useTempDir(`connectome-vectors-${harness.name}-`);
    const opened: VectorStore[] = [];
    const open = (): VectorStore => {
      const store = harness.open(dir());
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      // A failed test may leave its store open; close it before the folder goes.
      await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)));
    });

    vectorBasicsTests(open);
    vectorScopeTests(open);
    vectorScopeChurnTests(open);
    vectorIdTests(open);
    if (harness.persistent) vectorPersistenceTests(harness, dir);
  });
}
