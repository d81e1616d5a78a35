/**
 * Opening the two stores: the migration initializes the source and the target at once (each
 * side's opening is a fixed wait, driver load or schema checks, that the other's can hide),
 * and a side that fails to open fails the run with its own error, no record written.
 */
import { migrateStorage } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { populate } from './support.js';

/** A store whose opening, once `gate` is set, first waits for it (failing after `timeoutMs`). */
class GatedStorage extends InMemoryStorage {
  gate: Promise<void> | null = null;
  timeoutMs = 2000;

  protected override async openStore(): Promise<void> {
    if (this.gate === null) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the other store was not opened meanwhile')), this.timeoutMs);
    });
    try {
      await Promise.race([this.gate, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A store that counts its openings and tells when the first began. */
class WatchedStorage extends InMemoryStorage {
  opened = 0;
  private start: () => void = () => undefined;
  /** Resolves once opening has begun. */
  readonly opening = new Promise<void>((resolve) => (this.start = resolve));

  protected override async openStore(): Promise<void> {
    this.opened += 1;
    this.start();
  }
}

/** A populated source, closed, that will wait for `gate` when opened. */
async function gatedSource(gate: Promise<void>, timeoutMs = 2000): Promise<GatedStorage> {
  const source = new GatedStorage();
  await source.initialize();
  await populate(source);
  await source.shutdown();
  source.gate = gate;
  source.timeoutMs = timeoutMs;
  return source;
}

it('opens the source and the target at once', async () => {
  const target = new WatchedStorage();
  // The source opens only once the target's opening has begun: one after the other, it never would.
  const source = await gatedSource(target.opening);
  const summary = await migrateStorage(source, target);
  expect(summary.ok).toBe(true);
  expect(summary.counts.conversations.copied).toBeGreaterThan(0);
  expect(target.opened).toBe(1);
  await Promise.all([source.shutdown(), target.shutdown()]);
});

it("fails with the source's error when the source cannot open, writing nothing to the target", async () => {
  const target = new WatchedStorage();
  const source = await gatedSource(new Promise<void>(() => undefined), 50);
  await expect(migrateStorage(source, target)).rejects.toThrow('the other store was not opened meanwhile');
  // The target was opened alongside, but holds nothing (not even the resume marker).
  expect(target.opened).toBe(1);
  expect(await target.listSystemStateKeys()).toEqual([]);
  expect(await target.listAllConversationIds()).toEqual([]);
  await target.shutdown();
});

it('never opens the target of a dry run', async () => {
  const source = await gatedSource(Promise.resolve());
  const target = new WatchedStorage();
  const summary = await migrateStorage(source, target, { dryRun: true });
  expect(summary.dryRun).toBe(true);
  expect(target.opened).toBe(0);
  await source.shutdown();
});
