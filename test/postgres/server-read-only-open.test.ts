/**
 * `initialize()` against a server that refuses writes (an app restarting while its address
 * points at a hot standby, or with `default_transaction_read_only` set), on a private server:
 * an up-to-date schema opens writable (index on or off) and read-only, reads and searches
 * work (a search index that is behind is not caught up: searches scan), each write rejects
 * as unavailable, and writes work again on the same instance once the server takes them.
 * A schema that needs an upgrade fails a writable open at once, naming the upgrade, and is
 * left untouched; a read-only open of it is `StoreNeedsUpgradeError`.
 */
import {
  POSTGRES_SCHEMA_VERSION,
  PostgresStorage,
  type PostgresStorageConfig,
} from '../../src/backends/postgres/index.js';
import {
  BackendUnavailableError,
  ReadOnlyError,
  type SearchHit,
  StoreNeedsUpgradeError,
} from '../../src/core/index.js';
import { freshSchema, ident, serverReadOnly, settle, useFaultSuite, withinMs } from './fault-helpers.js';
import { createSchemaAtVersion } from './helpers.js';
import { describeWithPrivatePostgres, PrivatePostgres } from './private-server.js';

/** The error of a call that must reject (within 20 s: a hang is a failure too). */
async function failure(promise: Promise<unknown>, what: string): Promise<Error> {
  const outcome = await withinMs(settle(promise), 20_000, what);
  if (outcome.ok) throw new Error(`${what} succeeded`);
  return outcome.error as Error;
}

/** The conversations a search finds, sorted. */
const found = (hits: SearchHit[]): string[] =>
  hits.map((hit) => (hit.kind === 'conversations' ? hit.conversationId : hit.kind)).sort();

/** The schema version `storage_meta` records, read straight from the server. */
async function versionOf(server: PrivatePostgres, schema: string): Promise<string | undefined> {
  const [row] = await server.query<{ value: string }>(
    `SELECT value FROM ${ident(schema)}.storage_meta WHERE key = 'schema_version'`,
  );
  return row?.value;
}

/** Whether conversation `id` has its search index columns (`search_length` set). */
async function indexed(server: PrivatePostgres, schema: string, id: string): Promise<boolean> {
  const [row] = await server.query<{ done: boolean }>(
    `SELECT search_length IS NOT NULL AS done FROM ${ident(schema)}.conversations WHERE conversation_id = $1`,
    [id],
  );
  return row?.done === true;
}

/** The schema's `search_machinery` mark (`schema-v7.ts`; `undefined`: none). */
async function machineryMark(server: PrivatePostgres, schema: string): Promise<string | undefined> {
  const [row] = await server.query<{ value: string }>(
    `SELECT value FROM ${ident(schema)}.storage_meta WHERE key = 'search_machinery'`,
  );
  return row?.value;
}

/** Version 5 (the one before the current), with one conversation, as an older release left it. */
async function olderSchema(server: PrivatePostgres): Promise<string> {
  const schema = freshSchema();
  const s = await createSchemaAtVersion((sql, params) => server.query(sql, params), schema, 5);
  await server.query(`INSERT INTO ${s}.conversations (conversation_id, data) VALUES ('c', '{"v":1}')`);
  return schema;
}

describeWithPrivatePostgres()('postgres: initialize() against a server that refuses writes', () => {
  const { stores, server } = useFaultSuite({ after: () => serverReadOnly(server(), false) });

  /** Opens a store on `target` within 20 s. */
  const open = (target: PrivatePostgres, config: PostgresStorageConfig): Promise<PostgresStorage> =>
    withinMs(stores.store(target, config), 20_000, 'initialize()');

  /**
   * An up-to-date schema with conversation "c" indexed and "d" not (written with the index
   * off, as a `searchIndex: false` process leaves it), both saying "walrus".
   */
  async function schemaBehind(target: PrivatePostgres): Promise<string> {
    const writer = await stores.store(target);
    await writer.storeConversation('c', { t: 'walrus' });
    const plain = await stores.store(target, { schema: writer.schema, searchIndex: false });
    await plain.storeConversation('d', { t: 'walrus seal' });
    await stores.closeAll();
    return writer.schema;
  }

  /** What every open of an up-to-date schema on a server refusing writes does. */
  async function opensAndReads(target: PrivatePostgres, schema: string): Promise<PostgresStorage> {
    const s = await open(target, { schema });
    const plain = await open(target, { schema, searchIndex: false });
    const reader = await open(target, { schema, readOnly: true });
    for (const store of [s, plain, reader]) {
      expect(await store.listConversations()).toEqual(['c', 'd']);
      expect(await store.loadConversation('d')).toEqual({ t: 'walrus seal' });
      expect(found(await store.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c', 'd']);
    }
    for (const store of [s, plain]) {
      const error = await failure(store.storeConversation('e', { t: 'walrus' }), 'a write');
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toContain('"e"');
      expect(error.message).toContain('SQLSTATE 25006');
    }
    expect(await failure(reader.storeConversation('e', {}), 'a write')).toBeInstanceOf(ReadOnlyError);
    // Nothing was written: "d" is still unindexed, "e" absent.
    expect(await indexed(target, schema, 'd')).toBe(false);
    expect(await s.loadConversation('e')).toBeNull();
    return s;
  }

  it('default_transaction_read_only: every open of an up-to-date schema works; writes come back', async () => {
    const schema = await schemaBehind(server());
    await serverReadOnly(server(), true);
    const s = await opensAndReads(server(), schema);
    await serverReadOnly(server(), false);
    // The same instance, no new initialize(): writes work, and a search catches the index up.
    await s.storeConversation('e', { t: 'walrus' });
    expect(found(await s.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c', 'd', 'e']);
    expect(await indexed(server(), schema, 'd')).toBe(true);
  });

  it('a schema only ever written with the index off opens with it on; reindex() builds it once writes work', async () => {
    const plain = await stores.store(server(), { searchIndex: false });
    await plain.storeConversation('c', { t: 'walrus' });
    await stores.closeAll();
    await serverReadOnly(server(), true);
    const s = await open(server(), { schema: plain.schema });
    expect(found(await s.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c']);
    // Created with the index off, the schema's search machinery sleeps (schema-v7.ts), and the
    // open could not wake it; the same instance writes meanwhile.
    expect(await machineryMark(server(), plain.schema)).toBe('dormant');
    await serverReadOnly(server(), false);
    await s.storeConversation('d', { t: 'walrus seal' });
    // No index was ever built here (no text rule recorded): searches scan until a rebuild. The
    // first search with writes back wakes the machinery, counting what was written meanwhile.
    expect(found(await s.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c', 'd']);
    expect(await machineryMark(server(), plain.schema)).toBeUndefined();
    expect(await indexed(server(), plain.schema, 'c')).toBe(false);
    await s.reindex();
    expect(await indexed(server(), plain.schema, 'c')).toBe(true);
    expect(found(await s.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c', 'd']);
    const [figures] = await server().query<{ kept: string; rows: string }>(
      `SELECT (SELECT sum(docs) FROM ${ident(plain.schema)}.search_stats WHERE table_name = 'conversations')::text AS kept,
        (SELECT count(search_length) FROM ${ident(plain.schema)}.conversations)::text AS rows`,
    );
    expect(figures).toEqual({ kept: '2', rows: '2' });
  });

  it('an older schema: a writable open fails at once naming the upgrade, and leaves it as it was', async () => {
    const schema = await olderSchema(server());
    await serverReadOnly(server(), true);
    const s = stores.adopt(new PostgresStorage({ url: server().url, schema, connectionTimeoutMillis: 2000 }));
    const error = await failure(s.initialize(), 'initialize()');
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain(
      `upgrade schema "${schema}" from version 5 to ${POSTGRES_SCHEMA_VERSION}`,
    );
    expect(error.message).toContain('SQLSTATE 25006');
    const readOnly = await failure(open(server(), { schema, readOnly: true }), 'a read-only open');
    expect(readOnly).toBeInstanceOf(StoreNeedsUpgradeError);
    expect(await versionOf(server(), schema)).toBe('5');
    await serverReadOnly(server(), false);
    await s.initialize();
    expect(await versionOf(server(), schema)).toBe(String(POSTGRES_SCHEMA_VERSION));
    expect(await s.loadConversation('c')).toEqual({ v: 1 });
  });

  it('a real hot standby: opens as above; after its promotion (a failover) the same instance writes', async () => {
    const schema = await schemaBehind(server());
    const older = await olderSchema(server());
    const standby = await PrivatePostgres.standbyOf(server());
    try {
      await standby.start();
      const s = await opensAndReads(standby, schema);
      const upgrade = stores.adopt(
        new PostgresStorage({ url: standby.url, schema: older, connectionTimeoutMillis: 2000 }),
      );
      const error = await failure(upgrade.initialize(), 'initialize()');
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toContain(
        `upgrade schema "${older}" from version 5 to ${POSTGRES_SCHEMA_VERSION}`,
      );
      const readOnly = await failure(open(standby, { schema: older, readOnly: true }), 'a read-only open');
      expect(readOnly).toBeInstanceOf(StoreNeedsUpgradeError);

      await standby.promote();
      await s.storeConversation('e', { t: 'walrus' });
      expect(found(await s.search({ text: 'walrus', kinds: ['conversations'] }))).toEqual(['c', 'd', 'e']);
      expect(await versionOf(standby, older)).toBe('5');
      await upgrade.initialize();
      expect(await versionOf(standby, older)).toBe(String(POSTGRES_SCHEMA_VERSION));
      expect(await upgrade.loadConversation('c')).toEqual({ v: 1 });
    } finally {
      await stores.closeAll();
      await standby.destroy();
    }
  }, 60_000);
});
