/**
 * Named prepared statements: the one place that gives a SQL text the name it is prepared under
 * on each pooled connection, so the server parses and plans it once per connection instead of
 * once per call.
 *
 * The name is a hash of the exact text (and the schema version). Every statement names its
 * tables with the quoted schema, so statements of two schemas have different texts and so
 * different names: one prepared for one schema can never run against another, also when
 * several stores (one schema each) share a pool. A name never depends on `search_path`.
 */
import { createHash } from 'node:crypto';
import { POSTGRES_SCHEMA_VERSION } from './schema-version.js';

/** A SQL text with the name it is prepared under when prepared statements are on. */
export interface Statement {
  /** The SQL, with `$n` parameters. */
  readonly text: string;
  /** Stable name derived from the text: `cs_` and 24 hex digits (within PostgreSQL's 63 bytes). */
  readonly name: string;
}

/** What the connection runs: a {@link Statement}, or a plain text that is never prepared (one-off DDL). */
export type SqlText = string | Statement;

/**
 * The stable name of a statement text. The schema version is part of the hash, so a later
 * layout whose statement returns other column types gets a new name rather than a cached plan
 * the server refuses ("cached plan must not change result type").
 */
export function statementName(text: string): string {
  const hash = createHash('sha256').update(`v${POSTGRES_SCHEMA_VERSION}\n${text}`).digest('hex');
  return `cs_${hash.slice(0, 24)}`;
}

/** A {@link Statement} for `text`. */
export function statement(text: string): Statement {
  return Object.freeze({ text, name: statementName(text) });
}

/** Each text of `texts` as a {@link Statement}, under the same keys. */
export function statements<K extends string>(
  texts: Readonly<Record<K, string>>,
): Readonly<Record<K, Statement>> {
  const named = {} as Record<K, Statement>;
  for (const key of Object.keys(texts) as K[]) named[key] = statement(texts[key]);
  return Object.freeze(named);
}

/**
 * The query config `pg` takes for `sql`: named when `prepared` is on and `sql` is a
 * {@link Statement}, else unnamed (parsed on every call; what PgBouncer in transaction mode needs).
 */
export function queryConfig(
  sql: SqlText,
  values: unknown[],
  prepared: boolean,
): { text: string; values: unknown[]; name?: string } {
  if (typeof sql === 'string') return { text: sql, values };
  return prepared ? { name: sql.name, text: sql.text, values } : { text: sql.text, values };
}
