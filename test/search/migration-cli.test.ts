/**
 * Search beyond one store: a migration keeps every record findable (the same queries find
 * the same records in the target), and the `search` command of the CLI.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import type { SearchHit, SearchKind, StorageInterface } from '../../src/core/index.js';
import { migrateStorage } from '../../src/migration/index.js';
import { cli } from '../cli/run-cli.js';
import type { BackendHarness } from '../conformance/harness.js';
import { fileHarness } from '../conformance/harness-file.js';
import { postgresHarness } from '../conformance/harness-postgres.js';
import { redisHarness } from '../conformance/harness-redis.js';
import { sqliteFileHarness } from '../conformance/harness-sqlite.js';
import { pairService, withStorePair } from '../migration/pairs.js';
import { populate } from '../migration/support.js';
import { describeWithService } from '../services.js';
import { useTempDir } from '../support/temp-dir.js';

const KINDS: SearchKind[] = ['raw_messages', 'memories', 'reasoning_chains', 'conversations', 'chunk_info'];
const QUERIES = [
  'stamped now',
  'time',
  'héllo 🙂',
  'ünïcödé 漢字',
  'raw 2',
  'early late',
  'conversation plain',
  'β',
];

function idOf(hit: SearchHit): string {
  if (hit.kind === 'raw_messages') return `raw_messages:${hit.conversationId}:${hit.messageIndex}`;
  if (hit.kind === 'memories') return `memories:${hit.conversationId}:${hit.memoryId}`;
  if (hit.kind === 'reasoning_chains') return `reasoning_chains:${hit.agentId}:${hit.chainIndex}`;
  return `${hit.kind}:${hit.conversationId}`;
}

async function found(s: StorageInterface, text: string, match: 'any' | 'all'): Promise<string[]> {
  return (await s.search({ text, match, kinds: KINDS, limit: 1000 })).map(idOf).sort();
}

/** Pairs over every built-in backend: each is a source and a target at least once. */
const PAIRS: Array<readonly [BackendHarness, BackendHarness]> = [
  [fileHarness, sqliteFileHarness],
  [sqliteFileHarness, postgresHarness],
  [fileHarness, redisHarness],
  [postgresHarness, redisHarness],
  [redisHarness, fileHarness],
];

for (const [from, to] of PAIRS) {
  describeWithService(pairService(from, to))(`search after a migration ${from.name} -> ${to.name}`, () => {
    it('finds the same records for the same queries in the target', async () => {
      await withStorePair(from, to, async (source, target) => {
        await populate(source);
        expect(await migrateStorage(source, target)).toMatchObject({ ok: true });
        for (const text of QUERIES) {
          for (const match of ['any', 'all'] as const) {
            const expected = await found(source, text, match);
            expect({ text, match, hits: await found(target, text, match) }).toEqual({
              text,
              match,
              hits: expected,
            });
          }
        }
        expect((await found(target, 'stamped now', 'all')).length).toBeGreaterThan(4);
      });
    });
  });
}

describe('the search command of the CLI', () => {
  const dir = useTempDir();

  it('connectome-storage search prints hits best first, as text or JSON, and refuses a bad query with exit 2', async () => {
    const dbPath = join(dir(), 'cli.db');
    const store = new SQLiteStorage({ dbPath });
    await store.initialize();
    await store.storeMemory('c1', 'm1', { summary: 'The Café report.pdf' });
    await store.storeMemory('c1', 'm2', { summary: 'another report' });
    await store.storeReasoningChain('a1', { steps: ['cafe visit'] });
    await store.shutdown();
    const spec = `sqlite:${dbPath}`;

    const text = await cli('search', spec, 'cafe report');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^2\.\d{3} {2}memories c1\/m1 {2}The «Café» «report»\.pdf$/);
    expect(lines).toHaveLength(3);

    const json = await cli('search', spec, 'cafe', '--kind', 'reasoning_chains', '--agent', 'a1', '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { hits: SearchHit[] };
    expect(parsed.hits.map(idOf)).toEqual(['reasoning_chains:a1:0']);

    const all = await cli('search', spec, 'cafe report', '--all', '--conversation', 'c1', '--limit', '5');
    expect(all.stdout.trim().split('\n')).toHaveLength(1);
    expect((await cli('search', spec, 'unicorn')).stdout).toContain('No records');
    // A word starting with "-" is a plain word after "--"; without it the error says so.
    const dashed = await cli('search', spec, '--all', '--', '-cafe report');
    expect(dashed.code).toBe(0);
    expect(dashed.stdout).toContain('memories c1/m1');
    const unquoted = await cli('search', spec, '-cafe report');
    expect(unquoted.code).toBe(2);
    expect(unquoted.stderr).toContain('words that start with - go after --');
    expect((await cli('search', spec, '   ')).code).toBe(2);
    expect((await cli('search', spec, 'x', '--kind', 'cache')).code).toBe(2);
    expect((await cli('search', `sqlite:${join(dir(), 'missing.db')}`, 'x')).code).toBe(2);
  });

  it('with --env, two unquoted words are refused saying to quote them', async () => {
    const envFile = join(dir(), 'store.env');
    await writeFile(
      envFile,
      `CONNECTOME_STORAGE_TYPE=sqlite\nCONNECTOME_STORAGE_DB_PATH=${join(dir(), 'env.db')}\n`,
    );
    const result = await cli('search', '--env', envFile, 'cafe', 'latte');
    expect(result.code).toBe(2);
    // Until 2026-12-04: "Give either <backend spec> or --env, not both".
    expect(result.stderr).toContain(
      'give the words as one argument, quoted: search --env <file> "cafe latte"',
    );
  });

  it('takes one kind per --kind, so the words may follow the options', async () => {
    const dbPath = join(dir(), 'kinds.db');
    const store = new SQLiteStorage({ dbPath });
    await store.initialize();
    await store.storeMemory('c1', 'm1', { summary: 'cafe report' });
    await store.storeReasoningChain('a1', { steps: ['cafe visit'] });
    await store.storeRawMessages('c1', [{ role: 'user', content: 'cafe' }]);
    await store.shutdown();
    const spec = `sqlite:${dbPath}`;

    // Options first, then the words, as README's usage allows: a variadic --kind took "cafe"
    // as a second kind and the command failed with "Missing the words to find".
    const ids = async (...args: string[]): Promise<string[]> => {
      const result = await cli('search', spec, ...args, '--json');
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      return (JSON.parse(result.stdout) as { hits: SearchHit[] }).hits.map(idOf).sort();
    };
    expect(await ids('--kind', 'memories', 'cafe')).toEqual(['memories:c1:m1']);
    expect(await ids('--kind', 'memories', '--kind', 'reasoning_chains', 'cafe')).toEqual([
      'memories:c1:m1',
      'reasoning_chains:a1:0',
    ]);
    expect(await ids('cafe', '--kind', 'raw_messages')).toEqual(['raw_messages:c1:0']);
  });
});
