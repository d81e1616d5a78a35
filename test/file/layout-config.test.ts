/** Config parsing, id → folder mapping, compact JSON, deletion, health and shutdown of the file backend. */
import path from 'node:path';
import fse from 'fs-extra';
import { FileStorage } from '../../src/backends/file/index.js';
import { folderLockName } from '../../src/backends/file/layout.js';
import { ConfigError } from '../../src/core/index.js';
import { filesIn, makeTempDir, openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('config', () => {
  it('accepts camelCase and the reference snake_case keys', async () => {
    const baseDir = await makeTempDir();
    const storage = await openStore({ base_dir: baseDir, create_backups: false, pretty_print_json: false });
    expect(storage.baseDir).toBe(path.resolve(baseDir));
    expect(FileStorage.description).toMatch(/JSON files/);
    expect(new FileStorage().baseDir).toBe(path.resolve('storage_data'));
  });

  it('refuses unknown keys and bad values before touching the disk', async () => {
    const baseDir = path.join(await makeTempDir(), 'never-created');
    const bad: unknown[] = [
      { baseDir, basedir: 'typo' },
      { baseDir, maxBackupFiles: -1 },
      { baseDir, maxBackupFiles: 1.5 },
      { baseDir, createBackups: 'yes' },
      { baseDir, base_dir: baseDir },
      'not an object',
    ];
    for (const config of bad) {
      expect(() => new FileStorage(config as never)).toThrow(ConfigError);
    }
    expect(() => new FileStorage({ baseDir, basedir: 'x' } as never)).toThrow(/basedir/);
    expect(await fse.pathExists(baseDir)).toBe(false);
  });

  it.each([
    ['a NUL', 'x\u0000y'],
    ['a lone surrogate', 'x\ud800y'],
  ])('refuses a baseDir with %s with a ConfigError naming it, before touching the disk', async (_, name) => {
    // Node refused a NUL only at the first file operation (a TypeError, not a ConfigError) and
    // wrote a lone surrogate as U+FFFD, so two stores with different baseDirs shared a folder.
    const parent = path.join(await makeTempDir(), 'never');
    const baseDir = path.join(parent, name);
    for (const config of [{ baseDir }, { base_dir: baseDir }, { baseDir, readOnly: true }]) {
      let error: unknown;
      try {
        new FileStorage(config);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      // As the caller spelt it (until 2026-12-06 `base_dir` was named `baseDir`).
      const key = 'base_dir' in config ? 'base_dir' : 'baseDir';
      expect((error as ConfigError).key).toBe(key);
      expect((error as Error).message).toContain(`"${key}": must be well-formed and without NUL`);
    }
    expect(await fse.pathExists(parent)).toBe(false);
  });
});

describe('layout', () => {
  it('uses ids with unicode, spaces and dots as folder names, as the reference does', async () => {
    const storage = await openStore();
    const ids = ['會話-ü', 'with space', 'support-ticket.42', '.hidden', 'e\u0301', '\u00e9'];
    for (const id of ids) {
      await storage.storeConversation(id, { id });
      await storage.storeReasoningChain(id, { id });
    }
    expect(await filesIn(path.join(storage.baseDir, 'conversations'))).toEqual([...ids].sort());
    expect(await filesIn(path.join(storage.baseDir, 'agents'))).toEqual([...ids].sort());
    for (const id of ids) expect(await storage.loadConversation(id)).toEqual({ id });
    expect(await storage.listConversations()).toEqual([...ids].sort());
    expect(await storage.listAgents()).toEqual([...ids].sort());
  });

  it('writes one-line JSON with the reference separators when prettyPrintJson is false', async () => {
    const storage = await openStore({ prettyPrintJson: false });
    await storage.storeSystemState('s', { list: [1, 'ü', { a: null }], empty: {} });
    const text = await fse.readFile(path.join(storage.baseDir, 'system', 's.json'), 'utf8');
    expect(text).toMatch(
      /^\{"state_key": "s", "data": \{"list": \[1, "ü", \{"a": null\}\], "empty": \{\}\}, "stored_at": "[^"]+"\}$/,
    );
  });
});

describe('awkward ids and keys', () => {
  it('stores ids that are valid but awkward on disk, and nothing lands outside baseDir', async () => {
    const parent = await makeTempDir();
    const storage = await openStore({ baseDir: path.join(parent, 'store') });
    const ids = [
      '會'.repeat(85),
      'x'.repeat(255),
      'CON',
      'nul',
      ' padded ',
      'trailing.',
      '...',
      '..x',
      '.hidden',
    ];
    for (const id of ids) {
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(255);
      await storage.storeConversation(id, { id });
      await storage.storeMemory(id, id, { id });
      await storage.storeReasoningChain(id, { id });
    }
    const keys = ['../../escape', '..', '.', '/abs/path', 'C:\\windows', '\u{1F9E0}'.repeat(120)];
    for (const key of keys) {
      await storage.storeCacheEntry(key, { key });
      await storage.storeSystemState(key, { key });
    }
    expect(await storage.listConversations()).toEqual([...ids].sort());
    expect(await storage.listAgents()).toEqual([...ids].sort());
    expect(await storage.listCacheKeys()).toEqual([...keys].sort());
    expect(await storage.listSystemStateKeys()).toEqual([...keys].sort());
    for (const id of ids) {
      expect(await storage.loadMemories(id)).toHaveLength(1);
      await storage.deleteConversation(id);
    }
    expect(await storage.listAllConversationIds()).toEqual([]);
    expect(await fse.readdir(parent)).toEqual(['store']);
  });

  it('gives ids that one folder holds on case-insensitive or normalising file systems one lock', () => {
    expect(folderLockName('conversation', 'Foo')).toBe(folderLockName('conversation', 'foo'));
    expect(folderLockName('conversation', 'e\u0301')).toBe(folderLockName('conversation', '\u00e9'));
    expect(folderLockName('agent', 'Straße')).toBe(folderLockName('agent', 'STRASSE'));
    expect(folderLockName('agent', 'a')).not.toBe(folderLockName('conversation', 'a'));
    expect(folderLockName('agent', 'a')).not.toBe(folderLockName('agent', 'b'));
  });
});

describe('deleteConversation', () => {
  it('removes every file of the conversation at once and leaves nothing in the trash', async () => {
    const storage = await openStore();
    await storage.storeConversation('c1', { a: 1 });
    await storage.storeRawMessages('c1', [1]);
    await storage.storeChunkInfo('c1', { b: 2 });
    for (let i = 0; i < 3; i += 1) await storage.storeMemory('c1', `m${i}`, { i });
    await storage.storeConversation('c2', { a: 2 });
    await storage.deleteConversation('c1');
    expect(await fse.pathExists(path.join(storage.baseDir, 'conversations', 'c1'))).toBe(false);
    expect(await filesIn(path.join(storage.baseDir, '.connectome-storage', 'trash'))).toEqual([]);
    expect(await storage.listAllConversationIds()).toEqual(['c2']);
    expect(await storage.deleteConversation('c1')).toBe(true);
  });

  it('stays consistent with concurrent memory writes: a memory stored after the delete survives alone', async () => {
    const storage = await openStore();
    for (let i = 0; i < 5; i += 1) await storage.storeMemory('c1', `old${i}`, { i });
    await Promise.all([
      storage.deleteConversation('c1'),
      storage.storeMemory('c1', 'new', { fresh: true }), // queued behind the delete's lock
    ]);
    expect((await storage.loadMemories('c1')).map((m) => m.memory_id)).toEqual(['new']);
  });
});

describe('health and shutdown', () => {
  it('reports the reference health keys and becomes unhealthy when a folder disappears', async () => {
    const storage = await openStore();
    const report = await storage.healthCheck();
    expect(report).toMatchObject({
      status: 'healthy',
      directories_accessible: true,
      write_permissions: true,
      base_directory: storage.baseDir,
    });
    expect(report.disk_usage).toEqual({
      total_bytes: expect.any(Number),
      used_bytes: expect.any(Number),
      free_bytes: expect.any(Number),
    });
    expect(await fse.readdir(storage.baseDir)).not.toContainEqual(expect.stringMatching(/probe/));
    await fse.remove(path.join(storage.baseDir, 'cache'));
    const broken = await storage.healthCheck();
    expect(broken).toMatchObject({ status: 'unhealthy', directories_accessible: false });
    expect(broken.error).toContain('cache');
  });

  it('waits for writes under way before shutting down', async () => {
    const storage = new FileStorage({ baseDir: await makeTempDir() });
    await storage.initialize();
    const writes = Array.from({ length: 20 }, (_, i) => storage.storeMemory('c1', `m${i}`, { i }));
    await storage.shutdown();
    await Promise.all(writes);
    const reopened = await openStore({ baseDir: storage.baseDir });
    expect(await reopened.loadMemories('c1')).toHaveLength(20);
  });
});
