/** The vector stores the conformance suite runs against, each opened on a test's temp folder. */
import { join } from 'node:path';
import { FileVectorStore, type VectorStore } from '../../src/index.js';
import { MemoryVectorStore } from '../../src/semantic/vector-stores/memory.js';
import { SqliteVecStore } from '../../src/semantic/vector-stores/sqlite-vec/sqlite-vec-store.js';

/** How to open one kind of store. */
export interface VectorHarness {
  name: string;
  /** True when a new instance on the same folder sees what an earlier one wrote. */
  persistent: boolean;
  /** Opens a store kept in `dir` (a fresh temp folder per test). */
  open(dir: string): VectorStore;
}

export const vectorHarnesses: VectorHarness[] = [
  { name: 'memory', persistent: false, open: () => new MemoryVectorStore() },
  { name: 'file', persistent: true, open: (dir) => new FileVectorStore({ baseDir: dir }) },
  {
    name: 'sqlite-vec',
    persistent: true,
    open: (dir) => new SqliteVecStore({ path: join(dir, 'vectors.db') }),
  },
];
