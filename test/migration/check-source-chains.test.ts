/**
 * `checkSource` names every place of an agent's reasoning chains that does not parse: until
 * 2026-12-04 it stopped at the agent's first (a SQLite, PostgreSQL or Redis source with
 * several bad chain rows or list items named one per run; a file store whose chains file and
 * sequence file both did not parse named the chains file only).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { CorruptChainsError, type StorageInterface } from '../../src/core/index.js';
import { migrateStorage, MigrationRefusedError } from '../../src/migration/index.js';
import { ident, usePostgresStore } from '../postgres/helpers.js';
import { keysWithPrefix, useRedisStore } from '../redis/helpers.js';
import { withRawDb } from '../sqlite/helpers.js';
import { InMemoryStorage } from '../support/memory-storage.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'connectome-check-source-chains-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Six chains of `a1`, two of `a2` (left intact). */
async function writeChains(store: StorageInterface): Promise<void> {
  await store.appendReasoningChains(
    'a1',
    [1, 2, 3, 4, 5, 6].map((step) => ({ step })),
  );
  await store.appendReasoningChains('a2', [{ step: 1 }, { step: 2 }]);
}

/** The refusal of a checked run from `source`, after checking it wrote nothing. */
async function refusal(source: StorageInterface): Promise<MigrationRefusedError> {
  const target = new InMemoryStorage();
  try {
    const error = await migrateStorage(source, target, { checkSource: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRefusedError);
    expect(await target.listAgents()).toEqual([]);
    return error as MigrationRefusedError;
  } finally {
    await target.shutdown();
  }
}

/** The places a refusal names, in its message's order. */
function expectNamed(error: MigrationRefusedError, places: string[]): void {
  expect(error.reason).toBe('corrupt-source');
  expect(error.message).toContain(`holds ${places.length} file(s) or record(s) that do not parse`);
  for (const place of places) expect(error.message).toContain(place);
}

it('file: names the chains file and the sequence file when neither parses', async () => {
  const baseDir = join(dir, 'file');
  const writer = new FileStorage({ baseDir });
  await writer.initialize();
  await writeChains(writer);
  await writer.trimReasoningChains('a1', 4); // gives a1 a sequence file
  await writer.shutdown();
  const sequences = join(baseDir, '.connectome-storage', 'chain-sequences');
  const [sequenceFile] = await readdir(sequences);
  const chainsFile = join(baseDir, 'agents', 'a1', 'reasoning_chains.json');
  await writeFile(chainsFile, '{"chains": [');
  await writeFile(join(sequences, sequenceFile!), '{"agent_id": ');
  const source = new FileStorage({ baseDir, readOnly: true });
  try {
    await source.initialize();
    const read = await source.loadSequencedReasoningChains('a1').catch((e: unknown) => e);
    expect(read).toBeInstanceOf(CorruptChainsError);
    expect(read).toMatchObject({ location: chainsFile, agentId: 'a1', sequence: null });
    expect((read as CorruptChainsError).locations).toEqual([chainsFile, join(sequences, sequenceFile!)]);
    expectNamed(await refusal(source), [chainsFile, join(sequences, sequenceFile!)]);
  } finally {
    await source.shutdown();
  }
});

it('SQLite: names every chain row that does not parse', async () => {
  const dbPath = join(dir, 'chains.db');
  const writer = new SQLiteStorage({ dbPath });
  await writer.initialize();
  await writeChains(writer);
  await writer.shutdown();
  const ids = await withRawDb(dbPath, async (db) => {
    const rows = await db.all("SELECT id FROM reasoning_chains WHERE agent_id = 'a1' ORDER BY id");
    const bad = [rows[1]!.id, rows[2]!.id, rows[5]!.id] as number[];
    for (const id of bad) await db.run("UPDATE reasoning_chains SET chain_data = '{oops' WHERE id = ?", [id]);
    return bad;
  });
  const source = new SQLiteStorage({ dbPath, readOnly: true });
  try {
    await source.initialize();
    const read = await source.loadSequencedReasoningChains('a1').catch((e: unknown) => e);
    expect(read).toMatchObject({ agentId: 'a1', sequence: ids[0] });
    expectNamed(
      await refusal(source),
      ids.map((id) => `reasoning_chains row ${id} (agent "a1")`),
    );
  } finally {
    await source.shutdown();
  }
});

describe('Redis', () => {
  const ctx = useRedisStore();

  it('names every chain list item that does not parse, by its index in the list', async () => {
    const store = await ctx.open();
    await writeChains(store);
    const [chainsKey] = (await keysWithPrefix(ctx.raw(), ctx.prefix())).filter((key) =>
      key.endsWith(':a:a1:chains'),
    );
    for (const index of [1, 2, 5]) await ctx.raw().lset(chainsKey!, index, '{oops');
    const read = await store
      .loadSequencedReasoningChains('a1', { afterSequence: 1 })
      .catch((e: unknown) => e);
    // Named by its index in the list, not in the page the read asked for.
    expect(read).toMatchObject({ agentId: 'a1', sequence: 2, location: `redis key ${chainsKey} item 2` });
    expectNamed(
      await refusal(store),
      [1, 2, 5].map((index) => `redis key ${chainsKey} item ${index}`),
    );
  });
});

describe('PostgreSQL', () => {
  const ctx = usePostgresStore();

  it('names every chain row that does not parse', async () => {
    const store = await ctx.open();
    await writeChains(store);
    const t = ident(ctx.schema());
    const { rows } = await ctx
      .raw()
      .query<{ id: string }>(`SELECT id FROM ${t}.reasoning_chains WHERE agent_id = 'a1' ORDER BY id`);
    const bad = [rows[1]!.id, rows[2]!.id, rows[5]!.id];
    await ctx.raw().query(`UPDATE ${t}.reasoning_chains SET chain_data = '[1]' WHERE id = ANY($1)`, [bad]);
    expectNamed(
      await refusal(store),
      bad.map((id) => `reasoning_chains id ${id} (agent "a1")`),
    );
  });
});
