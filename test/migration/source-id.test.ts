/** `migrateStorage` without `sourceId`: a resume marker it cannot prove its own is refused. */
import { migrateStorage, MIGRATION_MARKER_KEY } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { failingAfter, openStore, snapshot } from './support.js';

describe('migrateStorage without a sourceId', () => {
  it("refuses a target holding another store's unfinished run of the same backend type, writing nothing", async () => {
    const first = await openStore();
    for (let i = 0; i < 5; i += 1) await first.storeConversation(`first-${i}`, { from: 'first' });
    const other = await openStore();
    await other.storeConversation('other-0', { from: 'other' });
    const target = await openStore();
    const crashed = migrateStorage(first, failingAfter(target, 3), {
      conversationBatchSize: 1,
      concurrency: 1,
    });
    await expect(crashed).rejects.toThrow('simulated crash');
    const before = await snapshot(target);
    await expect(migrateStorage(other, target)).rejects.toMatchObject({
      reason: 'foreign-marker',
      message: expect.stringContaining('pass the sourceId'),
    });
    expect(await snapshot(target)).toEqual(before);
    // Nor does an explicit sourceId take over a run that was given none.
    await expect(migrateStorage(other, target, { sourceId: 'other' })).rejects.toMatchObject({
      reason: 'foreign-marker',
    });
    expect(await snapshot(target)).toEqual(before);
  });
});

describe('resume markers compared in canonical form', () => {
  /** A run from `first` into a new target that crashes after three writes, leaving its marker. */
  async function crashedInto(
    sourceId: string,
  ): Promise<{ source: InMemoryStorage; target: InMemoryStorage }> {
    const source = await openStore();
    for (let i = 0; i < 5; i += 1) await source.storeConversation(`c-${i}`, { n: i });
    const target = await openStore();
    const crashed = migrateStorage(source, failingAfter(target, 3), {
      conversationBatchSize: 1,
      concurrency: 1,
      sourceId,
    });
    await expect(crashed).rejects.toThrow('simulated crash');
    return { source, target };
  }

  it.each([
    // Markers of the previous version kept the host as spelled: they resume under the canonical identity.
    ['redis://127.0.0.1:6379/0#app:', 'redis://localhost:6379/0#app:'],
    ['redis://[::1]:6379/0#app:', 'redis://localhost:6379/0#app:'],
    ['postgres://::1:5432/app#s', 'postgres://localhost:5432/app#s'],
    ['postgres://Db.Example:5432/app#s', 'postgres://db.example:5432/app#s'],
    // pg's percent-encoded socket host and database, and a zero-padded port, as pg reads them.
    ['postgres://%2fvar%2frun%2fpostgresql:5432/te%73t#s', 'postgres:///var/run/postgresql:5432/test#s'],
    ['postgres://db:05432/app#s', 'postgres://db:5432/app#s'],
    ['redis://h:6379/01#app:', 'redis://h:6379/1#app:'],
    ['postgres://%2FTmp%2FPG:5432/app#s', 'postgres:///Tmp/PG:5432/app#s'],
    // A canonical identity decodes to itself: its marker (canonical again) resumes it.
    ['postgres://h:5432/a%2541#s', 'postgres://h:5432/a%2541#s'],
    // And a canonical marker resumes a run that spells the host otherwise.
    ['redis://localhost:6379/0#app:', 'redis://127.0.0.1:6379/0#app:'],
  ])('a marker of %s resumes as %s', async (written, resumedAs) => {
    const { source, target } = await crashedInto(written);
    const summary = await migrateStorage(source, target, { sourceId: resumedAs });
    expect(summary).toMatchObject({ ok: true, resumed: true });
    expect(await target.listConversations()).toHaveLength(5);
  });

  it.each([
    ['redis://127.0.0.1:6379/0#app:', 'redis://127.0.0.2:6379/0#app:'],
    ['redis://localhost:6379/0#app:', 'redis://localhost:6380/0#app:'],
    ['redis://localhost:6379/0#app:', 'redis://localhost:6379/0#other:'],
    ['postgres://::1:5432/app#s', 'postgres://[::2]:5432/app#s'],
    // Socket folders are paths: their case tells two servers apart.
    ['postgres:///tmp/A:5432/app#s', 'postgres:///tmp/a:5432/app#s'],
    ['postgres:///tmp/a:5432/app#s', 'postgres://%2Ftmp%2FA:5432/app#s'],
    // The CLI's identity of /a%2541 (pg's database a%41) is not database aA, decoded once more.
    ['postgres://h:5432/aA#s', 'postgres://h:5432/a%2541#s'],
  ])('a marker of %s is foreign to %s', async (written, other) => {
    const { source, target } = await crashedInto(written);
    await expect(migrateStorage(source, target, { sourceId: other })).rejects.toMatchObject({
      reason: 'foreign-marker',
    });
  });

  it('writes the marker with the canonical identity', async () => {
    const { target } = await crashedInto('redis://[::1]:6379/0#app:');
    expect(await target.loadSystemState(MIGRATION_MARKER_KEY)).toMatchObject({
      source_id: 'redis://localhost:6379/0#app:',
    });
  });

  it('refuses a source and target whose identities differ only in the spelling of loopback', async () => {
    const [source, target] = [await openStore(), await openStore()];
    await expect(
      migrateStorage(source, target, {
        sourceId: 'redis://127.0.0.1:6379/0#app:',
        targetId: 'redis://[::1]:6379/0#app:',
      }),
    ).rejects.toMatchObject({ reason: 'same-store' });
  });
});
