/**
 * `migrate --dry-run` says what it does: its progress counts (no "copy" phases), and an
 * interrupted or failed dry run says that nothing was written (no partial copy to resume).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageFactory } from '../../src/factory/index.js';
import { populate } from '../migration/support.js';
import { cli } from './run-cli.js';

/** A file store that interrupts the CLI (as SIGINT would) when a conversation batch is read. */
class InterruptingStorage extends FileStorage {
  override loadConversationBatch(...args: Parameters<FileStorage['loadConversationBatch']>) {
    // Only the listeners run (no signal is sent): the CLI's handler aborts the migration.
    process.emit('SIGINT', 'SIGINT');
    return super.loadConversationBatch(...args);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-dry-'));
  const source = new FileStorage({ baseDir: join(dir, 'src') });
  await source.initialize();
  await populate(source);
  await source.shutdown();
  StorageFactory.registerBackend('interrupting', InterruptingStorage, { override: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('migrate --dry-run messages', () => {
  it('names its progress phases "count", not "copy"', async () => {
    const result = await cli(
      'migrate',
      '--from',
      `file:${join(dir, 'src')}`,
      '--to',
      `file:${join(dir, 'out')}`,
      '--dry-run',
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^count conversations: \d+\/\d+ done/m);
    expect(result.stderr).not.toMatch(/copy/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('says nothing was written when interrupted, not that the target holds a partial copy', async () => {
    const from = `interrupting:?baseDir=${encodeURIComponent(join(dir, 'src'))}`;
    const result = await cli('migrate', '--from', from, '--to', `file:${join(dir, 'out')}`, '--dry-run');
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Interrupted; nothing was written (dry run)');
    expect(result.stderr).not.toMatch(/partial copy|run the same command again/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
