/**
 * Child process of `descriptor-budget.test.ts`, run under a low descriptor limit: opens a store
 * on `<baseDir>`, then takes every descriptor left (opens of `/dev/null`, as the rest of an
 * application could), starts a burst of writes and reads and, unless `<releaseAfterMs>` is
 * `never`, closes some of its descriptors after that many ms. Prints one JSON line: how many
 * calls failed, the first failure's message and how many values read back wrong.
 * Usage: tsx descriptor-budget.child.ts <baseDir> <releaseAfterMs|never> <patienceMs>
 */
import fs from 'node:fs';
import { setOutOfDescriptorsPatience } from '../../src/backends/file/descriptor-budget.js';
import { FileStorage } from '../../src/backends/file/index.js';

const CALLS = 100;

async function main(): Promise<void> {
  const [baseDir, releaseAfter, patience] = process.argv.slice(2);
  if (baseDir === undefined || releaseAfter === undefined || patience === undefined) throw new Error('usage');
  setOutOfDescriptorsPatience(Number(patience));
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  for (let i = 0; i < CALLS; i += 1) await storage.storeConversation(`old${i}`, { i });
  const taken: number[] = [];
  for (;;) {
    try {
      taken.push(fs.openSync('/dev/null', 'r'));
    } catch {
      break; // EMFILE: none left
    }
  }
  if (releaseAfter !== 'never') {
    setTimeout(() => taken.splice(0, 20).forEach((fd) => fs.closeSync(fd)), Number(releaseAfter));
  }
  let failed = 0;
  let firstError: string | null = null;
  const call = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await run();
    } catch (error) {
      failed += 1;
      firstError ??= error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
      return undefined;
    }
  };
  const loaded = await Promise.all([
    ...Array.from({ length: CALLS }, (_, i) => call(() => storage.storeConversation(`new${i}`, { i }))),
    ...Array.from({ length: CALLS }, (_, i) => call(() => storage.storeCacheEntry(`k${i}`, { i }, 3600))),
    ...Array.from({ length: CALLS }, (_, i) => call(() => storage.loadConversation(`old${i}`))),
  ]);
  taken.splice(0).forEach((fd) => fs.closeSync(fd));
  let wrong = 0;
  for (let i = 0; i < CALLS; i += 1) {
    if ((loaded[2 * CALLS + i] as { i?: number } | null | undefined)?.i !== i) wrong += 1;
    if (failed === 0 && (await storage.loadConversation(`new${i}`))?.i !== i) wrong += 1;
    if (failed === 0 && (await storage.loadCacheEntry(`k${i}`))?.i !== i) wrong += 1;
  }
  await storage.shutdown();
  process.stdout.write(`${JSON.stringify({ failed, firstError, wrong })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
