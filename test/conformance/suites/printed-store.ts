/**
 * Conformance: `console.log(storage)`, `util.inspect(storage)` and `JSON.stringify(storage)` show
 * the backend type, whether the store is open and its config, with every secret masked (the
 * connection URL's password, a config field named like a token or password), and never a
 * driver's client or pool; printing changes nothing, and the store works on. Until 2026-12-06
 * they showed every field, the URL's password included.
 */
import { inspect } from 'node:util';
import { redactUrlsInText, type StorageInterface } from '../../../src/core/index.js';
import type { SuiteContext } from '../context.js';

const SECRET = 'sekr3t-Pw_17';

/** A logger (a config value every backend takes) holding secrets a host might keep on it. */
function secretiveLogger(): Record<string, unknown> {
  const ignore = (): void => undefined;
  return {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: ignore,
    token: SECRET,
    nested: { apiKey: SECRET, password: SECRET },
    endpoint: `https://logs:${SECRET}@logs.example/ingest?auth=${SECRET}`,
  };
}

/** How the store prints, in both forms, as a user would print it. */
function printed(s: StorageInterface): { text: string; json: string } {
  return { text: inspect(s, { depth: 10 }), json: JSON.stringify(s) };
}

/** Checks what `s` prints: no secret, no unmasked URL password, its type and state. */
function expectMasked(s: StorageInterface, initialized: boolean): void {
  const { text, json } = printed(s);
  for (const shown of [text, json]) {
    expect(shown).not.toContain(SECRET);
    // The harness's own URL's password (PostgreSQL's test server has one) is masked too.
    expect(redactUrlsInText(shown)).toBe(shown);
  }
  expect(text.startsWith(`${s.constructor.name} {`)).toBe(true);
  expect(JSON.parse(json)).toMatchObject({ storageType: s.storageType, initialized });
}

export function printedStoreTests(ctx: SuiteContext): void {
  describe('printing a store', () => {
    it('shows its type, state and config with every secret masked, and the store works on', async () => {
      const s = await ctx.openAnother({ logger: secretiveLogger() });
      expectMasked(s, true);
      const { config } = JSON.parse(printed(s).json) as { config: { logger: Record<string, unknown> } };
      expect(config.logger).toMatchObject({
        token: '***',
        nested: { apiKey: '***', password: '***' },
        endpoint: 'https://logs:***@logs.example/ingest?auth=***',
        warn: '[Function]',
      });
      await s.storeConversation('c1', { v: 1 });
      expect(await s.loadConversation('c1')).toEqual({ v: 1 });
      await s.shutdown();
      expectMasked(s, false);
    });

    it("masks the test store's own connection URL", async () => {
      const s = ctx.storage();
      expectMasked(s, true);
      await s.storeSystemState('s1', { v: 1 });
      expect(await s.loadSystemState('s1')).toEqual({ v: 1 });
    });
  });
}
