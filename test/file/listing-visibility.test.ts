/**
 * The conversation listings look into every folder on every call: a folder that gains or loses
 * `current.json` (through another store, or written in place as the Python reference writes) or
 * is removed is seen by the very next call, however soon, with no cache in between to go stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

describe('file listings: other writers', () => {
  it('sees folders gain, lose and drop current.json between two calls', async () => {
    const s = await openStore({ searchIndex: false });
    const other = await openStore({ baseDir: s.baseDir, searchIndex: false });
    const lists = async () => [await s.listConversations(), await s.listAllConversationIds()];
    await s.storeRawMessages('a', ['m']);
    expect(await lists()).toEqual([[], ['a']]);
    await other.storeConversation('a', { title: 'a' });
    expect(await lists()).toEqual([['a'], ['a']]);
    // The reference writes in place: the folder and the file appear, nothing is renamed.
    const b = path.join(s.baseDir, 'conversations', 'b');
    fs.mkdirSync(b);
    const metadata = {
      stored_at: '2025-03-06T10:00:00+00:00',
      storage_backend: 'file',
      conversation_id: 'b',
    };
    fs.writeFileSync(
      path.join(b, 'current.json'),
      JSON.stringify({ title: 'b', _storage_metadata: metadata }),
    );
    expect(await lists()).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    // A conversation file removed, its folder left with the raw messages.
    fs.unlinkSync(path.join(s.baseDir, 'conversations', 'a', 'current.json'));
    expect(await lists()).toEqual([['b'], ['a', 'b']]);
    fs.rmSync(b, { recursive: true });
    expect(await lists()).toEqual([[], ['a']]);
    await other.deleteConversation('a');
    expect(await lists()).toEqual([[], []]);
  });
});
