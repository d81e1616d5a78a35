/**
 * What creating or upgrading the schema needs of the connected role, read from the catalog
 * before any DDL runs. Production deployments often create and upgrade the schema as its owner
 * (a deploy step) and connect the application as a role with DML rights only; such a role
 * opens a current schema (nothing is changed, so nothing more is needed), but one that is
 * missing or older must fail with an error that says which privilege on which object is
 * lacking and what to do, not the server's bare "permission denied for schema".
 */
import { ConfigError } from '../../core/index.js';
import type { Queryable } from './connection.js';
import { POSTGRES_SCHEMA_VERSION } from './schema-version.js';
import { quoteIdent } from './sql.js';

/** The tables an upgrade alters, indexes or adds triggers to (ALTER TABLE, CREATE INDEX / TRIGGER: owner only). */
const UPGRADED_TABLES = ['conversations', 'raw_messages', 'memories', 'reasoning_chains', 'chunk_info'];

interface DdlRights {
  role: string;
  /** CREATE on the database (for CREATE SCHEMA). */
  create_db: boolean;
  /** Whether the schema exists. */
  present: boolean;
  /** CREATE on the schema (for CREATE TABLE / FUNCTION). */
  create_schema: boolean;
  /** The upgraded tables the role does not own (nor is a member of their owner). */
  not_owned: string[];
}

/**
 * Refuses, with a {@link ConfigError} naming the role, the missing privileges and their
 * objects, to create (`version` 0) or upgrade the schema when the connected role could not;
 * resolves when it can. Runs one catalog query, and only when the schema needs DDL. `need`
 * says what the DDL is for when it is neither: the search machinery's wake (`schema-v7.ts`),
 * which creates indexes and triggers on the tables, so only their ownership is checked.
 */
export async function refuseMissingDdlRights(
  q: Queryable,
  schema: string,
  version: number,
  label: string,
  need?: string,
): Promise<void> {
  const [rights] = await q.rows<DdlRights>(
    `SELECT current_user::text AS role, has_database_privilege(current_database(), 'CREATE') AS create_db,
        n.oid IS NOT NULL AS present, coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS create_schema,
        ARRAY(SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
          AND c.relname = ANY($2::text[]) AND NOT pg_has_role(c.relowner, 'USAGE') ORDER BY 1) AS not_owned
      FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = $1`,
    [schema, version === 0 ? [] : UPGRADED_TABLES],
  );
  if (rights === undefined) return;
  const missing: string[] = [];
  // The wake (`need`) only indexes and adds triggers to tables: ownership is all it takes.
  if (need === undefined && !rights.present && !rights.create_db) {
    missing.push('CREATE on the database (to create the schema)');
  }
  if (need === undefined && rights.present && !rights.create_schema) {
    missing.push(`CREATE on schema ${quoteIdent(schema)}`);
  }
  if (rights.not_owned.length > 0) {
    missing.push(
      `ownership of table(s) ${rights.not_owned.map((t) => `${quoteIdent(schema)}.${t}`).join(', ')}`,
    );
  }
  if (missing.length === 0) return;
  const what =
    need ??
    (version === 0
      ? `does not exist and needs creating`
      : `has schema version ${version} and needs an upgrade to ${POSTGRES_SCHEMA_VERSION}`);
  throw new ConfigError(
    `PostgreSQL schema ${JSON.stringify(schema)} at ${label} ${what}, which role ` +
      `${JSON.stringify(rights.role)} may not do: it lacks ${missing.join(' and ')}; open the store ` +
      `once as the schema's owner (a deploy step), then as this role (its grants: README, postgres, "Roles and grants")`,
    'schema',
  );
}
