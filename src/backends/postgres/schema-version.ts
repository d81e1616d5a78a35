/** The schema version of the PostgreSQL layout, apart from `schema.ts` so statement names can use it without an import cycle. */

/** The schema version this library writes and understands. */
export const POSTGRES_SCHEMA_VERSION = 8;
