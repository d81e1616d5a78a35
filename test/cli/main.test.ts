/** The CLI's `main()` in process (fast): usage errors, conflicts and the kept marker, Redis specs. */
import { existsSync, mkdtempSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { StorageFactory } from '../../src/factory/index.js';
import {
  BackendUnavailableError,
  type HealthProbe,
  type MemoryBatchItem,
  type StatsSnapshot,
} from '../../src/core/index.js';
import { MIGRATION_MARKER_KEY } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { REDIS_TEST_URL, uniqueTestPrefix } from '../conformance/harness-redis.js';
import { describeWithService } from '../services.js';
import { cli } from './run-cli.js';
import { deleteKeysWithPrefix, quickClient } from '../redis/redis-server.js';
import { writeV1Store } from '../redis/v1-store.js';

/** A user backend whose driver puts its password in errors and stats, as some drivers do. */
class LeakyStorage extends InMemoryStorage {
  private readonly password: string;

  constructor(config?: { password?: string }) {
    super();
    this.password = config?.password ?? '';
  }

  protected override async probeHealth(): Promise<HealthProbe> {
    throw new Error(`login to leaky://admin:${this.password}@db failed`);
  }

  protected override async collectStats(nowMs: number): Promise<StatsSnapshot> {
    return { ...(await super.collectStats(nowMs)), extra: { dsn: `leaky://admin:${this.password}@db` } };
  }
}

/**
 * A file store whose disk "goes away" once: the `failAt`-th memory write of the process
 * (a batch of one conversation's memories) rejects with a BackendUnavailableError, after records have been written; later instances
 * (the same command run again) write normally.
 */
class DiskGoesAwayStorage extends FileStorage {
  static memoryWrites = 0;
  static failAt = 0;

  override async storeMemories(
    conversationId: string,
    memories: readonly MemoryBatchItem[],
  ): Promise<number> {
    DiskGoesAwayStorage.memoryWrites += 1;
    if (DiskGoesAwayStorage.memoryWrites === DiskGoesAwayStorage.failAt) {
      throw new BackendUnavailableError(`disk went away while storing memories of ${conversationId}`);
    }
    return super.storeMemories(conversationId, memories);
  }
}

/** A user backend that is always read-only (a replica, say): the CLI cannot see it in the spec. */
class ReplicaStorage extends FileStorage {
  constructor(config?: { baseDir?: string }) {
    super({ ...config, readOnly: true });
  }
}

/** The configs `config_echo` was built with (a user backend whose name holds a `_`). */
const echoed: Array<Record<string, unknown>> = [];
class ConfigEchoStorage extends FileStorage {
  constructor(config: object = {}) {
    super({ baseDir: String((config as { dir?: unknown }).dir) });
    echoed.push({ ...config });
  }
}

const fixture = join(__dirname, '..', 'fixtures', 'python-reference', 'sample', 'storage_data');
// An existing (empty) source folder, so refusals about the target are what is tested.
const SOURCE_DIR = mkdtempSync(join(tmpdir(), 'connectome-main-source-'));

let dir: string;
let ref: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-main-'));
  ref = join(dir, 'ref');
  await cp(fixture, ref, { recursive: true });
  StorageFactory.registerBackend('leaky', LeakyStorage, { override: true });
  StorageFactory.registerBackend('disk-goes-away', DiskGoesAwayStorage, { override: true });
  StorageFactory.registerBackend('replica', ReplicaStorage, { override: true });
  StorageFactory.registerBackend('config_echo', ConfigEchoStorage, { override: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(SOURCE_DIR, { recursive: true, force: true });
});

describe('main()', () => {
  it.each([
    [['migrate', '--to', 'file:/tmp/x'], /Missing --from <backend spec> \(or --from-env <file>\)/],
    [
      ['migrate', '--from', 'file:a', '--from-env', 'a.env', '--to', 'file:b'],
      /Give either --from <backend spec> or --from-env, not both/,
    ],
    [
      ['migrate', '--from', `file:${SOURCE_DIR}`, '--to', 'mongo:'],
      /Cannot use the target mongo:: Unsupported storage type 'mongo'\. Available types: file, sqlite/,
    ],
    [
      ['migrate', '--from', 'file:a', '--to', 'file:b', '--concurrency', '0'],
      /'--concurrency <n>' argument '0' is invalid\. must be a positive integer/,
    ],
    [
      ['migrate', '--from', `file:${SOURCE_DIR}`, '--to', 'file:b?colour=red'],
      /Unknown option colour in "file:b\?colour=red"; file takes: /,
    ],
    [['migrate', '--from', 'file:a', '--to', 'file:b', '--bogus'], /unknown option '--bogus'/],
    // Given twice, an option was taken as its last value (into file:c, without a word).
    [
      ['migrate', '--from', 'file:a', '--to', 'file:b', '--to', 'file:c'],
      /'--to <spec>' argument 'file:c' is invalid\. the option is given twice; give it once/,
    ],
    [
      ['search', 'file:a', 'words', '--limit', '3', '--limit', '4'],
      /'--limit <n>' argument '4' is invalid\. the option is given twice/,
    ],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['stats'], /Missing <backend spec> \(or --env <file>\)/],
    [['search', 'file:./x'], /Missing the words to find: search <backend spec> "words"/],
    [['stats', 'file:a', '--env', 'x.env'], /Give either <backend spec> or --env, not both/],
  ])('exits 2 for %j', async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints help with exit 0, with the exit codes', async () => {
    const result = await cli('migrate', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--concurrency <n>');
    expect(result.stdout).toContain('redis://[:pass@]host:6379/0?prefix=connectome:');
    // PostgreSQL is a built-in, not something to register first.
    expect(result.stdout).toMatch(
      /^ {2}postgres:\/\/user:pass@host:5432\/db\?schema=connectome +PostgreSQL database and schema$/m,
    );
    expect(result.stdout).not.toContain('once a postgres backend');
    for (const help of [result.stdout, (await cli('--help')).stdout]) {
      expect(help).toMatch(/Exit codes:\n {2}0 +done/);
      expect(help).toMatch(/^ {2}130 +interrupted/m);
    }
  });

  it('exits 0 for help [command] and prints the package version with --version and -V', async () => {
    const help = await cli('help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: connectome-storage /);
    const helpMigrate = await cli('help', 'migrate');
    expect(helpMigrate.code).toBe(0);
    expect(helpMigrate.stdout).toContain('--concurrency <n>');
    const { version } = JSON.parse(await readFile(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      expect(await cli(flag)).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('exits 2 for help with an unknown command, as running it does (it printed the help, exit 0)', async () => {
    const result = await cli('help', 'migrat');
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain("error: unknown command 'migrat'");
    expect(result.stderr).toContain('Did you mean migrate?');
  });

  it('refuses a file or SQLite store that does not exist instead of creating it', async () => {
    const missing = join(dir, 'typo');
    const target = join(dir, 'never.db');
    const cases = [
      ['migrate', '--from', `file:${missing}`, '--to', `sqlite:${target}`],
      ['migrate', '--from', `sqlite:${missing}.db`, '--to', `sqlite:${target}`, '--dry-run'],
      ['stats', `file:${missing}`],
      ['purge-cache', `sqlite:${missing}.db`],
    ];
    for (const args of cases) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/ does not exist \(nothing was created\)/);
    }
    const health = await cli('health', `file:${missing}`, '--json');
    expect(health.code).toBe(2);
    expect(JSON.parse(health.stdout)).toMatchObject({
      ok: false,
      exitCode: 2,
      error: expect.stringMatching(/does not exist/),
    });
    expect([existsSync(missing), existsSync(`${missing}.db`), existsSync(target)]).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('reports a chain conflict with exit 1, keeps the marker, and lets the same command run again', async () => {
    const target = join(dir, 'conflict');
    const store = new FileStorage({ baseDir: target });
    await store.initialize();
    await store.storeReasoningChain('agent_alpha', { something: 'else' });
    const first = await cli('migrate', '--from', `file:${ref}`, '--to', `file:${target}`, '--merge');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(
      /Conflicts \(1\):\n {2}reasoning_chains "agent_alpha": the target's 1 chain\(s\) are not the first/,
    );
    expect(first.stdout).toMatch(
      /Verification FAILED: 1 difference\(s\)\.\n {2}reasoning_chains "agent_alpha": chain list differs at \$\[0\]/,
    );
    expect(first.stdout).toContain(
      'Not finished: fix the above and run the same command again (it resumes).',
    );
    expect(await store.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
    // The marker identifies this run: no --merge needed to run it again.
    const again = await cli('migrate', '--from', `file:${ref}`, '--to', `file:${target}`, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, resumed: true, merge: true });
    await store.deleteConversation('conv_001');
    await store.shutdown();
  });

  it('reports an unreachable store in health without its password', async () => {
    const result = await cli('health', 'redis://:hunter2@127.0.0.1:1?connectTimeout=200', '--json');
    expect(result.stdout + result.stderr).not.toContain('hunter2');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'error',
      store: expect.stringContaining(':***@'),
    });
  });

  it("masks a URL's password in the CLI's own messages too (a spec whose path reads as one)", async () => {
    // Until 2026-12-06 the store's display name in such a message was printed as typed.
    for (const json of [false, true]) {
      const result = await cli('stats', 'sqlite://u:hunter2@host/x.db', ...(json ? ['--json'] : []));
      expect(result.code).toBe(2);
      expect(result.stdout + result.stderr).toContain('The store sqlite://u:***@host/x.db does not exist');
      expect(result.stdout + result.stderr).not.toContain('sqlite://u:hunter2');
    }
  });

  it("keeps a user backend's secret options out of health, stats and migrate output", async () => {
    const spec = 'leaky:?password=hunter2&label=x';
    const results = [
      await cli('health', spec, '--json'),
      await cli('health', spec),
      await cli('stats', spec, '--json'),
      await cli('stats', spec),
      await cli('migrate', '--from', spec, '--to', `file:${join(dir, 'from-leaky')}`, '--json'),
    ];
    expect(results.map((result) => result.code)).toEqual([1, 1, 0, 0, 0]);
    for (const result of results) expect(result.stdout + result.stderr).not.toContain('hunter2');
    expect(JSON.parse(results[0]?.stdout ?? '')).toMatchObject({
      error: 'login to leaky://admin:***@db failed',
    });
    expect(JSON.parse(results[2]?.stdout ?? '')).toMatchObject({ dsn: 'leaky://admin:***@db' });
  });

  it("names a registered backend whose name holds a '_', and hands it every option as given", async () => {
    // Until 2026-12-06 the spec was refused, and its keys renamed as a built-in backend's are
    // (`prefix` to `keyPrefix`, `a_b` to `aB`; `constructor` to the text of Object).
    const store = join(dir, 'echo');
    const spec = `config_echo:?dir=${encodeURIComponent(store)}&constructor=1&toString=2&prefix=p&a_b=3`;
    const result = await cli('stats', spec, '--json');
    expect(result.code).toBe(0);
    expect(echoed.at(-1)).toEqual({ dir: store, constructor: '1', toString: '2', prefix: 'p', a_b: '3' });
  });

  it('exits 2 when a target the spec does not show as read-only refuses the first write', async () => {
    const target = join(dir, 'replica');
    const empty = new FileStorage({ baseDir: target });
    await empty.initialize(); // exists, so that its read-only open succeeds
    await empty.shutdown();
    const spec = `replica:?baseDir=${encodeURIComponent(target)}`;
    for (const json of [false, true]) {
      const result = await cli('migrate', '--from', `file:${ref}`, '--to', spec, ...(json ? ['--json'] : []));
      expect({ json, code: result.code }).toEqual({ json, code: 2 });
      expect(result.stderr).toContain('read-only');
      expect(result.stderr).not.toContain('partial copy');
    }
    const replica = new FileStorage({ baseDir: target });
    await replica.initialize();
    try {
      expect(await replica.listSystemStateKeys()).toEqual([]);
    } finally {
      await replica.shutdown();
    }
  });

  it('exits 3 when the target fails after writing started, and the same command resumes', async () => {
    const target = join(dir, 'disk-goes-away');
    const spec = `disk-goes-away:?baseDir=${encodeURIComponent(target)}`;
    DiskGoesAwayStorage.memoryWrites = 0;
    DiskGoesAwayStorage.failAt = 2;
    // One conversation at a time (no batch write): the failing memory write is the second call.
    const args = [
      'migrate',
      '--from',
      `file:${ref}`,
      '--to',
      spec,
      '--concurrency',
      '1',
      '--batch-size',
      '0',
    ];
    const failed = await cli(...args);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(
      /Migration failed: disk went away while storing memories of \S+\. The target holds a partial copy; run the same command again to resume/,
    );
    const partial = new FileStorage({ baseDir: target });
    await partial.initialize();
    try {
      expect(await partial.loadSystemState(MIGRATION_MARKER_KEY)).not.toBeNull();
      expect((await partial.listAllConversationIds()).length).toBeGreaterThan(0);
      const json = await cli(...args, '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: true,
        resumed: true,
        verification: { differenceCount: 0 },
      });
      expect(await partial.listSystemStateKeys()).not.toContain(MIGRATION_MARKER_KEY);
    } finally {
      await partial.shutdown();
    }
  });
});

describeWithService('redis')('main() with Redis', () => {
  it('migrates file -> redis -> sqlite through specs', async () => {
    const prefix = uniqueTestPrefix();
    const redis = `${REDIS_TEST_URL}?prefix=${encodeURIComponent(prefix)}`;
    try {
      expect(await cli('migrate', '--from', `file:${ref}`, '--to', redis)).toMatchObject({ code: 0 });
      const back = await cli(
        'migrate',
        '--from',
        redis,
        '--to',
        `sqlite:${join(dir, 'from-redis.db')}`,
        '--json',
      );
      expect(JSON.parse(back.stdout)).toMatchObject({ ok: true, counts: { memories: { copied: 7 } } });
    } finally {
      const client = quickClient(REDIS_TEST_URL);
      await deleteKeysWithPrefix(client, prefix).finally(() => client.disconnect());
    }
  });

  it('refuses a v1-layout source read-only (exit 2, unchanged) and copies it with --upgrade-source', async () => {
    const prefix = uniqueTestPrefix();
    const redis = `${REDIS_TEST_URL}?prefix=${encodeURIComponent(prefix)}`;
    const client = quickClient(REDIS_TEST_URL);
    try {
      await writeV1Store(client, prefix);
      const target = `sqlite:${join(dir, 'from-v1.db')}`;
      const refused = await cli('migrate', '--from', redis, '--to', target);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--upgrade-source');
      expect(await client.get(`${prefix}{index}:layout`)).toBe('1');
      const health = await cli('health', redis, '--json');
      expect(health.code).toBe(1);
      expect(JSON.parse(health.stdout)).toMatchObject({ status: 'unhealthy', needs_upgrade: true });
      const copied = await cli('migrate', '--from', redis, '--to', target, '--upgrade-source', '--json');
      expect(copied.code).toBe(0);
      expect(JSON.parse(copied.stdout)).toMatchObject({ ok: true, counts: { memories: { copied: 2 } } });
      expect(await client.get(`${prefix}{index}:layout`)).toBe('2');
    } finally {
      await deleteKeysWithPrefix(client, prefix).finally(() => client.disconnect());
    }
  });
});
