/**
 * Conformance harness for PostgresStorage: the server at `CONNECTOME_STORAGE_POSTGRES_URL`
 * (default `postgres://postgres:postgres@127.0.0.1:5432/test`); each store is its own fresh
 * schema (`connectome_test_<pid>_<random>`), dropped with CASCADE in cleanup.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { redactUrl } from '../../src/core/index.js';
import { type BackendHarness, BROKEN_JSON } from './harness.js';
import { breakSql } from './harness-sqlite.js';

/** The test server (the test setup's URL, or the local one `scripts/services.sh` starts). */
export const POSTGRES_TEST_URL =
  process.env.CONNECTOME_STORAGE_POSTGRES_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';

/** A schema name no other store or test run uses. */
export function uniqueTestSchema(): string {
  return `connectome_test_${process.pid}_${randomBytes(6).toString('hex')}`;
}

/** Runs `fn` with a short-lived client on the test server (connect timeout about 2 s). */
export async function withPgClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops a test schema and everything in it. */
export function dropSchema(schema: string): Promise<void> {
  return withPgClient(async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  });
}

/** True when the schema exists on the test server (with or without tables). */
export function schemaExists(schema: string): Promise<boolean> {
  return withPgClient(async (client) => {
    const result = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    return result.rowCount === 1;
  });
}

/** `true` when the server answers a query within about 2 s, else the reason. */
export async function postgresAvailable(): Promise<true | string> {
  try {
    await withPgClient((client) => client.query('SELECT 1'));
    return true;
  } catch (error) {
    return `no PostgreSQL server answers at ${redactUrl(POSTGRES_TEST_URL)}: ${(error as Error).message}`;
  }
}

/** PostgresStorage on the test server, one fresh schema per store. */
export const postgresHarness: BackendHarness = {
  name: 'postgres',
  breaksRecords: true,
  breaksOneRecord: true,
  service: 'postgres',
  sharedStore: true,
  available: postgresAvailable,
  async createStore() {
    const schema = uniqueTestSchema();
    // The URL's application_name wins over the backend's own, so this store's connections
    // can be counted on the server.
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('application_name', schema);
    return {
      async open(extraConfig = {}) {
        const storage = new PostgresStorage({ url: url.toString(), schema, ...extraConfig });
        await storage.initialize();
        return storage;
      },
      exists: () => schemaExists(schema),
      shownAs: [redactUrl(url.toString()), JSON.stringify(schema)],
      cleanup: () => dropSchema(schema),
      childSpec: { backend: 'postgres', config: { url: url.toString(), schema } },
      breakRecords: (kind, owner, record) =>
        withPgClient(async (client) => {
          const table = `${pg.escapeIdentifier(schema)}.${kind}`;
          const params = [BROKEN_JSON, owner, ...(record === undefined ? [] : [record])];
          await client.query(breakSql(kind, table, record), params);
        }),
      openConnections: () =>
        withPgClient(async (client) => {
          const result = await client.query<{ count: string }>(
            'SELECT count(*) AS count FROM pg_stat_activity WHERE application_name = $1',
            [schema],
          );
          return Number(result.rows[0]?.count);
        }),
    };
  },
};

/** The same with `preparedStatements: false`, as used behind PgBouncer in transaction mode. */
export const postgresUnpreparedHarness: BackendHarness = {
  ...postgresHarness,
  name: 'postgres (preparedStatements: false)',
  async createStore() {
    const store = await postgresHarness.createStore();
    return {
      ...store,
      open: (extraConfig = {}) => store.open({ preparedStatements: false, ...extraConfig }),
      childSpec: store.childSpec && {
        ...store.childSpec,
        config: { ...store.childSpec.config, preparedStatements: false },
      },
    };
  },
};
