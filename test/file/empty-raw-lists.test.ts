/**
 * An empty raw-message list is no stored data (the conformance suite checks the rule on every
 * backend). Here, what is file-specific: the file written for `[]` by the Python reference (or
 * by this library before the rule) still loads and is not listed, and a write of `[]` removes
 * the file the reference would read as "no messages" anyway.
 */
import path from 'node:path';
import fse from 'fs-extra';
import { CorruptDataError } from '../../src/core/index.js';
import { openStore, removeTempDirs, shutdownAll } from './helpers.js';

afterEach(shutdownAll);
afterAll(removeTempDirs);

/** The reference's envelope of a raw-message list, 2-space indented as it writes it. */
function referenceRawFile(id: string, messages: unknown[]): string {
  const metadata = {
    stored_at: '2025-03-06T10:00:00.123000+00:00',
    message_count: messages.length,
    conversation_id: id,
  };
  return JSON.stringify({ messages, _metadata: metadata }, null, 2);
}

describe('empty raw-message lists', () => {
  it('a reference-written empty list loads as [] and its id is not listed', async () => {
    const storage = await openStore();
    const folder = (id: string) => path.join(storage.baseDir, 'conversations', id);
    await fse.outputFile(
      path.join(folder('ref-empty'), 'raw_messages.json'),
      referenceRawFile('ref-empty', []),
    );
    const long = 'ü'.repeat(127); // a long id: the envelope is still read to tell
    await fse.outputFile(path.join(folder(long), 'raw_messages.json'), referenceRawFile(long, []));
    await fse.outputFile(
      path.join(folder('ref-one'), 'raw_messages.json'),
      referenceRawFile('ref-one', ['hi']),
    );
    await fse.outputFile(
      path.join(folder('ref-both'), 'raw_messages.json'),
      referenceRawFile('ref-both', []),
    );
    await fse.outputFile(path.join(folder('ref-both'), 'chunks.json'), JSON.stringify({ chunks: [] }));
    // A raw file that does not parse is listed, so its load reports it.
    await fse.outputFile(path.join(folder('cut'), 'raw_messages.json'), '{"messages": [');

    expect(await storage.listAllConversationIds()).toEqual(['cut', 'ref-both', 'ref-one']);
    expect((await storage.listAllConversationIds({ limit: 10 })).items).toEqual([
      'cut',
      'ref-both',
      'ref-one',
    ]);
    expect(await storage.loadRawMessages('ref-empty')).toEqual([]);
    expect(await storage.loadRawMessages(long)).toEqual([]);
    expect(await storage.loadRawMessages('ref-one')).toEqual(['hi']);
    await expect(storage.loadRawMessages('cut')).rejects.toBeInstanceOf(CorruptDataError);
    expect((await storage.getStorageStats()).raw_message_count).toBe(1);

    // The reference rewrites files in place: a listing sees the change (counts are kept by identity).
    const refOne = path.join(folder('ref-one'), 'raw_messages.json');
    await fse.writeFile(refOne, referenceRawFile('ref-one', []));
    expect(await storage.listAllConversationIds()).toEqual(['cut', 'ref-both']);
    await fse.writeFile(refOne, referenceRawFile('ref-one', ['again']));
    expect(await storage.listAllConversationIds()).toEqual(['cut', 'ref-both', 'ref-one']);

    // Written again with [] the file goes; with messages it is the reference's envelope again.
    await storage.storeRawMessages('ref-empty', []);
    expect(await fse.pathExists(path.join(folder('ref-empty'), 'raw_messages.json'))).toBe(false);
    await storage.storeRawMessages('ref-empty', ['back']);
    const written = (await fse.readJson(path.join(folder('ref-empty'), 'raw_messages.json'))) as {
      messages: unknown[];
      _metadata: { message_count: number; conversation_id: string };
    };
    expect(written.messages).toEqual(['back']);
    expect(written._metadata).toMatchObject({ message_count: 1, conversation_id: 'ref-empty' });
  });

  it('replacing a list by [] removes the file, keeps a backup and leaves no empty folder', async () => {
    const storage = await openStore();
    const dir = path.join(storage.baseDir, 'conversations', 'c1');
    await storage.storeRawMessages('c1', ['a', 'b']);
    await storage.storeRawMessages('c1', []);
    const names = await fse.readdir(dir);
    expect(names).not.toContain('raw_messages.json');
    expect(names.filter((name) => /^raw_messages\.\d{8}_\d{6}.*\.backup\.json$/.test(name))).toHaveLength(1);

    const bare = await openStore({ createBackups: false });
    await bare.storeRawMessages('c2', ['a']);
    await bare.storeRawMessages('c2', []);
    await bare.storeRawMessages('never', []);
    expect(await fse.readdir(path.join(bare.baseDir, 'conversations'))).toEqual([]);
  });
});
