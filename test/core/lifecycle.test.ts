/** The store lifecycle state machine: transitions in call order, joined duplicates, tracked calls. */
import { FileStorage } from '../../src/backends/file/index.js';
import { NotInitializedError } from '../../src/core/index.js';
import { StoreLifecycle } from '../../src/core/lifecycle.js';
import { useTempDir } from '../support/temp-dir.js';

/** Hooks that log opens and closes and take a tick each. */
function loggingHooks() {
  const log: string[] = [];
  let connections = 0;
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
  return {
    log,
    live: () => connections,
    hooks: {
      async open() {
        log.push('open');
        await tick();
        connections += 1;
      },
      async close() {
        log.push('close');
        await tick();
        connections -= 1;
      },
    },
  };
}

describe('StoreLifecycle', () => {
  it('applies open/close in call order: close, open, close ends closed with nothing open', async () => {
    const { log, live, hooks } = loggingHooks();
    const lifecycle = new StoreLifecycle(hooks);
    await lifecycle.open();
    await Promise.all([lifecycle.close(), lifecycle.open(), lifecycle.close()]);
    expect(log).toEqual(['open', 'close', 'open', 'close']);
    expect([lifecycle.state, live()]).toEqual(['closed', 0]);
  });

  it('an open called while closing waits for the close, then opens once', async () => {
    const { log, live, hooks } = loggingHooks();
    const lifecycle = new StoreLifecycle(hooks);
    await lifecycle.open();
    let finishCall: () => void = () => undefined;
    lifecycle.track(new Promise<void>((resolve) => (finishCall = resolve)));
    const closing = lifecycle.close();
    expect(lifecycle.state).toBe('closing');
    const reopening = Promise.all([lifecycle.open(), lifecycle.open()]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['open']); // the close still waits for the tracked call
    finishCall();
    await Promise.all([closing, reopening]);
    expect(log).toEqual(['open', 'close', 'open']);
    expect([lifecycle.state, live()]).toEqual(['open', 1]);
  });

  it('a close waits for every tracked call, rejected ones and plain values included, then closes', async () => {
    const { log, hooks } = loggingHooks();
    const lifecycle = new StoreLifecycle(hooks);
    await lifecycle.open();
    const finishers: Array<() => void> = [];
    const calls = Array.from({ length: 5 }, () =>
      lifecycle.track(new Promise<void>((resolve) => finishers.push(resolve))),
    );
    const failed = lifecycle.track(Promise.reject(new Error('boom')));
    // A registered backend's primitive may return a value instead of a promise.
    const plain = lifecycle.track(42 as unknown as Promise<number>);
    const closing = lifecycle.close();
    await expect(failed).rejects.toThrow('boom');
    await expect(plain).resolves.toBe(42);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['open']);
    finishers.slice(0, 4).forEach((finish) => finish());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['open']); // one call is still in flight
    finishers[4]?.();
    await Promise.all([closing, ...calls]);
    expect([log, lifecycle.state]).toEqual([['open', 'close'], 'closed']);
  });

  it('a failed open leaves the previous state and lets a later open retry', async () => {
    let fail = true;
    const lifecycle = new StoreLifecycle({
      open: async () => {
        if (fail) throw new Error('unreachable');
      },
      close: async () => undefined,
    });
    await expect(Promise.all([lifecycle.open(), lifecycle.open()])).rejects.toThrow('unreachable');
    expect(lifecycle.state).toBe('new');
    fail = false;
    await lifecycle.open();
    expect(lifecycle.state).toBe('open');
  });

  it('a close of a store never opened (or whose open failed) leaves it new, not closed', async () => {
    const { log, hooks } = loggingHooks();
    const lifecycle = new StoreLifecycle(hooks);
    await lifecycle.close();
    expect([lifecycle.state, log]).toEqual(['new', []]);
    const failing = new StoreLifecycle({
      open: () => Promise.reject(new Error('unreachable')),
      close: async () => undefined,
    });
    await expect(failing.open()).rejects.toThrow('unreachable');
    await failing.close();
    expect(failing.state).toBe('new');
  });
});

describe('a store shut down without ever being initialized', () => {
  const tempDir = useTempDir();

  it('refuses calls as "before initialize()" and reports not initialized', async () => {
    const baseDir = tempDir();
    const storage = new FileStorage({ baseDir });
    await storage.shutdown();
    const refused = await storage.getStorageStats().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotInitializedError);
    expect((refused as Error).message).toBe(
      `file storage ${baseDir}: getStorageStats() called before initialize()`,
    );
    expect(await storage.healthCheck()).toMatchObject({ status: 'error', error: 'not initialized' });
    // It opens normally afterwards, and a shutdown after that is a shutdown.
    await storage.initialize();
    await storage.shutdown();
    const closed = await storage.getStorageStats().catch((error: unknown) => error);
    expect((closed as Error).message).toBe(
      `file storage ${baseDir}: getStorageStats() called after shutdown()`,
    );
  });
});
