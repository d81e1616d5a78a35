/**
 * The same-store refusal for spellings the identity alone does not tell apart: a hard link to a
 * SQLite file (another path, one file) and the unspecified host `0.0.0.0`, which a client
 * connecting to it reaches the local server by. Both migrated a store into itself before.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBackendSpec, sameStore } from '../../src/cli/backend-spec.js';
import { cli } from './run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-same-store-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const same = (a: string, b: string, cwd?: string) =>
  sameStore(parseBackendSpec(a, cwd), parseBackendSpec(b, cwd));

describe('same-store check', () => {
  it('counts a hard link to a SQLite file as that file', async () => {
    await writeFile(join(dir, 'a.db'), '');
    await link(join(dir, 'a.db'), join(dir, 'b.db'));
    await writeFile(join(dir, 'c.db'), '');
    expect(same(`sqlite:${dir}/a.db`, 'sqlite:./b.db', dir)).toBe(true);
    expect(same(`sqlite:${dir}/a.db`, `sqlite:${dir}/c.db`)).toBe(false);
    // A target that does not exist yet is another store.
    expect(same(`sqlite:${dir}/a.db`, `sqlite:${dir}/new.db`)).toBe(false);
    expect(same(`sqlite:${dir}/new.db`, `sqlite:${dir}/new2.db`)).toBe(false);
  });

  it('refuses a migration into a hard link of the source, writing nothing', async () => {
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'm', 'src.db'), 'not touched');
    await link(join(dir, 'm', 'src.db'), join(dir, 'm', 'dst.db'));
    const result = await cli(
      'migrate',
      '--from',
      `sqlite:${dir}/m/src.db`,
      '--to',
      `sqlite:${dir}/m/dst.db`,
      '--merge',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/same store .*; nothing was written/);
  });

  it('counts the unspecified host 0.0.0.0 (and ::) as the local host', () => {
    for (const host of ['0.0.0.0', '0', '[::]', '[0:0:0:0:0:0:0:0]']) {
      expect(same(`redis://${host}:6379`, 'redis://127.0.0.1:6379')).toBe(true);
      expect(same(`postgres://u@${host}/app`, 'postgres://localhost:5432/app')).toBe(true);
      expect(same(`postgres://x/app?host=${host}`, 'postgres://[::1]/app')).toBe(true);
    }
    expect(parseBackendSpec('redis://0.0.0.0?prefix=p:').identity).toBe('redis://localhost:6379/0#p:');
    // Another port, database or prefix is still another store.
    expect(same('redis://0.0.0.0:6380', 'redis://127.0.0.1:6379')).toBe(false);
    expect(same('redis://0.0.0.0?prefix=a:', 'redis://localhost?prefix=b:')).toBe(false);
    expect(same('redis://0.0.0.1', 'redis://localhost')).toBe(false);
  });
});
