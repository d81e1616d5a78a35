/**
 * Cancellation of `migrateStorage` and `verifyMigration` at controlled points (progress events,
 * a store's open): what an abort leaves behind and when it is noticed. The simpler cases (an
 * already-aborted migration, an abort mid-copy, during verification) are in migrate.test.ts
 * and resume.test.ts.
 */
import { migrateStorage, MigrationAbortedError, verifyMigration } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { openStore, populatedSource, snapshot } from './support.js';

describe('migrateStorage aborted before its first write', () => {
  // The marker is the first write; until 2026-12-05 it was written after such an abort, so a
  // later run without sourceId was refused as foreign and the CLI reported a partial copy.
  it('writes nothing when the signal fires while the checks read the source', async () => {
    const source = await populatedSource();
    const target = await openStore();
    const controller = new AbortController();
    const reason = new Error('stop before writing');
    const run = migrateStorage(source, target, {
      checkSource: true,
      signal: controller.signal,
      // The last event of the check pass: nothing checks the signal after it until the copy.
      onProgress: (event) => {
        if (event.stage === 'check' && event.type === 'phase-end' && event.phase === 'system_state') {
          controller.abort(reason);
        }
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'MigrationAbortedError', cause: reason });
    expect(await target.listSystemStateKeys()).toEqual([]);
    expect(await snapshot(target)).toEqual(await snapshot(await openStore()));
    // Nothing to resume: a run without sourceId is not refused as foreign.
    expect(await migrateStorage(source, target)).toMatchObject({ ok: true, resumed: false });
  });

  it('writes nothing when the signal fires while the target opens', async () => {
    const source = await populatedSource();
    const controller = new AbortController();
    const target = new (class extends InMemoryStorage {
      protected override async openStore(): Promise<void> {
        controller.abort(new Error('stop while opening'));
        await super.openStore();
      }
    })();
    await expect(migrateStorage(source, target, { signal: controller.signal })).rejects.toBeInstanceOf(
      MigrationAbortedError,
    );
    expect(await target.listSystemStateKeys()).toEqual([]);
  });
});

describe('verifyMigration with an AbortSignal', () => {
  // Until 2026-12-05 it listed both stores first, and resolved `ok` when nothing was listed.
  it('rejects an already-aborted signal before any I/O, also for empty stores', async () => {
    const reason = new Error('stop');
    const run = verifyMigration(await openStore(), await openStore(), { signal: AbortSignal.abort(reason) });
    await expect(run).rejects.toMatchObject({ name: 'MigrationAbortedError', cause: reason });
    // Stores never opened: a read would reject with NotInitializedError instead.
    await expect(
      verifyMigration(new InMemoryStorage(), new InMemoryStorage(), { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(MigrationAbortedError);
  });

  it('stops before the next listing when the signal fires after a phase, even if the rest is empty', async () => {
    const source = await openStore();
    await source.storeConversation('c1', { t: 1 });
    const target = await openStore();
    await target.storeConversation('c1', { t: 1 });
    const controller = new AbortController();
    const phases: string[] = [];
    const run = verifyMigration(source, target, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type !== 'phase-end') return;
        phases.push(event.phase);
        controller.abort(new Error('enough'));
      },
    });
    await expect(run).rejects.toBeInstanceOf(MigrationAbortedError);
    expect(phases).toEqual(['conversations']);
  });
});
