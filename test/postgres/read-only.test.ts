/**
 * Read-only opens on PostgreSQL create no schema, upgrade nothing and refuse what they
 * cannot read: a missing schema, an older or a newer schema version.
 */
import { parsePostgresConfig } from '../../src/backends/postgres/config.js';
import { PostgresConnection } from '../../src/backends/postgres/connection.js';
import { POSTGRES_SCHEMA_VERSION } from '../../src/backends/postgres/index.js';
import { ConfigError, StoreNeedsUpgradeError, StoreNotFoundError } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { ident, POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres read-only opens', () => {
  const ctx = usePostgresStore();

  async function schemaExists(schema: string): Promise<boolean> {
    const { rowCount } = await ctx.raw().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    return rowCount === 1;
  }

  const setVersion = (value: string) =>
    ctx
      .raw()
      .query(`UPDATE ${ident(ctx.schema())}.storage_meta SET value = $1 WHERE key = 'schema_version'`, [
        value,
      ]);

  const version = async () =>
    (
      await ctx
        .raw()
        .query<{ value: string }>(
          `SELECT value FROM ${ident(ctx.schema())}.storage_meta WHERE key = 'schema_version'`,
        )
    ).rows[0]?.value;

  it('creates no schema for a mistyped name', async () => {
    const error = await ctx.open({ readOnly: true }).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreNotFoundError);
    expect(error).toMatchObject({ code: 'STORE_NOT_FOUND' });
    expect(await schemaExists(ctx.schema())).toBe(false);
  });

  it('refuses a schema without its storage_meta table, and adds none', async () => {
    await ctx.raw().query(`CREATE SCHEMA ${ident(ctx.schema())}`);
    await expect(ctx.open({ readOnly: true })).rejects.toMatchObject({
      code: 'STORE_NOT_FOUND',
      message: expect.stringContaining(ctx.schema()),
    });
    const { rowCount } = await ctx
      .raw()
      .query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [ctx.schema()]);
    expect(rowCount).toBe(0);
  });

  it('reports an older schema version as needing an upgrade, and does not upgrade it', async () => {
    await (await ctx.open()).shutdown();
    await setVersion('0');
    const error = await ctx.open({ readOnly: true }).then(
      () => new Error('opened'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreNeedsUpgradeError);
    expect(error).toMatchObject({
      code: 'NEEDS_UPGRADE',
      version: 0,
      supportedVersion: POSTGRES_SCHEMA_VERSION,
    });
    expect(await version()).toBe('0');
  });

  it('still refuses a newer schema version', async () => {
    await (await ctx.open()).shutdown();
    await setVersion('99');
    await expect(ctx.open({ readOnly: true })).rejects.toThrow(ConfigError);
    expect(await version()).toBe('99');
  });

  it('opens its own pool with default_transaction_read_only on, so the server refuses writes too', async () => {
    const connection = await PostgresConnection.open(
      parsePostgresConfig({ url: POSTGRES_TEST_URL, schema: ctx.schema(), readOnly: true }),
    );
    try {
      await expect(connection.run('probe', `CREATE SCHEMA ${ident(ctx.schema())}`)).rejects.toThrow(
        /read-only transaction/,
      );
    } finally {
      await connection.close();
    }
    expect(await schemaExists(ctx.schema())).toBe(false);
  });

  it("keeps the server's read-only setting when the URL gives session options of its own", async () => {
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('options', '-c default_transaction_read_only=off -c search_path=probe_path');
    const connection = await PostgresConnection.open(
      parsePostgresConfig({ url: url.toString(), schema: ctx.schema(), readOnly: true }),
    );
    try {
      // The URL's options still apply (pg read them over the pool's, dropping the read-only one).
      const rows = await connection.rows('probe', 'SHOW search_path');
      expect(rows).toEqual([{ search_path: 'probe_path' }]);
      await expect(connection.run('probe', `CREATE SCHEMA ${ident(ctx.schema())}`)).rejects.toThrow(
        /read-only transaction/,
      );
    } finally {
      await connection.close();
    }
    expect(await schemaExists(ctx.schema())).toBe(false);
  });

  it('applies PGOPTIONS as a writable store does, keeping the read-only setting after it', async () => {
    // pg reads PGOPTIONS only when no options are given: the read-only store's own dropped it
    // whole until 2026-12-06 (its search_path and lock_timeout applied to writable stores only).
    const saved = process.env.PGOPTIONS;
    process.env.PGOPTIONS =
      '-c default_transaction_read_only=off -c lock_timeout=77 -c search_path=probe_path';
    let connection: PostgresConnection | undefined;
    try {
      connection = await PostgresConnection.open(
        parsePostgresConfig({ url: POSTGRES_TEST_URL, schema: ctx.schema(), readOnly: true }),
      );
      const rows = await connection.rows(
        'probe',
        'SELECT current_setting($1) AS lock, current_setting($2) AS path',
        ['lock_timeout', 'search_path'],
      );
      expect(rows).toEqual([{ lock: '77ms', path: 'probe_path' }]);
      await expect(connection.run('probe', `CREATE SCHEMA ${ident(ctx.schema())}`)).rejects.toThrow(
        /read-only transaction/,
      );
    } finally {
      await connection?.close();
      if (saved === undefined) delete process.env.PGOPTIONS;
      else process.env.PGOPTIONS = saved;
    }
    expect(await schemaExists(ctx.schema())).toBe(false);
  });
});
