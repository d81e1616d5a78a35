/**
 * The options objects of `migrateStorage` and `verifyMigration`: an unknown name (a typo) and
 * options that cannot be read (a getter that throws, a revoked Proxy) are refused before either
 * store opens, as a bad value is, and each option is read once. Until 2026-12-06 an unknown name
 * was ignored (`{ dryrun: true }` made a real copy) and a throwing read escaped as the caller's
 * own error.
 */
import { StorageError, ValidationError } from '../../src/core/index.js';
import {
  inspectTarget,
  migrateStorage,
  MIGRATION_MARKER_KEY,
  type MigrateOptions,
  MigrationRefusedError,
  verifyMigration,
  type VerifyOptions,
} from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { openStore, populatedSource } from './support.js';

const thrown = new Error('getter threw');
const revoked = Proxy.revocable({}, {});
revoked.revoke();

/** Options whose `name` getter throws {@link thrown}. */
function throwingGetter(name: string): object {
  return Object.defineProperty({}, name, {
    enumerable: true,
    get() {
      throw thrown;
    },
  });
}

/** `options` with each read of a name counted in `reads`. */
function counted<T extends object>(options: T, reads: Map<string, number>): T {
  return new Proxy(options, {
    get(object, property, receiver) {
      if (typeof property === 'string') reads.set(property, (reads.get(property) ?? 0) + 1);
      return Reflect.get(object, property, receiver) as unknown;
    },
  });
}

describe('migrateStorage options', () => {
  const MIGRATE_NAMES =
    'dryRun, verify, merge, checkSource, concurrency, sourceId, targetId, conversationBatchSize, maxDifferences, onProgress, signal';

  it.each<[string, unknown, string, unknown]>([
    [
      'an unknown name (a typo of dryRun)',
      { dryrun: true },
      `unknown option "dryrun" (known: ${MIGRATE_NAMES})`,
      undefined,
    ],
    ['a getter that throws', throwingGetter('dryRun'), 'could not be read', thrown],
    ['a revoked Proxy', revoked.proxy, 'could not be read', expect.any(TypeError)],
    ['null', null, 'must be an object (got null)', undefined],
  ])('refuses %s before opening either store', async (_name, options, message, cause) => {
    const source = new InMemoryStorage();
    const target = new InMemoryStorage();
    const error: unknown = await migrateStorage(source, target, options as MigrateOptions).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationRefusedError);
    expect(error).toMatchObject({ reason: 'invalid-option' });
    expect((error as Error).cause).toEqual(cause);
    expect((error as Error).message).toBe(`migrateStorage options: ${message}`);
    expect([source.isInitialized, target.isInitialized]).toEqual([false, false]);
  });

  it('writes nothing into an open target for a typo of dryRun, and the run with the right name counts only', async () => {
    const source = await populatedSource();
    const target = await openStore();
    const run = migrateStorage(source, target, { dryrun: true } as MigrateOptions);
    await expect(run).rejects.toMatchObject({ name: 'MigrationRefusedError', reason: 'invalid-option' });
    expect(await inspectTarget(target)).toMatchObject({ empty: true });
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toBeNull();
    expect(await migrateStorage(source, target, { dryRun: true })).toMatchObject({ ok: true, dryRun: true });
    expect(await inspectTarget(target)).toMatchObject({ empty: true });
  });

  it('reads each option once', async () => {
    const reads = new Map<string, number>();
    const options = counted<MigrateOptions>(
      {
        dryRun: true,
        concurrency: 2,
        maxDifferences: 5,
        signal: new AbortController().signal,
        onProgress: () => {},
      },
      reads,
    );
    expect((await migrateStorage(await populatedSource(), new InMemoryStorage(), options)).ok).toBe(true);
    expect(Math.max(...reads.values())).toBe(1);
    expect(reads.get('dryRun')).toBe(1);
  });
});

describe('verifyMigration options', () => {
  const VERIFY_NAMES = 'allowExtra, concurrency, maxDifferences, expiryToleranceMs, onProgress, signal';

  it.each<[string, unknown, string, unknown]>([
    [
      'an unknown name (a typo of maxDifferences)',
      { maxDiferences: 1 },
      `unknown option "maxDiferences" (known: ${VERIFY_NAMES})`,
      undefined,
    ],
    ['a getter that throws', throwingGetter('maxDifferences'), 'could not be read', thrown],
    ['a revoked Proxy', revoked.proxy, 'could not be read', expect.any(TypeError)],
  ])('refuses %s before reading either store', async (_name, options, message, cause) => {
    // Never opened: a read would reject as not initialized, which is no ValidationError.
    const error: unknown = await verifyMigration(
      new InMemoryStorage(),
      new InMemoryStorage(),
      options as VerifyOptions,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'options' });
    expect((error as Error).cause).toEqual(cause);
    expect((error as StorageError).message).toBe(`Invalid options: ${message}`);
  });

  it('reads each option once', async () => {
    const [source, target] = [await openStore(), await openStore()];
    const reads = new Map<string, number>();
    const options = counted<VerifyOptions>(
      { concurrency: 2, maxDifferences: 5, allowExtra: false, signal: new AbortController().signal },
      reads,
    );
    expect((await verifyMigration(source, target, options)).ok).toBe(true);
    expect(Math.max(...reads.values())).toBe(1);
  });
});
