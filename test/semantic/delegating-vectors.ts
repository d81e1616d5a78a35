/**
 * A vector store "of your own" for the failure tests: every call goes to a real
 * `MemoryVectorStore`, except the calls a test replaces (one that fails as a store that is down,
 * one that counts its calls). Kept in one place so each test states only what it changes.
 */
import { type VectorStore } from '../../src/index.js';
import { MemoryVectorStore } from '../../src/semantic/vector-stores/memory.js';

/**
 * A store named `kind` delegating to a new `MemoryVectorStore`, with the calls `replace` returns
 * (given that inner store, for a replacement that still delegates) in place of the delegating
 * ones. Like a minimal store of your own, it has no `listIds` (optional) unless `replace` gives one.
 */
export function delegatingVectorStore(
  kind: string,
  replace: (inner: MemoryVectorStore) => Partial<VectorStore> = () => ({}),
): VectorStore {
  const inner = new MemoryVectorStore();
  return {
    kind,
    ensureIndex: (signature, options) => inner.ensureIndex(signature, options),
    reset: (signature) => inner.reset(signature),
    signature: () => inner.signature(),
    upsert: (items) => inner.upsert(items),
    delete: (ids) => inner.delete(ids),
    query: (query) => inner.query(query),
    count: () => inner.count(),
    close: () => inner.close(),
    ...replace(inner),
  };
}
