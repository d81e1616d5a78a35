/** Atomic writes (no temp files left, readers never see a partial file) and backups before overwrite. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fse from 'fs-extra';
import {
  filesIn,
  isBackup,
  listTree,
  makeTempDir,
  openStore,
  removeTempDirs,
  shutdownAll,
} from './helpers.js';

const TSX = path.join('node_modules', '.bin', 'tsx');
const BACKUP_ZONE_CHILD = path.join('test', 'file', 'backup-zone.child.ts');

afterEach(async () => {
  jest.restoreAllMocks();
  await shutdownAll();
});
afterAll(removeTempDirs);

const conversationDir = (baseDir: string, id: string) => path.join(baseDir, 'conversations', id);

describe('atomic writes', () => {
  it('leaves no temp files behind, and a concurrent reader always sees a whole file', async () => {
    const storage = await openStore();
    const file = path.join(conversationDir(storage.baseDir, 'c1'), 'current.json');
    await storage.storeConversation('c1', { version: -1 });
    let reading = true;
    const reader = (async () => {
      let reads = 0;
      while (reading) {
        const parsed = JSON.parse(await fse.readFile(file, 'utf8')) as { version: number; big: string };
        expect(typeof parsed.version).toBe('number');
        reads += 1;
      }
      return reads;
    })();
    for (let version = 0; version < 40; version += 1) {
      await storage.storeConversation('c1', { version, big: 'x'.repeat(200_000) });
    }
    reading = false;
    expect(await reader).toBeGreaterThan(0);
    expect((await listTree(storage.baseDir)).filter((rel) => rel.endsWith('.tmp'))).toEqual([]);
  });
});

describe('backups', () => {
  it('keeps one backup per overwrite, even within one second, named by time', async () => {
    const storage = await openStore();
    for (let i = 0; i < 3; i += 1) await storage.storeConversation('c1', { i });
    const backups = (await filesIn(conversationDir(storage.baseDir, 'c1'))).filter(isBackup);
    expect(backups).toHaveLength(2);
    for (const name of backups) expect(name).toMatch(/^current\.\d{8}_\d{6}_\d{6}\.backup\.json$/);
    // Sorted names are oldest first: the first backup holds the first version.
    const contents = await Promise.all(
      backups.sort().map(async (name) => {
        const text = await fse.readFile(path.join(conversationDir(storage.baseDir, 'c1'), name), 'utf8');
        return (JSON.parse(text) as { i: number }).i;
      }),
    );
    expect(contents).toEqual([0, 1]);
  });

  it('keeps the newest maxBackupFiles per file, reference-named backups included', async () => {
    const storage = await openStore({ maxBackupFiles: 2 });
    const dir = conversationDir(storage.baseDir, 'c1');
    await storage.storeMemory('c1', 'm0', { n: 0 });
    // An old backup in the reference's whole-second naming counts and is pruned first.
    await fse.writeFile(path.join(dir, 'memories.20200101_000000.backup.json'), '{}');
    for (let n = 1; n <= 5; n += 1) await storage.storeMemory('c1', `m${n}`, { n });
    const backups = (await filesIn(dir)).filter(isBackup);
    expect(backups).toHaveLength(2);
    const counts = await Promise.all(
      backups.map(async (name) => {
        const parsed = JSON.parse(await fse.readFile(path.join(dir, name), 'utf8')) as {
          memories: unknown[];
        };
        return parsed.memories.length;
      }),
    );
    expect(counts).toEqual([4, 5]);
    expect(await storage.loadMemories('c1')).toHaveLength(6);
  });

  it('orders a reference backup by the local time it is named in, not as UTC', async () => {
    // The reference names backups by `datetime.now()`: local time. East of UTC, read as UTC, an
    // hour-old one sorted newer than ours made since, and pruning removed ours instead. A
    // process of its own: the zone is fixed at its start.
    const baseDir = await makeTempDir();
    const child = spawnSync(TSX, [BACKUP_ZONE_CHILD, baseDir], {
      env: { ...process.env, TZ: 'Asia/Tokyo' },
      encoding: 'utf8',
    });
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
    const { offset, planted, backups } = JSON.parse(child.stdout) as {
      offset: number;
      planted: string;
      backups: string[];
    };
    expect(offset).toBe(-540);
    // The reference's is the oldest of three, so it went; both of ours stay.
    expect(backups).toHaveLength(2);
    expect(backups).not.toContain(planted);
  });

  it('makes no backups with createBackups: false or maxBackupFiles: 0, and never of cache files', async () => {
    for (const config of [{ createBackups: false }, { maxBackupFiles: 0 }]) {
      const storage = await openStore(config);
      for (let i = 0; i < 3; i += 1) {
        await storage.storeConversation('c1', { i });
        await storage.storeSystemState('s', { i });
      }
      expect((await listTree(storage.baseDir)).filter(isBackup)).toEqual([]);
    }
    const storage = await openStore();
    for (let i = 0; i < 3; i += 1) await storage.storeCacheEntry('k', { i });
    expect(await filesIn(path.join(storage.baseDir, 'cache'))).toEqual(['k.json']);
  });

  it('prunes the backups an earlier open kept once maxBackupFiles is 0, as it prunes down to 1', async () => {
    const first = await openStore();
    const { baseDir } = first;
    const lookalike = 's.20200101_000000.backup';
    await first.storeSystemState(lookalike, { mine: true });
    for (let i = 0; i < 3; i += 1) {
      await first.storeConversation('c1', { i });
      await first.storeConversation('c2', { i });
      await first.storeSystemState('s', { i });
    }
    await first.shutdown();
    const stateBackups = async () =>
      (await filesIn(path.join(baseDir, 'system'))).filter((name) => /^s\.\d{8}_\d{6}_\d{6}\./.test(name));
    expect((await listTree(baseDir)).filter(isBackup)).toHaveLength(7); // the look-alike key too
    for (const keep of [1, 0]) {
      const storage = await openStore({ baseDir, maxBackupFiles: keep });
      await storage.storeConversation('c1', { i: 3 + keep });
      await storage.storeSystemState('s', { i: 3 + keep });
      await storage.shutdown();
      const c1 = (await filesIn(conversationDir(baseDir, 'c1'))).filter(isBackup);
      expect([c1.length, (await stateBackups()).length]).toEqual([keep, keep]);
    }
    // Only the files written lose their backups; a key named like a backup is data.
    expect((await filesIn(conversationDir(baseDir, 'c2'))).filter(isBackup)).toHaveLength(2);
    const storage = await openStore({ baseDir, maxBackupFiles: 0 });
    expect(await storage.loadSystemState(lookalike)).toEqual({ mine: true });
    expect(await storage.loadSystemState('s')).toEqual({ i: 3 });
  });

  it('backs up system state, never lists a backup as a key, and never prunes a key that looks like a backup', async () => {
    const storage = await openStore({ maxBackupFiles: 1 });
    const lookalike = 'runtime.20200101_000000.backup';
    await storage.storeSystemState(lookalike, { mine: true });
    for (let i = 0; i < 4; i += 1) await storage.storeSystemState('runtime', { i });
    const names = await filesIn(path.join(storage.baseDir, 'system'));
    expect(names.filter((name) => /^runtime\.\d{8}_\d{6}_\d{6}\.backup\.json$/.test(name))).toHaveLength(1);
    expect(names).toContain(`${lookalike}.json`);
    expect(await storage.listSystemStateKeys()).toEqual(['runtime', lookalike]);
    expect(await storage.loadSystemState(lookalike)).toEqual({ mine: true });
    expect(await storage.loadSystemState('runtime')).toEqual({ i: 3 });
    expect((await storage.getStorageStats()).system_state_count).toBe(2);
  });

  it('prunes without listing the whole folder on every write', async () => {
    const storage = await openStore({ maxBackupFiles: 2 });
    for (let k = 0; k < 50; k += 1) await storage.storeSystemState(`other-${k}`, { k });
    const system = path.join(storage.baseDir, 'system');
    const listed: string[] = [];
    const count = (dir: unknown) => {
      if (dir === system) listed.push(String(dir));
    };
    const realPromises = fse.promises.readdir.bind(fse.promises);
    jest.spyOn(fse.promises, 'readdir').mockImplementation(((dir: string, ...rest: never[]) => {
      count(dir);
      return realPromises(dir, ...rest);
    }) as typeof fse.promises.readdir);
    const realExtra = fse.readdir.bind(fse);
    jest.spyOn(fse, 'readdir').mockImplementation(((dir: string, ...rest: never[]) => {
      count(dir);
      return realExtra(dir, ...rest);
    }) as typeof fse.readdir);
    for (let i = 0; i < 10; i += 1) await storage.storeSystemState('runtime', { i });
    // One listing to learn the file's backups; after that this process knows them.
    expect(listed).toHaveLength(1);
    const backups = (await filesIn(system)).filter((name) => name.startsWith('runtime.') && isBackup(name));
    expect(backups).toHaveLength(2);
    const newest = JSON.parse(await fse.readFile(path.join(system, backups.sort()[1] as string), 'utf8')) as {
      data: { i: number };
    };
    expect(newest.data.i).toBe(8);
  });

  it('notices backups another writer made and still keeps only the newest maxBackupFiles', async () => {
    const baseDir = (await openStore()).baseDir;
    const first = await openStore({ baseDir, maxBackupFiles: 3 });
    const second = await openStore({ baseDir, maxBackupFiles: 3 });
    for (let i = 0; i < 12; i += 1) await (i % 3 === 0 ? second : first).storeConversation('c1', { i });
    const backups = (await filesIn(conversationDir(baseDir, 'c1'))).filter(isBackup);
    expect(backups).toHaveLength(3);
  });

  it('does not let a key that looks like a newer backup take the place of a real backup', async () => {
    const storage = await openStore({ maxBackupFiles: 1 });
    const lookalike = 'runtime.29991231_235959.backup'; // sorts after every real backup
    await storage.storeSystemState(lookalike, { mine: true });
    for (let i = 0; i < 3; i += 1) await storage.storeSystemState('runtime', { i });
    const names = await filesIn(path.join(storage.baseDir, 'system'));
    expect(names.filter((name) => /^runtime\.\d{8}_\d{6}_\d{6}\.backup\.json$/.test(name))).toHaveLength(1);
    expect(await storage.loadSystemState(lookalike)).toEqual({ mine: true });
  });

  it('never prunes a key stored under the name of a backup it already knows', async () => {
    const storage = await openStore({ maxBackupFiles: 1 });
    const system = path.join(storage.baseDir, 'system');
    await storage.storeSystemState('runtime', { i: 0 });
    await storage.storeSystemState('runtime', { i: 1 });
    const [backup] = (await filesIn(system)).filter(isBackup);
    const key = (backup as string).slice(0, -'.json'.length);
    await storage.storeSystemState(key, { mine: true }); // replaces the backup file with its data
    for (let i = 2; i < 5; i += 1) await storage.storeSystemState('runtime', { i });
    expect(await storage.loadSystemState(key)).toEqual({ mine: true });
    expect(await storage.listSystemStateKeys()).toEqual(['runtime', key]);
  });
});
