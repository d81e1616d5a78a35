/**
 * `listAllConversationIds` and `listAgents` on the file backend: the folders holding any stored
 * kind. An empty list (raw messages, memories, chains) is no stored data (the rule every backend
 * follows: SQLite and PostgreSQL keep one row per record, so an empty list leaves nothing to
 * list). This library removes a list file when its list is emptied, but the Python reference
 * writes `raw_messages.json` with `"messages": []` (as did versions of this library before the
 * rule), and any other program may leave `"memories": []` or `"chains": []`, so a folder whose
 * only data is list files must tell. Only such folders are looked into (one holding any other
 * data file is listed from the existence checks alone), only small list files are read (see
 * {@link EMPTY_LIST_MAX_BYTES}), and a file's record count is kept by its identity
 * (`RecordCounts`, shared with the writes and the stats), so an unchanged file is read once per
 * process: a listing then costs a `stat` per such folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { identityOf, readdirOrEmpty } from './atomic-json.js';
import { readJsonFileSync } from './json-reads.js';
import { parseListEnvelope } from './envelopes.js';
import { CHAINS_FILE, CONVERSATION_FILES } from './layout.js';
import { LoopTurns } from './loop-turns.js';
import { LIST_FIELDS, type RecordCounts } from './record-counts.js';
import { isMissing } from './temp-files.js';

/** Existence checks made in one go before yielding to other work (each takes microseconds). */
const CHECK_CHUNK = 256;

/**
 * Largest list file read to see whether its list is empty. The envelope of an empty list is
 * about 150 bytes plus the id (at most 255 UTF-8 bytes, up to about 800 once escaped as JSON);
 * a larger file holds records (or is not ours to judge), so it is listed unread.
 */
const EMPTY_LIST_MAX_BYTES = 4096;

/** What a list file says without being read. */
type ListState = 'none' | 'records' | 'unknown';

/** A list file's state, with the stat it was judged by (none when missing or not to be read). */
interface ListLook {
  state: ListState;
  stat?: fs.BigIntStats;
}

/**
 * `none` when there is no such file or its list is known empty; `records` when it is known to
 * hold records, or is something a load must report (not a regular file, larger than
 * {@link EMPTY_LIST_MAX_BYTES}, not to be looked at); `unknown` when only reading it can tell.
 */
function listStateOf(file: string, counts: RecordCounts): ListLook {
  let stat: fs.BigIntStats | undefined;
  try {
    stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  } catch (error) {
    // ENOTDIR: the "folder" is a stray file (a `.DS_Store` beside the folders), which holds no records.
    return { state: isMissing(error) ? 'none' : 'records' };
  }
  if (stat === undefined) return { state: 'none' };
  if (!stat.isFile() || stat.size > EMPTY_LIST_MAX_BYTES) return { state: 'records' };
  const known = counts.get(file, identityOf(stat));
  return { state: known === undefined ? 'unknown' : known > 0 ? 'records' : 'none', stat };
}

/**
 * Whether the list file looked at as `look` holds records: read when its state is `unknown`,
 * its count kept for the identity `stat` saw (a file changed since has another one, so is read
 * again). A file that does not parse or cannot be read counts as holding some, so its load
 * reports it: a listing never fails on one file.
 */
function holdsRecords(file: string, look: ListLook, counts: RecordCounts): boolean {
  if (look.state !== 'unknown' || look.stat === undefined) return look.state === 'records';
  try {
    const value = readJsonFileSync(file);
    if (value === undefined) return false; // removed since the stat (a write of [])
    const field = LIST_FIELDS[path.basename(file)] as string;
    const count = parseListEnvelope(file, value, field, false).length;
    counts.set(file, identityOf(look.stat), count);
    return count > 0;
  } catch {
    return true;
  }
}

/**
 * True when the folder at `prefix` (its path and a separator) holds any stored kind. Checked in
 * the order that costs least: the conversation (most folders have one), then the `stat` of
 * each list file (a known count settles it), chunk info, and only then a read of a list file.
 * Paths are concatenated: `path.join` normalises the whole path each time, a measurable part
 * of a listing of 10,000 folders.
 */
function holdsData(prefix: string, counts: RecordCounts): boolean {
  if (fs.existsSync(prefix + CONVERSATION_FILES.conversation)) return true;
  const rawFile = prefix + CONVERSATION_FILES.rawMessages;
  const raw = listStateOf(rawFile, counts);
  if (raw.state === 'records') return true;
  const memoriesFile = prefix + CONVERSATION_FILES.memories;
  const memories = listStateOf(memoriesFile, counts);
  if (memories.state === 'records' || fs.existsSync(prefix + CONVERSATION_FILES.chunks)) return true;
  return holdsRecords(rawFile, raw, counts) || holdsRecords(memoriesFile, memories, counts);
}

/**
 * Names of the sub-folders of `parent` passing `holds` (`[]` when `parent` is missing).
 * Synchronous checks in chunks, as `subfoldersHolding` (see there why); the event loop is
 * released between chunks.
 */
async function subfoldersWhere(parent: string, holds: (prefix: string) => boolean): Promise<string[]> {
  const names = await readdirOrEmpty(parent);
  const base = path.join(parent, path.sep); // normalised once, ending in a separator
  const out: string[] = [];
  const turns = new LoopTurns(CHECK_CHUNK);
  for (const name of names) {
    const turn = turns.stepSoon();
    if (turn !== undefined) await turn;
    if (holds(base + name + path.sep)) out.push(name);
  }
  return out;
}

/** Names of the conversation folders under `parent` holding any stored kind. */
export function storedConversationIds(parent: string, counts: RecordCounts): Promise<string[]> {
  return subfoldersWhere(parent, (prefix) => holdsData(prefix, counts));
}

/** Names of the agent folders under `parent` whose chains file holds chains (or must be reported). */
export function storedAgentIds(parent: string, counts: RecordCounts): Promise<string[]> {
  return subfoldersWhere(parent, (prefix) => {
    const file = prefix + CHAINS_FILE;
    return holdsRecords(file, listStateOf(file, counts), counts);
  });
}
