/**
 * Upgrading an index built under the old default text rule (version 1: every string, the
 * library's timestamps included). Each backend's test writes that old index form (indexed with
 * `searchFields` `['$']`, the old rule's text, then marked as the old version built it), checks
 * the timestamp tokens really are in it, and shows that a read-only open does not use it and
 * changes nothing, and that the next writable open rebuilds it: its timestamp tokens are gone
 * from the index, and a memory or chain is found by its words, not by its timestamp. (Hits
 * alone cannot show the rebuild: the core recounts each candidate's words under the current
 * rule and drops one without a query word, so the index contents are checked directly.)
 */
import path from 'node:path';
import type { StorageInterface } from '../../src/core/index.js';
import { DEFAULT_TEXT_RULE_VERSION, SEARCH_KINDS, type SearchKind } from '../../src/core/index.js';
import {
  fieldsFingerprint,
  readSegment,
  type Segment,
  segmentFile,
  termsOf,
  writeSegment,
} from '../../src/backends/file/search-segments.js';
import type { FileStorage } from '../../src/backends/file/index.js';
import { SQLiteStorage } from '../../src/backends/sqlite/index.js';
import { SEARCH_INDEX_VERSION } from '../../src/backends/redis/search-lua.js';
import { describeWithService } from '../services.js';
import { openStore, removeTempDirs, shutdownAll } from '../file/helpers.js';
import { useTempDir, withRawDb } from '../sqlite/helpers.js';
import { useRedisStore } from '../redis/helpers.js';
import { tokenEntries } from '../redis/search-postings.js';
import { ident, usePostgresStore } from '../postgres/helpers.js';

const CREATED_AT = '2031-07-19T08:45:12.345678+00:00';
const STORED_AT = '2031-07-19T09:05:07.654321+00:00';
/** The old rule's text of memories and chains: the whole record. */
const OLD_RULE = { memories: ['$'], reasoning_chains: ['$'] };

/** A longer record whose own words hold the year: the only one the current rule finds by it. */
const LONG_NOTE = `${'field notes of a long walk '.repeat(8)}planned for 2031`;

/** Stores a memory and a chain with timestamps of 2031, and a memory saying 2031 in its data. */
async function populate(s: StorageInterface): Promise<void> {
  await s.storeMemory('c1', 'm1', { created_at: CREATED_AT, note: 'marsupial sighting' });
  await s.storeReasoningChain('a1', { stored_at: STORED_AT, thought: 'wombat burrow' });
  await s.storeMemory('c2', 'm4', { note: LONG_NOTE });
}

/**
 * The best hit for the year. An index holding the timestamps ranks the two short records
 * first, and the core then drops them (not a word of theirs under the current rule): no hit.
 */
async function bestForYear(s: StorageInterface): Promise<string[]> {
  const hits = await s.search({ text: '2031', kinds: [...SEARCH_KINDS], limit: 1 });
  return hits.map((h) => `${h.kind}:${h.kind === 'reasoning_chains' ? h.agentId : h.conversationId}`);
}

/** Kinds and ids of the hits. */
async function found(s: StorageInterface, text: string): Promise<string[]> {
  const hits = await s.search({ text, kinds: [...SEARCH_KINDS], limit: 100 });
  return hits.map((h) => (h.kind === 'memories' ? `memories:${h.memoryId}` : `${h.kind}`)).sort();
}

/** What every store answers under the current rule, index or scan. */
async function expectCurrentRule(s: StorageInterface): Promise<void> {
  expect(await found(s, '2031')).toEqual(['memories:m4']);
  expect(await bestForYear(s)).toEqual(['memories:c2']);
  expect(await found(s, '19 07 45 654321')).toEqual([]);
  expect(await found(s, 'marsupial wombat')).toEqual(['memories:m1', 'reasoning_chains']);
}

describe('text rule upgrade: file', () => {
  afterEach(async () => {
    await shutdownAll();
    await removeTempDirs();
  });

  const fileOf = (baseDir: string, kind: SearchKind, owner: string): string =>
    segmentFile(path.join(baseDir, '.connectome-storage', 'search'), kind, owner);
  const segmentOf = (baseDir: string, kind: SearchKind, owner: string): Segment | null =>
    readSegment(fileOf(baseDir, kind, owner), kind, owner);

  /** Rewrites a segment's fields fingerprint, keeping its postings. */
  async function setFields(baseDir: string, kind: SearchKind, owner: string, fields: string): Promise<void> {
    const segment = await segmentOf(baseDir, kind, owner);
    expect(segment).not.toBeNull();
    await writeSegment(baseDir, fileOf(baseDir, kind, owner), { ...segment!, fields });
  }

  it('segments of the old default rule are stale: rebuilt by a search, in memory on a read-only open', async () => {
    const old = await openStore({ searchFields: OLD_RULE });
    await populate(old);
    await old.shutdown(); // writes the queued segments
    const { baseDir } = old as FileStorage;
    // The old rule's fingerprint of a default-rule segment was `null`.
    await setFields(baseDir, 'memories', 'c1', 'null');
    await setFields(baseDir, 'reasoning_chains', 'a1', 'null');
    expect(termsOf((await segmentOf(baseDir, 'memories', 'c1'))!).has('2031')).toBe(true);

    await expectCurrentRule(await openStore({ baseDir, readOnly: true }));
    expect((await segmentOf(baseDir, 'memories', 'c1'))?.fields).toBe('null'); // nothing written

    const writable = await openStore({ baseDir });
    await expectCurrentRule(writable);
    // The rebuilt segments are written in the background: wait for them.
    await (writable as unknown as { textIndex: { flush(): Promise<void> } | null }).textIndex?.flush();
    for (const [kind, owner] of [
      ['memories', 'c1'],
      ['reasoning_chains', 'a1'],
    ] as const) {
      const rebuilt = await segmentOf(baseDir, kind, owner);
      expect(rebuilt?.fields).toBe(fieldsFingerprint({}, kind));
      expect(termsOf(rebuilt!).has('2031')).toBe(false);
      expect(termsOf(rebuilt!).size).toBeGreaterThan(0);
    }
  });

  it('the fingerprint of the default rule changed only for memories and chains', () => {
    expect(fieldsFingerprint({}, 'memories')).toBe(`default:${DEFAULT_TEXT_RULE_VERSION}`);
    expect(fieldsFingerprint({}, 'reasoning_chains')).toBe(`default:${DEFAULT_TEXT_RULE_VERSION}`);
    for (const kind of ['raw_messages', 'conversations', 'chunk_info'] as const)
      expect(fieldsFingerprint({}, kind)).toBe('null');
    expect(fieldsFingerprint({ memories: ['$'] }, 'memories')).toBe('["$"]');
  });
});

describe('text rule upgrade: sqlite', () => {
  const dir = useTempDir();
  const opened: SQLiteStorage[] = [];
  const open = async (dbPath: string, extra: Record<string, unknown> = {}): Promise<SQLiteStorage> => {
    const s = new SQLiteStorage({ dbPath, ...extra });
    opened.push(s);
    await s.initialize();
    return s;
  };
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.shutdown();
  });
  const entriesWith = (dbPath: string, token: string): Promise<number> =>
    withRawDb(dbPath, async (db) => {
      const [row] = await db.all('SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH ?', [token]);
      return Number(row?.n);
    });
  const rule = (dbPath: string): Promise<unknown> =>
    withRawDb(
      dbPath,
      async (db) => (await db.all("SELECT value FROM search_meta WHERE key = 'text_rule'"))[0]?.value,
    );

  for (const [layout, oldForm] of [
    ['without search_meta (before the rule was recorded)', 'DROP TABLE search_meta'],
    ['with another rule recorded', "UPDATE search_meta SET value = '1'"],
  ] as const) {
    it(`an index ${layout} is scanned past by a read-only open and rebuilt by a writable one`, async () => {
      const dbPath = path.join(dir(), 'old.db');
      await populate(await open(dbPath, { searchFields: OLD_RULE }));
      for (const s of opened.splice(0)) await s.shutdown();
      await withRawDb(dbPath, (db) => db.run(oldForm));
      expect(await entriesWith(dbPath, '2031')).toBe(3);

      await expectCurrentRule(await open(dbPath, { readOnly: true }));
      expect(await entriesWith(dbPath, '2031')).toBe(3); // a read-only open changed nothing

      const upgraded = await open(dbPath);
      expect(await rule(dbPath)).toBe(`${DEFAULT_TEXT_RULE_VERSION}+pending`);
      expect(await entriesWith(dbPath, '2031')).toBe(1);
      expect(await entriesWith(dbPath, 'marsupial')).toBe(1);
      await expectCurrentRule(upgraded);
      expect((await upgraded.getStorageStats()).search_index_entries).toBe(3);
    });
  }

  it('a writable open of an index built under the current rule keeps its entries', async () => {
    const dbPath = path.join(dir(), 'current.db');
    await populate(await open(dbPath, { searchFields: OLD_RULE }));
    for (const s of opened.splice(0)) await s.shutdown();
    // Recorded as the current rule: trusted as it is (a `searchFields` change needs reindex()),
    // which gives the wrong best hit, as an old index trusted would.
    const s = await open(dbPath);
    expect(await entriesWith(dbPath, '2031')).toBe(3);
    expect(await bestForYear(s)).toEqual([]);
    await s.reindex();
    expect(await entriesWith(dbPath, '2031')).toBe(1);
    expect(await bestForYear(s)).toEqual(['memories:c2']);
  });
});

describeWithService('redis')('text rule upgrade: redis', () => {
  const ctx = useRedisStore();

  it('an index of version 4 is scanned past by a read-only open and rebuilt by a writable one', async () => {
    // The Redis version names the rule its postings were built under: a new default text rule
    // (DEFAULT_TEXT_RULE_VERSION) needs a new index version, or version-5 stores keep old tokens.
    expect({ rule: DEFAULT_TEXT_RULE_VERSION, redis: SEARCH_INDEX_VERSION }).toEqual({ rule: 2, redis: '5' });
    const old = await ctx.open({ searchFields: OLD_RULE });
    await populate(old);
    await old.shutdown();
    const raw = ctx.raw();
    // Version 4 stored the same postings, built under the old rule.
    await raw.set(`${ctx.prefix()}{index}:search`, '4');
    const postings = async (token: string): Promise<number> =>
      (await tokenEntries(raw, ctx.prefix(), token)).filter((entry) => entry.live).length;
    expect(await postings('2031')).toBe(3);

    await expectCurrentRule(await ctx.open({ readOnly: true }));
    expect(await postings('2031')).toBe(3);

    const upgraded = await ctx.open();
    expect(await raw.get(`${ctx.prefix()}{index}:search`)).toBe('5');
    expect(await postings('2031')).toBe(1);
    expect(await postings('marsupial')).toBe(1);
    await expectCurrentRule(upgraded);
  });
});

describeWithService('postgres')('text rule upgrade: postgres', () => {
  const ctx = usePostgresStore();
  const rowsWith = async (token: string): Promise<number> => {
    const s = ident(ctx.schema());
    const { rows } = await ctx.raw().query<{ n: number }>(
      `SELECT (SELECT count(*) FROM ${s}.memories WHERE search_tokens @@ $1::tsquery)
        + (SELECT count(*) FROM ${s}.reasoning_chains WHERE search_tokens @@ $1::tsquery) AS n`,
      [`'${token}'`],
    );
    return Number(rows[0]?.n);
  };
  const rule = async (): Promise<string | undefined> => {
    const { rows } = await ctx
      .raw()
      .query<{ value: string }>(
        `SELECT value FROM ${ident(ctx.schema())}.storage_meta WHERE key = 'search_text_rule'`,
      );
    return rows[0]?.value;
  };

  it('an index without the recorded rule is scanned past by a read-only open and rebuilt by a writable one', async () => {
    const old = await ctx.open({ searchFields: OLD_RULE });
    await populate(old);
    await old.shutdown();
    expect(await rule()).toBe(String(DEFAULT_TEXT_RULE_VERSION)); // a new store records it
    // The old version recorded no rule.
    await ctx.raw().query(`DELETE FROM ${ident(ctx.schema())}.storage_meta WHERE key = 'search_text_rule'`);
    expect(await rowsWith('2031')).toBe(3);

    await expectCurrentRule(await ctx.open({ readOnly: true }));
    expect(await rowsWith('2031')).toBe(3);

    const upgraded = await ctx.open();
    expect(await rule()).toBe(String(DEFAULT_TEXT_RULE_VERSION));
    expect(await rowsWith('2031')).toBe(1);
    expect(await rowsWith('marsupial')).toBe(1);
    await expectCurrentRule(upgraded);
  });

  it('a writable open of an index built under the current rule does not rebuild it', async () => {
    const old = await ctx.open({ searchFields: OLD_RULE });
    await populate(old);
    await old.shutdown();
    const s = await ctx.open();
    expect(await rowsWith('2031')).toBe(3);
    expect(await bestForYear(s)).toEqual([]); // trusted as it is, as an old index would be
    await s.reindex();
    expect(await rowsWith('2031')).toBe(1);
    expect(await bestForYear(s)).toEqual(['memories:c2']);
  });
});
