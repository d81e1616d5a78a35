/**
 * `console.log(storage)`, `util.inspect(storage)`, `JSON.stringify(storage)` and the same of
 * `storage.config` never show the URL's password (until 2026-12-06 all of them showed it, and an
 * open store's pg pool with its connection string); `storage.config.url` still reads it as given.
 */
import { inspect } from 'node:util';
import pg from 'pg';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { redactUrl } from '../../src/core/index.js';
import { describeWithService } from '../services.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

/** The test server's URL with its password moved into `?password=`. */
function passwordInQuery(url: string): string {
  const parsed = new URL(url);
  const password = parsed.password;
  parsed.password = '';
  parsed.searchParams.set('password', decodeURIComponent(password));
  return parsed.toString();
}

/** Everything a user would print of the store: itself and its config, inspected and as JSON. */
function printed(s: PostgresStorage): string[] {
  return [
    inspect(s, { depth: 10 }),
    JSON.stringify(s),
    inspect(s.config, { depth: 10 }),
    JSON.stringify(s.config),
  ];
}

describeWithService('postgres')('printing a postgres store', () => {
  const ctx = usePostgresStore();
  const password = decodeURIComponent(new URL(POSTGRES_TEST_URL).password);

  it('the test server has a password to hide', () => {
    expect(password).not.toBe('');
  });

  it.each([
    ['in the user info', POSTGRES_TEST_URL],
    ['in ?password=', passwordInQuery(POSTGRES_TEST_URL)],
  ])('masks a password %s, before, while and after the store is open', async (_, url) => {
    const s = ctx.track(new PostgresStorage({ url, schema: ctx.schema() }));
    const seen = printed(s);
    await s.initialize();
    await s.storeConversation('c1', { v: 1 });
    seen.push(...printed(s));
    expect(await s.loadConversation('c1')).toEqual({ v: 1 });
    await s.shutdown();
    seen.push(...printed(s));
    for (const shown of seen) {
      expect(shown).not.toContain(`:${password}@`);
      expect(shown).not.toContain(`password=${password}`);
    }
    expect(JSON.parse(seen[1]!)).toMatchObject({
      storageType: 'postgres',
      initialized: false,
      config: { url: redactUrl(url), schema: ctx.schema() },
    });
    expect(JSON.parse(seen[5]!)).toMatchObject({ initialized: true });
    // The config still reads as given: only its printed forms are masked.
    expect(s.config.url).toBe(url);
    expect(Object.keys(s.config)).not.toContain('toJSON');
  });

  it('shows a given pool by its class only, never its connection string', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
    try {
      const s = await ctx.open({ pool });
      for (const shown of printed(s)) expect(shown).not.toContain(`:${password}@`);
      const view = JSON.parse(JSON.stringify(s)) as { config: { pool: string } };
      expect(view.config.pool).toMatch(/^\[\w*Pool\]$/); // pg's class is `BoundPool`
      expect(await s.healthCheck()).toMatchObject({ status: 'healthy' });
      await s.shutdown();
    } finally {
      await pool.end();
    }
  });
});
