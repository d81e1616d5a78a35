/**
 * A PostgreSQL identity follows what pg connects to when the URL leaves a part out: pg then
 * reads `PGPORT`, `PGDATABASE` and `PGUSER` (else the login name) from the environment.
 */
import pg from 'pg';
import { parseBackendSpec, sameStore } from '../../src/cli/backend-spec.js';
import { describeWithService } from '../services.js';

/** pg's own reading of a connection string and the environment (not exported by its index). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ConnectionParameters = require('pg/lib/connection-parameters.js') as new (url: string) => {
  port: number;
  database: string;
};

const VARS = ['PGDATABASE', 'PGUSER', 'PGPORT'] as const;

/** Runs `body` with the PG variables set as `env` (unset when absent), restoring them after. */
async function withPgEnv<T>(
  env: Partial<Record<(typeof VARS)[number], string>>,
  body: () => T,
): Promise<Awaited<T>> {
  const saved = VARS.map((name) => [name, process.env[name]] as const);
  for (const name of VARS) {
    if (env[name] === undefined) delete process.env[name];
    else process.env[name] = env[name];
  }
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The identity's `:<port>/<database>` part. */
const portAndDb = (spec: string): string => /:(\d+\/[^#]*)#/.exec(parseBackendSpec(spec).identity)?.[1] ?? '';

describe('PostgreSQL identity and the PG environment variables', () => {
  it.each([
    [{ PGDATABASE: 'envdb' }, 'postgres://u@h/', '5432/envdb'],
    [{ PGDATABASE: 'envdb' }, 'postgres://u@h/app', '5432/app'],
    [{ PGUSER: 'envuser' }, 'postgres://h/', '5432/envuser'],
    [{ PGUSER: 'envuser' }, 'postgres://u@h/', '5432/u'],
    [{ PGUSER: 'envuser' }, 'postgres://h/?user=q', '5432/q'],
    [{ PGPORT: '5499' }, 'postgres://h/app', '5499/app'],
    [{ PGPORT: '5499' }, 'postgres://h:5433/app', '5433/app'],
    [{ PGPORT: '5499' }, 'postgres://h/app?port=5434', '5434/app'],
    // Empty variables are unset to pg.
    [{ PGDATABASE: '', PGUSER: 'envuser', PGPORT: '' }, 'postgres://h/', '5432/envuser'],
  ])('with %j, %s is %s, as pg reads it', async (env, url, expected) => {
    await withPgEnv(env, () => {
      expect(portAndDb(url)).toBe(expected);
      const params = new ConnectionParameters(url);
      expect(`${params.port}/${params.database}`).toBe(expected);
    });
  });

  it('tells apart two stores that differ only by PGDATABASE', async () => {
    const a = await withPgEnv({ PGDATABASE: 'one' }, () => parseBackendSpec('postgres://h/'));
    const b = await withPgEnv({ PGDATABASE: 'two' }, () => parseBackendSpec('postgres://h/'));
    expect(sameStore(a, b)).toBe(false);
  });

  it('keeps a trailing slash in the database name, as pg does', async () => {
    await withPgEnv({}, () => {
      expect(portAndDb('postgres://h/db/')).toBe('5432/db/');
      expect(sameStore(parseBackendSpec('postgres://h/db/'), parseBackendSpec('postgres://h/db'))).toBe(
        false,
      );
    });
  });
});

describeWithService('postgres')('PostgreSQL identity and the database pg connects to', () => {
  it('names the database PGDATABASE makes pg connect to', async () => {
    const url = 'postgres://postgres:postgres@127.0.0.1:5432';
    await withPgEnv({ PGDATABASE: 'test' }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
        expect(portAndDb(`${url}/`)).toBe(`5432/${rows[0]?.db}`);
      } finally {
        await client.end();
      }
    });
  });
});
