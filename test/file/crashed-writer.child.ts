/**
 * Child process of the writer-mark tests: opens a store, stores a conversation, leaves a temp
 * file as a write cut short would (named by this process), and exits without `shutdown()`.
 * Usage: tsx crashed-writer.child.ts <baseDir>; prints the temp file's path.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { tempEntryName } from '../../src/backends/file/temp-files.js';

async function main(): Promise<void> {
  const [baseDir] = process.argv.slice(2);
  if (!baseDir) throw new Error('usage: crashed-writer.child.ts <baseDir>');
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  await storage.storeConversation('c1', { title: 'stored' });
  const temp = path.join(storage.baseDir, 'conversations', 'c1', tempEntryName('conversation.json'));
  writeFileSync(temp, '{"title": "half');
  process.stdout.write(`${temp}\n`);
  process.exit(0); // no shutdown(): the mark stays, as after a kill
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
