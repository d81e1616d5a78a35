/** The environment from `process.env` and a `.env` file in the current directory. */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { ConfigError } from '../../src/core/index.js';
import { createStorageFromEnv, readEnvironment, StorageFactory } from '../../src/factory/index.js';
import { expectRoundTrip, thrown, useTempDir } from './support.js';

describe('createFromEnvConfig with the process environment and .env', () => {
  const dir = useTempDir();
  const saved = { ...process.env };
  const cwd = process.cwd();

  beforeEach(() => {
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('CONNECTOME_STORAGE_')) delete process.env[name];
    }
  });

  afterEach(() => {
    process.chdir(cwd);
    for (const name of Object.keys(process.env)) {
      if (name.startsWith('CONNECTOME_STORAGE_')) delete process.env[name];
    }
    Object.assign(process.env, saved);
  });

  async function writeDotEnv(lines: string[]): Promise<void> {
    await writeFile(join(dir(), '.env'), `${lines.join('\n')}\n`);
  }

  it('reads .env from the current directory, process variables winning, without changing process.env', async () => {
    const fromDotEnv = join(dir(), 'from-dotenv');
    const fromProcess = join(dir(), 'from-process');
    await writeDotEnv([
      '# storage settings',
      'CONNECTOME_STORAGE_TYPE=file',
      `CONNECTOME_STORAGE_BASE_DIR="${fromDotEnv}"`,
      'CONNECTOME_STORAGE_PRETTY_JSON=no',
    ]);
    process.env.CONNECTOME_STORAGE_BASE_DIR = fromProcess;
    process.chdir(dir());

    const storage = StorageFactory.createFromEnvConfig();
    expect(storage).toBeInstanceOf(FileStorage);
    await expectRoundTrip(storage);
    const text = await readFile(join(fromProcess, 'conversations', 'conv-1', 'current.json'), 'utf8');
    expect(text.trim()).not.toContain('\n');
    expect(existsSync(fromDotEnv)).toBe(false);
    expect(process.env.CONNECTOME_STORAGE_PRETTY_JSON).toBeUndefined();
    expect(process.env.CONNECTOME_STORAGE_TYPE).toBeUndefined();
  });

  it('names a bad variable that comes from .env', async () => {
    await writeDotEnv(['CONNECTOME_STORAGE_CREATE_BACKUPS=sometimes']);
    process.chdir(dir());
    const error = thrown(() => createStorageFromEnv());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Invalid CONNECTOME_STORAGE_CREATE_BACKUPS="sometimes": expected true/false, 1/0, yes/no or on/off',
    );
  });

  it('counts an empty process variable as set', async () => {
    await writeDotEnv(['CONNECTOME_STORAGE_MAX_BACKUPS=3']);
    process.env.CONNECTOME_STORAGE_MAX_BACKUPS = '';
    expect(readEnvironment(dir()).CONNECTOME_STORAGE_MAX_BACKUPS).toBe('');
  });

  it('uses only an explicitly given environment', async () => {
    await writeDotEnv(['CONNECTOME_STORAGE_TYPE=mongo']);
    process.env.CONNECTOME_STORAGE_TYPE = 'mongo';
    process.chdir(dir());
    expect(() => createStorageFromEnv()).toThrow("Unsupported storage type 'mongo'");
    expect(createStorageFromEnv({ CONNECTOME_STORAGE_TYPE: 'sqlite' })).toBeInstanceOf(SQLiteStorage);
  });

  it('works without a .env file and refuses an unreadable one', async () => {
    expect(readEnvironment(dir()).CONNECTOME_STORAGE_TYPE).toBeUndefined();
    await mkdir(join(dir(), '.env'));
    const error = thrown(() => readEnvironment(dir()));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(join(dir(), '.env'));
  });
});
