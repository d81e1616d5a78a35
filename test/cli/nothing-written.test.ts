/**
 * Exit codes of failures that wrote nothing. Exit 3 says "failed after writing started (run the
 * same command again to resume)"; a command that failed before any write must not say so: a
 * dry run, `stats`, `list` and `search` never write, and a migration fails before its first
 * write (the resume marker) while it checks the source's chain counts against the target's
 * limit. Those exit 2, "nothing was written".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { BackendUnavailableError, type StorageStats } from '../../src/core/index.js';
import { StorageFactory } from '../../src/factory/index.js';
import { MIGRATION_MARKER_KEY } from '../../src/migration/index.js';
import { populate } from '../migration/support.js';
import { cli } from './run-cli.js';

/** A file store whose reads of records fail, as a disk that went away after the open. */
class UnreadableStorage extends FileStorage {
  override loadConversationBatch(): never {
    throw new BackendUnavailableError('disk went away while reading conversations');
  }

  override loadReasoningChains(): Promise<never> {
    return Promise.reject(new BackendUnavailableError('disk went away while reading chains'));
  }

  override getStorageStats(): Promise<StorageStats> {
    return Promise.reject(new BackendUnavailableError('disk went away while counting'));
  }

  override search(): Promise<never> {
    return Promise.reject(new BackendUnavailableError('disk went away while searching'));
  }
}

let dir: string;
let source: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-unwritten-'));
  const store = new FileStorage({ baseDir: join(dir, 'src') });
  await store.initialize();
  await populate(store);
  await store.shutdown();
  source = `unreadable:?baseDir=${encodeURIComponent(join(dir, 'src'))}`;
  StorageFactory.registerBackend('unreadable', UnreadableStorage, { override: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The system-state keys of the file store in `baseDir` (`[]` when it holds none). */
async function stateKeys(baseDir: string): Promise<string[]> {
  const store = new FileStorage({ baseDir });
  await store.initialize();
  try {
    return await store.listSystemStateKeys();
  } finally {
    await store.shutdown();
  }
}

describe('failures that wrote nothing exit 2', () => {
  it('a dry run whose source cannot be read', async () => {
    const target = join(dir, 'dry-target');
    for (const json of [[], ['--json']]) {
      const result = await cli('migrate', '--from', source, '--to', `file:${target}`, '--dry-run', ...json);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Dry run failed: disk went away while reading conversations');
      expect(result.stderr).toContain('Nothing was written');
      if (json.length > 0) expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    }
  });

  it('a migration whose source fails before the first write, leaving no marker', async () => {
    // The target's chain limit makes the migration count the source's chains first, before
    // it writes its resume marker; that read fails.
    const target = join(dir, 'limited-target');
    const result = await cli(
      'migrate',
      '--from',
      source,
      '--to',
      `file:${target}?maxReasoningChainsPerAgent=100`,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('disk went away while reading chains');
    expect(result.stderr).toContain('Nothing was written to the target');
    expect(result.stderr).not.toMatch(/partial copy|resume/);
    expect(await stateKeys(target)).toEqual([]);
  });

  it('but a migration that failed after writing its marker still exits 3', async () => {
    const target = join(dir, 'marked-target');
    const result = await cli('migrate', '--from', source, '--to', `file:${target}`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/The target holds a partial copy; run the same command again to resume/);
    expect(await stateKeys(target)).toEqual([MIGRATION_MARKER_KEY]);
  });

  it.each([
    ['stats', [], 'disk went away while counting'],
    ['search', ['words'], 'disk went away while searching'],
  ])('%s on a store that fails to read', async (command, args, message) => {
    const result = await cli(command, source, ...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
