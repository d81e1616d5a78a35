/**
 * `health` on a store whose open refuses its configuration (a ConfigError) exits 2, as other
 * usage and spec errors do; until 2026-12-04 it printed an "error" report and exited 1, the
 * code of an unhealthy store.
 */
import { cli } from './run-cli.js';

describe('health with a configuration its open refuses', () => {
  const saved = process.env.PGPORT;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGPORT;
    else process.env.PGPORT = saved;
  });

  it('exits 2 naming the store and the setting (PGPORT that is no port, no server needed)', async () => {
    process.env.PGPORT = 'abc';
    for (const json of [false, true]) {
      const result = await cli('health', 'postgres://u:pw-9@127.0.0.1/test', ...(json ? ['--json'] : []));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Cannot open the store postgres://u:***@127.0.0.1/test');
      expect(result.stderr).toMatch(/PGPORT="abc", .* is not a port/);
      expect(result.all).not.toContain('pw-9');
      if (json) expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    }
  });
});
