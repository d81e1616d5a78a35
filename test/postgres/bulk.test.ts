/** Raw-message lists larger than one statement's 65,535 bind parameters are stored in one go. */
import { describeWithService } from '../services.js';
import { usePostgresStore } from './helpers.js';

describeWithService('postgres')('postgres bulk raw messages', () => {
  const ctx = usePostgresStore();

  it('stores, loads and replaces 70,000 messages', async () => {
    const s = await ctx.open();
    const messages = Array.from({ length: 70_000 }, (_, i) => ({ role: i % 2 ? 'user' : 'assistant', i }));
    await expect(s.storeRawMessages('big', messages)).resolves.toBe(true);
    const loaded = await s.loadRawMessages('big');
    expect(loaded).toHaveLength(70_000);
    expect(loaded[0]).toEqual(messages[0]);
    expect(loaded[69_999]).toEqual(messages[69_999]);
    expect(loaded.every((m, i) => (m as { i: number }).i === i)).toBe(true);
    expect((await s.getStorageStats()).raw_message_count).toBe(70_000);

    await s.storeRawMessages('big', [{ only: true }]);
    expect(await s.loadRawMessages('big')).toEqual([{ only: true }]);
    await s.storeRawMessages('big', []);
    expect(await s.loadRawMessages('big')).toEqual([]);
  });
});
