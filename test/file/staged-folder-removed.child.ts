/**
 * Child process of `staged-folder-removed.test.ts` (a process of its own, since only a real
 * process ends on an unhandled rejection): stores into conversation `c` of `<baseDir>` with
 * `<method>` while the folder is moved away during the write's staging, as another process's
 * deleteConversation would, then prints what loads back. Usage: tsx ... <baseDir> <method>
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { holdAllRangeLocks } from './range-lock-helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const [baseDir, method] = process.argv.slice(2);
  if (baseDir === undefined || method === undefined) throw new Error('usage: <baseDir> <method>');
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  await storage.storeConversation('c', { v: 0 }); // the store now knows the folder exists
  const dir = path.join(baseDir, 'conversations', 'c');
  let removed = false;
  // One rename, as a deleteConversation does, at the worst moment: the temp file exists (the
  // write is staged, waiting for the lock held below), its folder not yet synced.
  const before = new Set(fs.readdirSync(dir));
  const watch = setInterval(() => {
    if (removed || !fs.readdirSync(dir).some((name) => !before.has(name))) return;
    removed = true;
    fs.renameSync(dir, path.join(baseDir, 'moved-away'));
  }, 1);
  // The deleting process holds the conversation's lock meanwhile (every lock, here), once this
  // store's own lease of it is gone.
  let release: (() => void) | undefined;
  while (release === undefined) {
    try {
      release = holdAllRangeLocks(baseDir);
    } catch {
      await sleep(5);
    }
  }
  const write =
    method === 'storeRawMessages'
      ? storage.storeRawMessages('c', [{ v: 1 }])
      : method === 'storeChunkInfo'
        ? storage.storeChunkInfo('c', { v: 1 })
        : storage.storeConversation('c', { v: 1 });
  while (!removed) await sleep(5);
  clearInterval(watch);
  await sleep(50); // the staged temp file is written and synced meanwhile
  release();
  const stored = await write;
  const loaded = {
    stored,
    conversation: await storage.loadConversation('c'),
    chunkInfo: await storage.loadChunkInfo('c'),
    rawMessages: await storage.loadRawMessages('c'),
  };
  await storage.shutdown();
  process.stdout.write(JSON.stringify(loaded));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
