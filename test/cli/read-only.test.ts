/**
 * The CLI opens the stores it only reads read-only: `health` and `stats` on a store that does
 * not exist exit 2 and create nothing, and a migration (dry run or not) leaves its source as
 * it was, a Python reference database included (it is not upgraded).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropSchema,
  POSTGRES_TEST_URL,
  schemaExists,
  uniqueTestSchema,
} from '../conformance/harness-postgres.js';
import { REDIS_TEST_URL, uniqueTestPrefix } from '../conformance/harness-redis.js';
import { deleteKeysWithPrefix, quickClient, scanKeysWithPrefix } from '../redis/redis-server.js';
import { describeWithService } from '../services.js';
import { cli } from './run-cli.js';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { copyReferenceDb, withRawDb } from '../sqlite/helpers.js';
import { FIXTURE_STORE } from '../support/reference-fixture.js';

/** Runs `health` and `stats` (plain and `--json`) on `spec` and checks each exits 2 naming the store. */
async function expectMissing(spec: string, shown: string): Promise<void> {
  for (const command of ['health', 'stats']) {
    const plain = await cli(command, spec);
    expect({ command, code: plain.code }).toEqual({ command, code: 2 });
    expect(plain.stderr).toContain(`The store ${shown} does not exist (`);
    expect(plain.stderr).toContain('nothing was created');
    const json = await cli(command, spec, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2 });
  }
}

/** The bytes, `user_version` and journal mode of a database file. */
async function dbState(dbPath: string) {
  const pragmas = await withRawDb(dbPath, async (db) => ({
    userVersion: (await db.all('PRAGMA user_version'))[0]?.user_version,
    journalMode: (await db.all('PRAGMA journal_mode'))[0]?.journal_mode,
  }));
  return { bytes: await readFile(dbPath), ...pragmas };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-cli-ro-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('CLI: read-only opens of local stores', () => {
  it('health and stats exit 2 on a missing folder or database file, creating neither', async () => {
    const folder = join(dir, 'typo');
    await expectMissing(`file:${folder}`, `file:${folder}`);
    await expectMissing(`sqlite:${folder}/x.db`, `sqlite:${folder}/x.db`);
    expect(existsSync(folder)).toBe(false);
  });

  it('health and stats exit 2 on an unrelated SQLite file and leave it as it was', async () => {
    const dbPath = join(dir, 'other.db');
    await withRawDb(dbPath, (db) => db.run('CREATE TABLE notes (body TEXT)'));
    const before = await dbState(dbPath);
    await expectMissing(`sqlite:${dbPath}`, `sqlite:${dbPath}`);
    expect(await dbState(dbPath)).toEqual(before);
  });

  it('migrates (and dry-runs) from a reference database without upgrading it', async () => {
    const source = await copyReferenceDb(dir);
    const before = await dbState(source);
    expect(before.userVersion).toBe(0);
    const dry = await cli(
      'migrate',
      '--from',
      `sqlite:${source}`,
      '--to',
      `file:${join(dir, 'dry')}`,
      '--dry-run',
    );
    expect(dry.code).toBe(0);
    expect(await dbState(source)).toEqual(before);
    const real = await cli(
      'migrate',
      '--from',
      `sqlite:${source}`,
      '--to',
      `file:${join(dir, 'out')}`,
      '--json',
    );
    expect(real.code).toBe(0);
    expect(JSON.parse(real.stdout)).toMatchObject({ ok: true, counts: { conversations: { copied: 3 } } });
    expect(await dbState(source)).toEqual(before);
    expect(existsSync(join(dir, 'dry'))).toBe(false);
  });

  it('leaves a dry run target that is a reference database as it was', async () => {
    const target = await copyReferenceDb(dir);
    const before = await dbState(target);
    const source = join(dir, 'src');
    await cp(FIXTURE_STORE, source, { recursive: true });
    const dry = await cli('migrate', '--from', `file:${source}`, '--to', `sqlite:${target}`, '--dry-run');
    expect(dry.code).toBe(0);
    expect(await dbState(target)).toEqual(before);
    // Nor did the file source get this library's bookkeeping folder.
    expect(existsSync(join(source, '.connectome-storage'))).toBe(false);
  });

  it('refuses a read-only target before copying (exit 2), a dry run still counts into it', async () => {
    const source = join(dir, 'src');
    await cp(FIXTURE_STORE, source, { recursive: true });
    const target = join(dir, 'ro.db');
    // An existing, empty store: opening it read-only works, only the writes would fail.
    const existing = new SQLiteStorage({ dbPath: target });
    await existing.initialize();
    await existing.shutdown();
    const before = await dbState(target);
    await writeFile(
      join(dir, 'ro.env'),
      `CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_DB_PATH=${target}\nCONNECTOME_STORAGE_READ_ONLY=true\n`,
    );
    for (const to of [
      ['--to', `sqlite:${target}?readOnly=true`],
      ['--to-env', join(dir, 'ro.env')],
    ]) {
      const result = await cli('migrate', '--from', `file:${source}`, ...to);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/The target sqlite:.* is configured read-only .*Nothing was written/);
      expect(result.stderr).not.toContain('run the same command again');
    }
    expect(await dbState(target)).toEqual(before);
    const folder = join(dir, 'ro-folder');
    const folderStore = new FileStorage({ baseDir: folder });
    await folderStore.initialize();
    await folderStore.shutdown();
    const files = async () => (await readdir(folder, { recursive: true })).sort();
    const filesBefore = await files();
    const result = await cli('migrate', '--from', `file:${source}`, '--to', `file:${folder}?readOnly=1`);
    expect(result.code).toBe(2);
    expect(await files()).toEqual(filesBefore);
    const dry = await cli(
      'migrate',
      '--from',
      `file:${source}`,
      '--to',
      `file:${folder}?readOnly=1`,
      '--dry-run',
    );
    expect(dry.code).toBe(0);
  });

  it('still opens a purge-cache store writable', async () => {
    await writeFile(join(dir, 'marker'), '');
    const result = await cli('purge-cache', `file:${dir}`, '--json');
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, 'cache'))).toBe(true);
  });

  it('refuses purge-cache on a store configured read-only (exit 2), removing nothing', async () => {
    // As a read-only migration target: the store refuses before it writes, so nothing was written.
    const stores = [
      new FileStorage({ baseDir: join(dir, 'files') }),
      new SQLiteStorage({ dbPath: join(dir, 'x.db') }),
    ];
    for (const store of stores) {
      await store.initialize();
      await store.storeCacheEntry('soon', { v: 1 }, 0.01);
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const spec of [
      `file:${join(dir, 'files')}?readOnly=true`,
      `sqlite:${join(dir, 'x.db')}?readOnly=true`,
    ]) {
      const text = await cli('purge-cache', spec);
      expect({ spec, code: text.code }).toEqual({ spec, code: 2 });
      expect(text.stderr).toContain('read-only');
      const json = await cli('purge-cache', spec, '--json');
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    }
    // The expired entries are still there: a writable purge removes them.
    for (const store of stores) {
      expect(await store.purgeExpiredCache()).toBe(1);
      await store.shutdown();
    }
  });
});

describeWithService('postgres')('CLI: read-only opens on PostgreSQL', () => {
  const schema = uniqueTestSchema();
  afterAll(() => dropSchema(schema));

  it('health and stats exit 2 on a mistyped schema and create no schema', async () => {
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('schema', schema);
    const result = await cli('stats', url.toString());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/does not exist \(.*storage_meta.*\); nothing was created/);
    expect(result.stderr).toContain(schema);
    expect(result.stderr).not.toContain(`:${url.password}@`);
    await cli('health', url.toString());
    expect(await schemaExists(schema)).toBe(false);
  });
});

describeWithService('redis')('CLI: read-only opens on Redis', () => {
  const prefix = uniqueTestPrefix();
  const client = quickClient(REDIS_TEST_URL);
  afterAll(async () => {
    await deleteKeysWithPrefix(client, prefix).catch(() => undefined);
    client.disconnect();
  });

  it('health and stats exit 2 on a mistyped prefix and write no key', async () => {
    const spec = `${REDIS_TEST_URL}?prefix=${encodeURIComponent(prefix)}`;
    await expectMissing(spec, `${REDIS_TEST_URL} (prefix ${JSON.stringify(prefix)})`);
    expect(await scanKeysWithPrefix(client, prefix)).toEqual([]);
  });
});
