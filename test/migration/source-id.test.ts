/** `migrateStorage` without `sourceId`: a resume marker it cannot prove its own is refused. */
import { migrateStorage } from '../../src/migration/index.js';
import { InMemoryStorage } from '../support/memory-storage.js';
import { failingAfter, snapshot } from './support.js';

async function openStore(): Promise<InMemoryStorage> {
  const storage = new InMemoryStorage();
  await storage.initialize();
  return storage;
}

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
