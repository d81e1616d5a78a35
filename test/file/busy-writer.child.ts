/**
 * Child process of the lock-fairness test: keeps 8 reasoning-chain appends in flight for one
 * agent for a while, so its own in-process queue always has a writer waiting for the lock.
 * Usage: tsx busy-writer.child.ts <baseDir> <agent id> <milliseconds>
 * Prints `busy` once its first append landed and `done <count>` at the end, after the
 * milliseconds given or at a SIGUSR2, whichever comes first.
 */
import { FileStorage } from '../../src/backends/file/index.js';

async function main(): Promise<void> {
  const [baseDir, agentId, msText] = process.argv.slice(2);
  if (!baseDir || !agentId || !msText) {
    throw new Error('usage: busy-writer.child.ts <baseDir> <agent id> <milliseconds>');
  }
  const storage = new FileStorage({ baseDir });
  await storage.initialize();
  let until = Date.now() + Number(msText);
  // A test that is done with it ends it early, so it can give it time to spare on a loaded machine.
  process.on('SIGUSR2', () => (until = 0));
  let count = 0;
  const writer = async (): Promise<void> => {
    while (Date.now() < until) {
      await storage.storeReasoningChain(agentId, { writer: 'busy', n: count });
      count += 1;
      if (count === 1) process.stdout.write('busy\n');
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  await storage.shutdown();
  process.stdout.write(`done ${count}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
