/**
 * The calls to trace for W2/W3 at small lists (not part of `npm run bench`): 20 new
 * conversations (or agents) get 5 records each untimed, then 10 more each, 200 calls one after
 * another, between two marker look-ups (`access` of `/.trace-start` and `/.trace-end`, names
 * that never exist) that let a trace keep only the measured calls. Run under strace:
 * `strace -f -T -tt -o out npx tsx bench/file-small-list-trace.ts <subject> <w2|w3>`, subject
 * `noidx` (the built library, `searchIndex: false`), `nobackup` (and `createBackups: false`),
 * `default` or `raw` (`bench/raw/file.ts`). Prints wall ms per call (slowed by the tracer).
 */
import { accessSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchStoreOf } from './library.js';
import { library } from './library-module.js';
import { openRawFile } from './raw/file.js';
import type { BenchStore } from './types.js';
import { chain, memory } from './workloads/data.js';

const [subject = 'noidx', workload = 'w2'] = process.argv.slice(2);
const configs: Record<string, object> = {
  default: {},
  noidx: { searchIndex: false },
  nobackup: { searchIndex: false, createBackups: false },
};

/** Looks up a name that does not exist: a marker in the trace. */
const mark = (name: string): void => {
  try {
    accessSync(`/.trace-${name}`);
  } catch {
    // expected: the name never exists
  }
};

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'connectome-small-list-trace-'));
  let close = async (): Promise<unknown> => undefined;
  try {
    let store: BenchStore;
    if (subject === 'raw') {
      const raw = await openRawFile({ dir, name: 'raw' });
      store = raw.store;
      close = raw.drop;
    } else {
      const config = configs[subject];
      if (config === undefined) throw new Error(`unknown subject ${subject}`);
      const storage = library.createStorage('file', { baseDir: join(dir, 'lib'), ...config });
      await storage.initialize();
      store = benchStoreOf(storage);
      close = () => storage.shutdown();
    }
    const append = (list: number, k: number): Promise<unknown> =>
      workload === 'w3'
        ? store.storeReasoningChain(`agent-${list}`, chain(k))
        : store.storeMemory(`conv-${list}`, `mem-${k}`, memory(k));
    for (let list = 0; list < 20; list += 1) for (let k = 0; k < 5; k += 1) await append(list, k);
    mark('start');
    const started = performance.now();
    for (let list = 0; list < 20; list += 1) for (let k = 5; k < 15; k += 1) await append(list, k);
    const ms = performance.now() - started;
    mark('end');
    console.log(`${subject} ${workload}: ${(ms / 200).toFixed(3)} ms per call`);
  } finally {
    await close();
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
