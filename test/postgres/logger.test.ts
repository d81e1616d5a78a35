/**
 * The PostgreSQL backend's `logger`: an idle pooled connection the server terminates is
 * reported as an error event, with the URL's password never in it.
 */
import { randomBytes } from 'node:crypto';
import { PostgresStorage } from '../../src/backends/postgres/index.js';
import { eventText, recordingLogger } from '../support/recording-logger.js';
import { POSTGRES_TEST_URL, usePostgresStore } from './helpers.js';

/** Polls `check` every 20 ms until it is true, failing after 10 s. */
async function waitFor(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('postgres logger', () => {
  const ctx = usePostgresStore();

  it('reports a pooled connection the server terminated, without the password', async () => {
    const { logger, events } = recordingLogger();
    // A name of its own, so only this storage's connections are terminated.
    const name = `logger_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(POSTGRES_TEST_URL);
    url.searchParams.set('application_name', name);
    const password = decodeURIComponent(url.password);
    const storage = ctx.track(new PostgresStorage({ url: url.toString(), schema: ctx.schema(), logger }));
    await storage.initialize();
    await storage.storeConversation('c1', { v: 1 });
    expect(events).toEqual([]);

    const terminated = await ctx
      .raw()
      .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);
    expect(terminated.rowCount).toBeGreaterThan(0);
    await waitFor('the pool error to be logged', () => events.some((e) => e.level === 'error'));
    expect(events[0] ? eventText(events[0]) : '').toContain('pooled connection');
    expect(events[0] ? eventText(events[0]) : '').toContain('***');
    expect(events.every((e) => !eventText(e).includes(`:${password}@`))).toBe(true);
    // The pool replaces the connection: the store still works.
    expect(await storage.loadConversation('c1')).toEqual({ v: 1 });
  });
});
