/** The `logger` option: accepted by every backend's config, refused when not a logger, never breaks a call. */
import { parseFileStorageConfig } from '../../src/backends/file/config.js';
import { parsePostgresConfig } from '../../src/backends/postgres/config.js';
import { parseRedisConfig } from '../../src/backends/redis/config.js';
import { parseSqliteConfig } from '../../src/backends/sqlite/config.js';
import { ConfigError, logEvent, type StorageLogger } from '../../src/core/index.js';

const parsers: Record<string, (raw: unknown) => { logger?: StorageLogger | undefined }> = {
  file: parseFileStorageConfig,
  sqlite: parseSqliteConfig,
  redis: parseRedisConfig,
  postgres: parsePostgresConfig,
};

describe.each(Object.entries(parsers))('%s config `logger`', (_backend, parse) => {
  it('is absent (silent) by default and keeps the given logger as is', () => {
    expect(parse({}).logger).toBeUndefined();
    expect(parse({ logger: console }).logger).toBe(console);
    const warnOnly = { warn: () => undefined };
    expect(parse({ logger: warnOnly }).logger).toBe(warnOnly);
  });

  it.each([['console'], [42], [true], [[]], [{ warn: 'loud' }], [{ error: {} }]])(
    'refuses %p with a ConfigError naming the key',
    (logger) => {
      let thrown: unknown;
      try {
        parse({ logger });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toContain('"logger"');
    },
  );
});

describe('logEvent', () => {
  it('calls the level with the message and details, URLs redacted', () => {
    const calls: unknown[][] = [];
    const logger: StorageLogger = { error: (...args) => void calls.push(args) };
    logEvent(logger, 'error', 'cannot reach postgres://app:hunter2@db:5432/x', {
      error: 'connect to redis://:s3cret@cache:6379 failed',
      attempt: 3,
    });
    expect(calls).toEqual([
      [
        'cannot reach postgres://app:***@db:5432/x',
        { error: 'connect to redis://:***@cache:6379 failed', attempt: 3 },
      ],
    ]);
    expect(JSON.stringify(calls)).not.toMatch(/hunter2|s3cret/);
  });

  it('redacts nested objects, arrays and Errors (message, stack, cause) without changing them', () => {
    const calls: unknown[][] = [];
    const logger: StorageLogger = { error: (...args) => void calls.push(args) };
    const cause = new Error('dial postgres://app:hunter2@db:5432/x refused');
    const error = Object.assign(new Error('connect to redis://:s3cret@cache:6379 failed', { cause }), {
      code: 'ECONNREFUSED',
      url: 'redis://:s3cret@cache:6379',
    });
    const nested = { attempts: [{ url: 'redis://u:s3cret@h:1' }, 2], when: new Date(0) };
    const cyclic: Record<string, unknown> = { url: 'postgres://a:hunter2@h/db' };
    cyclic.self = cyclic;
    logEvent(logger, 'error', 'failed', { error, nested, cyclic, list: ['rediss://:s3cret@h'] });
    const details = calls[0]![1] as Record<string, unknown>;
    const shownError = details.error as Error & { code: string; url: string; cause: Error };
    expect(shownError).toBeInstanceOf(Error);
    expect(shownError.message).toBe('connect to redis://:***@cache:6379 failed');
    expect(shownError.stack).toContain('connect to redis://:***@cache:6379 failed');
    expect(shownError.cause.message).toBe('dial postgres://app:***@db:5432/x refused');
    expect(shownError.code).toBe('ECONNREFUSED');
    expect(shownError.url).toBe('redis://:***@cache:6379');
    expect(Object.keys(shownError)).toEqual(['code', 'url']); // message/stack stay non-enumerable
    expect(details.nested).toEqual({ attempts: [{ url: 'redis://u:***@h:1' }, 2], when: new Date(0) });
    const shownCycle = details.cyclic as Record<string, unknown>;
    expect(shownCycle.self).toBe(shownCycle);
    expect(shownCycle.url).toBe('postgres://a:***@h/db');
    expect(details.list).toEqual(['rediss://:***@h']);
    const printed = [shownError.stack, shownError.cause.stack, JSON.stringify(details.nested), details.list];
    expect(printed.join(' ')).not.toMatch(/hunter2|s3cret/);
    // The caller's objects are untouched.
    expect(error.message).toContain('s3cret');
    expect(error.url).toContain('s3cret');
    expect(nested.attempts[0]).toEqual({ url: 'redis://u:s3cret@h:1' });
    expect(cyclic.url).toContain('hunter2');
  });

  it('replaces values nested beyond the depth bound instead of showing them', () => {
    const calls: unknown[][] = [];
    const logger: StorageLogger = { warn: (...args) => void calls.push(args) };
    let deep: unknown = 'redis://:s3cret@h';
    for (let i = 0; i < 50; i += 1) deep = { inner: deep };
    logEvent(logger, 'warn', 'deep', { deep });
    expect(JSON.stringify(calls)).not.toContain('s3cret');
    expect(JSON.stringify(calls)).toContain('[redacted: nested too deep]');
  });

  it('drops events for a missing level or no logger', () => {
    expect(() => logEvent({}, 'warn', 'nobody listens')).not.toThrow();
    expect(() => logEvent(undefined, 'warn', 'nobody listens')).not.toThrow();
  });

  it('swallows a logger that throws, a getter that throws and one that rejects', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const throwing: StorageLogger = {
        warn: () => {
          throw new Error('logger broke');
        },
      };
      const getter = Object.defineProperty({}, 'warn', {
        get() {
          throw new Error('getter broke');
        },
      }) as StorageLogger;
      const rejecting = {
        warn: () => Promise.reject(new Error('async logger broke')),
      } as unknown as StorageLogger;
      for (const logger of [throwing, getter, rejecting]) {
        expect(() => logEvent(logger, 'warn', 'event')).not.toThrow();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
