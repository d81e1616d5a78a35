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
