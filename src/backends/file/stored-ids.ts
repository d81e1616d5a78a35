/**
 * `listAllConversationIds` on the file backend: the conversation folders holding any stored
 * kind. An empty raw-message list is no stored data (the rule every backend follows: SQLite
 * and PostgreSQL keep one row per message, so an empty list leaves nothing to list). This
 * library removes `raw_messages.json` when a list is replaced by `[]`, but the Python reference
 * (and versions of this library before the rule) write the file with `"messages": []`, so a
 * folder holding only that file is read to tell. Only such folders are read: one holding any
 * other data file is listed from the existence checks alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readdirOrEmpty } from './atomic-json.js';
import { CONVERSATION_FILES } from './layout.js';
import { LoopTurns } from './loop-turns.js';
import { isMissing } from './temp-files.js';

/** Existence checks made in one go before yielding to other work (each takes microseconds). */
const CHECK_CHUNK = 256;

/**
 * Largest `raw_messages.json` read to see whether its list is empty. The envelope of an empty
 * list is about 150 bytes plus the id (at most 255 UTF-8 bytes, up to about 800 once escaped as
 * JSON); a larger file holds messages (or is not ours to judge), so it is listed unread.
 */
const EMPTY_LIST_MAX_BYTES = 4096;

/** The data files other than the raw messages: any of them makes a folder listed. */
const OTHER_FILES = [CONVERSATION_FILES.conversation, CONVERSATION_FILES.memories, CONVERSATION_FILES.chunks];

/**
 * False only for a regular file (at most {@link EMPTY_LIST_MAX_BYTES}) holding a JSON object
 * whose `messages` is an empty array. Anything else found there (messages, a file that does not
 * parse, a folder) counts as stored, so a load reports what is wrong with it.
 */
function holdsRawMessages(file: string): boolean {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return true; // there, but unreadable: the load says why
  }
  if (stat === undefined) return false;
  if (!stat.isFile() || stat.size > EMPTY_LIST_MAX_BYTES) return true;
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    const messages = (value as { messages?: unknown } | null)?.messages;
    return !(Array.isArray(messages) && messages.length === 0);
  } catch (error) {
    return !isMissing(error); // gone since the stat (a concurrent write of []), or corrupt
  }
}

/**
 * Names of the conversation folders under `parent` holding any stored kind (`[]` when `parent`
 * is missing). Synchronous checks in chunks, as `subfoldersHolding` (see there why); the event
 * loop is released between chunks.
 */
export async function storedConversationIds(parent: string): Promise<string[]> {
  const names = await readdirOrEmpty(parent);
  const out: string[] = [];
  const turns = new LoopTurns(CHECK_CHUNK);
  for (const name of names) {
    await turns.step();
    const dir = path.join(parent, name);
    if (OTHER_FILES.some((file) => fs.existsSync(path.join(dir, file)))) out.push(name);
    else if (holdsRawMessages(path.join(dir, CONVERSATION_FILES.rawMessages))) out.push(name);
  }
  return out;
}
