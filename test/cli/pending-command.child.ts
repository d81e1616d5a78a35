/**
 * The CLI with a `stuck` backend, for `pending-command.test.ts`: its open never settles and
 * holds nothing open (as pg's pool left `initialize()` for a port that was no number), so the
 * process runs out of work with the command still pending.
 */
import { runMain } from '../../src/cli/main.js';
import { StorageFactory } from '../../src/factory/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

class StuckStorage extends InMemoryStorage {
  protected override openStore(): Promise<void> {
    return new Promise(() => undefined);
  }
}

StorageFactory.registerBackend('stuck', StuckStorage);
runMain(process.argv.slice(2));
