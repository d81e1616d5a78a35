/**
 * Least-privilege roles, as production deployments use them: the schema's owner creates and
 * upgrades it (a deploy step), the application connects as a role with DML rights only, and a
 * reporting job as a role with SELECT only (`readOnly: true`). Every call must work with those
 * grants, and what needs more (creating or upgrading the schema) must fail at initialize with
 * an error naming the privilege and the object.
 */
import { migrateStorage, verifyMigration } from '../../src/migration/index.js';
import {
  POSTGRES_SCHEMA_VERSION,
  PostgresStorage,
  type PostgresStorageConfig,
} from '../../src/backends/postgres/index.js';
import { ConfigError } from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { populate } from '../migration/support.js';
import { exerciseEveryCall } from '../support/every-call.js';
import { describeWithService } from '../services.js';
import { ident, usePostgresStore, useTestRoles } from './helpers.js';

/** The grants a DML-only application role gets on the schema `s` (quoted). */
const DML_GRANTS = (s: string, role: string): string[] => [
  `GRANT USAGE ON SCHEMA ${s} TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role}`,
  `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${role}`,
  `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${role}`,
];

/** The grants of a SELECT-only reporting role. */
const SELECT_GRANTS = (s: string, role: string): string[] => [
  `GRANT USAGE ON SCHEMA ${s} TO ${role}`,
  `GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${role}`,
];

describeWithService('postgres')('postgres least-privilege roles', () => {
  const ctx = usePostgresStore();
  const roles = useTestRoles(ctx);

  /** A new login role with `grants` on the test schema; returns a URL that logs in as it. */
  async function roleWith(grants: (s: string, role: string) => string[]): Promise<string> {
    const { role, url } = await roles.create('priv');
    for (const grant of grants(ident(ctx.schema()), role)) await ctx.raw().query(grant);
    return url;
  }

  /** Opens the test schema as the role of `url` (tracked, shut down after the test). */
  async function openAs(url: string, config: PostgresStorageConfig = {}): Promise<PostgresStorage> {
    const storage = roles.track(new PostgresStorage({ url, schema: ctx.schema(), ...config }));
    await storage.initialize();
    return storage;
  }

  it('a DML-only role opens a current schema and every call works', async () => {
    const owner = await ctx.open();
    await owner.storeConversation('old', { title: 'written by the owner' });
    const app = await openAs(await roleWith(DML_GRANTS), { maxReasoningChainsPerAgent: 3 });

    await exerciseEveryCall(app, async () => {
      const stats = await app.getStorageStats();
      expect(stats.conversation_count).toBe(3);
      expect(Object.keys(stats.table_bytes as object).length).toBeGreaterThan(0);
      expect(await app.listConversations()).toEqual(['c1', 'c2', 'old']);
    });
    expect(await owner.listConversations()).toEqual(['c2', 'old']);
  });

  it('a DML-only role indexes rows an unindexed writer stored, on open and at a search', async () => {
    const owner = await ctx.open({ searchIndex: false });
    await owner.storeMemory('c', 'm', { content: 'unindexed words' });
    const url = await roleWith(DML_GRANTS);
    // Created with the index off, the schema has no search machinery yet (schema-v7.ts), and
    // only its owner can create it: the role is refused, naming what it lacks, until then.
    const s = ident(ctx.schema());
    const refused = await openError(url);
    expect(refused).toBeInstanceOf(ConfigError);
    const message = String((refused as Error).message);
    expect(message).toContain('was created with searchIndex: false and needs its search index machinery');
    expect(message).toContain(`ownership of table(s) ${s}.chunk_info, ${s}.conversations`);
    expect(message).not.toContain('CREATE on');
    await (await ctx.open()).shutdown();
    const app = await openAs(url);
    expect(await app.search({ text: 'unindexed' })).toHaveLength(1);
    await owner.storeMemory('c', 'n', { content: 'unindexed later' });
    expect(await app.search({ text: 'later' })).toHaveLength(1);
  });

  it('migrates into and out of a DML-only role', async () => {
    await (await ctx.open()).shutdown();
    const app = await openAs(await roleWith(DML_GRANTS));
    const source = new InMemoryStorage();
    await source.initialize();
    await populate(source);
    expect(await migrateStorage(source, app)).toMatchObject({ ok: true });
    expect(await verifyMigration(source, app)).toMatchObject({ ok: true });
    const copy = new InMemoryStorage();
    await copy.initialize();
    expect(await migrateStorage(app, copy)).toMatchObject({ ok: true });
    expect(await verifyMigration(app, copy)).toMatchObject({ ok: true });
  });

  it('a SELECT-only role opens readOnly: reads, searches, stats, and is a migration source', async () => {
    const owner = await ctx.open();
    await populate(owner);
    const reader = await openAs(await roleWith(SELECT_GRANTS), { readOnly: true });
    expect((await reader.listConversations()).length).toBeGreaterThan(0);
    expect(await reader.loadMemories('plain')).toHaveLength(3);
    expect(await reader.search({ text: 'time' })).not.toHaveLength(0);
    expect((await reader.getStorageStats()).conversation_count).toBe(4);
    expect((await reader.healthCheck()).status).toBe('healthy');
    const copy = new InMemoryStorage();
    await copy.initialize();
    expect(await migrateStorage(reader, copy)).toMatchObject({ ok: true });
    expect(await verifyMigration(reader, copy)).toMatchObject({ ok: true });
  });

  /** The error `initialize()` of the role of `url` rejects with. */
  const openError = (url: string) =>
    openAs(url).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );

  it('a DML-only role on a schema that needs an upgrade fails at initialize naming the privileges', async () => {
    await (await ctx.open()).shutdown();
    const s = ident(ctx.schema());
    await ctx.raw().query(`UPDATE ${s}.storage_meta SET value = '5' WHERE key = 'schema_version'`);
    const error = await openError(await roleWith(DML_GRANTS));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ key: 'schema' });
    const message = String((error as Error).message);
    expect(message).toContain(`schema "${ctx.schema()}"`);
    expect(message).toContain(`version 5 and needs an upgrade to ${POSTGRES_SCHEMA_VERSION}`);
    expect(message).toContain(`CREATE on schema ${s}`);
    expect(message).toContain(`ownership of table(s) ${s}.chunk_info, ${s}.conversations`);
    expect(message).toMatch(/cs_priv_/);
    const { rows } = await ctx
      .raw()
      .query(`SELECT value FROM ${s}.storage_meta WHERE key = 'schema_version'`);
    expect(rows).toEqual([{ value: '5' }]);
  });

  it('a SELECT-only role opened writable on an older schema is refused the same way, not by FOR UPDATE', async () => {
    await (await ctx.open()).shutdown();
    await ctx
      .raw()
      .query(`UPDATE ${ident(ctx.schema())}.storage_meta SET value = '5' WHERE key = 'schema_version'`);
    const error = await openError(await roleWith(SELECT_GRANTS));
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('needs an upgrade');
  });

  it('a role that may not create the schema fails at initialize naming CREATE', async () => {
    // No schema yet: the role needs CREATE on the database, which PUBLIC does not get.
    const { role, url } = await roles.create('priv');
    const missing = await openError(url);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(String(missing)).toContain('does not exist and needs creating');
    expect(String(missing)).toContain('CREATE on the database');
    // An empty schema the role may use but not create in.
    await ctx.raw().query(`CREATE SCHEMA ${ident(ctx.schema())}`);
    await ctx.raw().query(`GRANT USAGE ON SCHEMA ${ident(ctx.schema())} TO ${role}`);
    const empty = await openError(url);
    expect(empty).toBeInstanceOf(ConfigError);
    expect(String(empty)).toContain(`CREATE on schema ${ident(ctx.schema())}`);
  });

  it('a grant missing at a call is a ConfigError naming the object, not a plain StorageError', async () => {
    await (await ctx.open()).shutdown();
    const s = ident(ctx.schema());
    // No sequence grant, and EXECUTE taken from PUBLIC on the list-replace function.
    const url = await roleWith((schema, role) => DML_GRANTS(schema, role).slice(0, 2));
    await ctx
      .raw()
      .query(`REVOKE EXECUTE ON FUNCTION ${s}.store_raw_messages(text, text, json, json, json) FROM PUBLIC`);
    const app = await openAs(url);
    const memory = await app.storeMemory('c', 'm', { content: 'x' }).then(
      () => new Error('stored'),
      (e: unknown) => e,
    );
    expect(memory).toBeInstanceOf(ConfigError);
    expect(memory).toMatchObject({ key: 'url' });
    expect(String(memory)).toContain('sequence memories_id_seq');
    expect(String(memory)).toContain('"c"');
    const raw = await app.storeRawMessages('c', [{ role: 'user', content: 'x' }]).then(
      () => new Error('stored'),
      (e: unknown) => e,
    );
    expect(raw).toBeInstanceOf(ConfigError);
    expect(String(raw)).toContain('function store_raw_messages');
  });
});
