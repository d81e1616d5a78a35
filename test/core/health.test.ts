/** `healthCheck()` never rejects, whatever a backend's health probe throws. */
import type { HealthProbe } from '../../src/core/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';

/** A user backend whose probe rejects with `thrown`. */
class FailingProbeStorage extends InMemoryStorage {
  constructor(private readonly thrown: unknown) {
    super();
  }

  protected override async probeHealth(): Promise<HealthProbe> {
    throw this.thrown;
  }
}

const unprintable = {
  toString(): string {
    throw new Error('toString refused');
  },
};
const errorWithThrowingMessage = Object.defineProperty(new Error('x'), 'message', {
  get(): string {
    throw new Error('message refused');
  },
});

describe('healthCheck()', () => {
  it.each([
    ['an Error', new Error('disk gone'), 'disk gone'],
    ['a string', 'plain text', 'plain text'],
    ['an object whose toString throws', unprintable, 'object'],
    ['an Error whose message getter throws', errorWithThrowingMessage, 'object'],
  ])(
    'reports a probe that rejects with %s as status error instead of rejecting',
    async (_, thrown, error) => {
      const storage = new FailingProbeStorage(thrown);
      await storage.initialize();
      await expect(storage.healthCheck()).resolves.toMatchObject({ status: 'error', error });
      await storage.shutdown();
    },
  );
});

/** A user backend whose probe reports (or throws) its connection URL with the password in it. */
class UrlQuotingStorage extends InMemoryStorage {
  constructor(private readonly mode: 'throw' | 'report') {
    super();
  }

  protected override async probeHealth(): Promise<HealthProbe> {
    const url = 'mydb://app:s3cret@db.local:7000/main';
    if (this.mode === 'throw') throw new Error(`cannot reach ${url}: connection refused`);
    return { healthy: false, error: `no answer from ${url}`, details: { url, nested: { url } } };
  }
}

describe('healthCheck() of a registered backend that quotes its URL', () => {
  // Until 2026-12-03 the core passed a probe's messages and details through unredacted, so
  // a registered backend's password reached the report (the logger's events were redacted).
  it.each(['throw', 'report'] as const)('masks the password when the probe does %s it', async (mode) => {
    const storage = new UrlQuotingStorage(mode);
    await storage.initialize();
    const report = await storage.healthCheck();
    await storage.shutdown();
    expect(JSON.stringify(report)).not.toContain('s3cret');
    expect(report.error).toContain('mydb://app:***@db.local:7000/main');
    if (mode === 'report') {
      expect(report).toMatchObject({ status: 'unhealthy', url: 'mydb://app:***@db.local:7000/main' });
    }
  });
});

/** A user backend whose probe details reuse the names of the report's own keys. */
class ClashingDetailsStorage extends InMemoryStorage {
  protected override async probeHealth(): Promise<HealthProbe> {
    return {
      healthy: true,
      details: { status: 'ok', storage_type: 'fake', timestamp: 'never', latency_ms: -1, pool: 3 },
    };
  }
}

describe('healthCheck() of a registered backend whose details use the core keys', () => {
  // Until 2026-12-03 a detail named `status` (or `storage_type`, `timestamp`, `latency_ms`)
  // replaced the core's, so `status` could be 'ok', none of 'healthy' | 'unhealthy' | 'error'.
  it('keeps the core keys, status first, and the other details', async () => {
    const storage = new ClashingDetailsStorage();
    await storage.initialize();
    const report = await storage.healthCheck();
    await storage.shutdown();
    expect(report).toMatchObject({ status: 'healthy', storage_type: storage.storageType, pool: 3 });
    expect(report.timestamp).not.toBe('never');
    expect(report.latency_ms).toBeGreaterThanOrEqual(0);
    expect(Object.keys(report)[0]).toBe('status');
  });
});
