/** Shared set-up for the PostgreSQL backend tests: storages on fresh schemas, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStorage, type PostgresStorageConfig } from '../../src/backends/postgres/index.js';
import { migrationDdl } from '../../src/backends/postgres/schema.js';
import {
  dropSchema,
  POSTGRES_TEST_URL,
  postgresAvailable,
  uniqueTestSchema,
} from '../conformance/harness-postgres.js';

export { POSTGRES_TEST_URL };

/** What a test file works with: storages on a fresh schema, and a raw pool to look inside. */
export interface PostgresTestContext {
  /** This test's schema (not created until a storage opens it). */
  schema(): string;
  /** A raw pool on the test server, for looking at rows and setting up odd states. */
  raw(): pg.Pool;
  /** Opens and initializes a storage on the test schema (shut down after the test). */
  open(config?: PostgresStorageConfig): Promise<PostgresStorage>;
  /** Registers a storage to shut down after the test (for ones a test opens itself). */
  track(storage: PostgresStorage): PostgresStorage;
  /** Another fresh schema, dropped after the test too. */
  extraSchema(): string;
}

/** Registers hooks: fails loudly when no server answers, gives each test a fresh schema. */
export function usePostgresStore(): PostgresTestContext {
  let schemas: string[] = [];
  let raw: pg.Pool | undefined;
  const opened: PostgresStorage[] = [];

  beforeAll(async () => {
    const availability = await postgresAvailable();
    if (availability !== true) throw new Error(`postgres tests need a server: ${availability}`);
    raw = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 4, connectionTimeoutMillis: 2000 });
    raw.on('error', () => undefined);
  });

  beforeEach(() => {
    schemas = [uniqueTestSchema()];
  });

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.shutdown();
    for (const schema of schemas) await dropSchema(schema);
  });

  afterAll(async () => {
    await raw?.end();
  });

  const ctx: PostgresTestContext = {
    schema: () => schemas[0] ?? '',
    raw() {
      if (!raw) throw new Error('raw pool used outside a test');
      return raw;
    },
    track(storage) {
      opened.push(storage);
      return storage;
    },
    async open(config: PostgresStorageConfig = {}) {
      const storage = ctx.track(
        new PostgresStorage(
          config.pool
            ? { schema: ctx.schema(), ...config }
            : { url: POSTGRES_TEST_URL, schema: ctx.schema(), ...config },
        ),
      );
      await storage.initialize();
      return storage;
    },
    extraSchema() {
      const schema = uniqueTestSchema();
      schemas.push(schema);
      return schema;
    },
  };
  return ctx;
}

/** Login roles of a test, and the stores it opened as them. */
export interface TestRoles {
  /**
   * A new login role (`cs_<tag>_<hex>`, password `pw`), dropped after the test with what it
   * owns; returns its name and a URL of the test server that logs in as it.
   */
  create(tag: string): Promise<{ role: string; url: string }>;
  /** Registers a store opened as one of the roles: shut down after the test, before the roles go. */
  track(storage: PostgresStorage): PostgresStorage;
}

/** Registers a hook that, after each test, shuts the tracked stores down, then drops the roles. */
export function useTestRoles(ctx: PostgresTestContext): TestRoles {
  const roles: string[] = [];
  const opened: PostgresStorage[] = [];
  afterEach(async () => {
    // The roles' sessions end before their roles are dropped.
    for (const storage of opened.splice(0)) await storage.shutdown();
    for (const role of roles.splice(0)) {
      await ctx.raw().query(`DROP OWNED BY ${role}`);
      await ctx.raw().query(`DROP ROLE ${role}`);
    }
  });
  return {
    async create(tag) {
      const role = `cs_${tag}_${randomBytes(4).toString('hex')}`;
      await ctx.raw().query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
      roles.push(role);
      const url = new URL(POSTGRES_TEST_URL);
      url.username = role;
      url.password = 'pw';
      return { role, url: url.toString() };
    },
    track(storage) {
      opened.push(storage);
      return storage;
    },
  };
}

/** Quotes an identifier for the raw pool's SQL. */
export const ident = (name: string): string => pg.escapeIdentifier(name);

/**
 * Creates `schema` at schema `version` with the DDL each earlier release ran, through `query`
 * (any server's); returns the quoted schema name.
 */
export async function createSchemaAtVersion(
  query: (sql: string, params?: unknown[]) => Promise<unknown>,
  schema: string,
  version: number,
): Promise<string> {
  const s = ident(schema);
  const ddl = [
    `CREATE SCHEMA ${s}`,
    `CREATE TABLE ${s}.storage_meta (key text PRIMARY KEY, value text NOT NULL)`,
  ];
  for (let v = 0; v < version; v += 1) ddl.push(...migrationDdl(v, s));
  // One simple query: a fresh connection per statement (a private server's query()) is slow.
  await query(ddl.join(';\n'));
  await query(`INSERT INTO ${s}.storage_meta (key, value) VALUES ('schema_version', $1)`, [String(version)]);
  return s;
}
