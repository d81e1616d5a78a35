/**
 * Reads of the per-conversation and per-agent folders. Where the file system folds names, an
 * id whose folder belongs to a case/normalisation twin (`Conv` while `conv` exists) has
 * nothing stored, so its reads find nothing instead of the twin's data.
 */
import { cloneStoredJson, type JsonObject, type JsonValue } from '../../core/index.js';
import { readParsedFile } from './json-reads.js';
import { parseListEnvelope, parseWrappedObject } from './envelopes.js';
import { readWithIdentity } from './list-reads.js';
import { keepRecordTexts } from './record-texts.js';
import type { FolderFiles } from './folder-files.js';
import type { StoreLayout } from './layout.js';
import type { FileNames } from './name-folding.js';

/** Parsed reads of conversation and agent files; a missing file reads as `null` or `[]`. */
export class FolderReads {
  /**
   * @param layout where the folders are.
   * @param names the store's name rules (whether the folder folds names).
   * @param folders the folder writer, which knows each id's twin.
   */
  constructor(
    private readonly layout: StoreLayout,
    private readonly names: FileNames,
    private readonly folders: FolderFiles,
  ) {}

  /** The conversation object without its `_storage_metadata`, or `null`. */
  async conversation(conversationId: string): Promise<JsonObject | null> {
    if (await this.isConversationTwin(conversationId)) return null;
    return readParsedFile(this.layout.conversationFile(conversationId, 'conversation'), (file, value) =>
      parseWrappedObject(file, value, '_storage_metadata'),
    );
  }

  /** The raw message list, or `null`. */
  async rawMessages(conversationId: string): Promise<JsonValue[] | null> {
    if (await this.isConversationTwin(conversationId)) return null;
    return readParsedFile(this.layout.conversationFile(conversationId, 'rawMessages'), (file, value) =>
      parseListEnvelope(file, value, 'messages', false),
    );
  }

  /** The chunk info without its `_metadata`, or `null`. */
  async chunkInfo(conversationId: string): Promise<JsonObject | null> {
    if (await this.isConversationTwin(conversationId)) return null;
    return readParsedFile(this.layout.conversationFile(conversationId, 'chunks'), (file, value) =>
      parseWrappedObject(file, value, '_metadata'),
    );
  }

  /** The conversation's memories, in file order (copies: the parsed file may be kept for the next load). */
  async memories(conversationId: string): Promise<JsonObject[]> {
    if (await this.isConversationTwin(conversationId)) return [];
    const file = this.layout.conversationFile(conversationId, 'memories');
    const memories = await this.folders.loadList(file, (f, value, text) =>
      recordsOf(f, value, text, 'memories'),
    );
    return memories === null ? [] : cloneStoredJson(memories as JsonObject[]);
  }

  /** The memories file as it is, without the twin check (a writer holding the lock checked it). */
  async memoriesFile(conversationId: string): Promise<JsonObject[]> {
    return readRecords(this.layout.conversationFile(conversationId, 'memories'), 'memories');
  }

  /** The agent's chains oldest first (copies); with `limit`, the last `limit`. */
  async chains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    if (this.names.folds && (await this.folders.twinOf(this.layout.agentsDir, agentId)) !== null) return [];
    const file = this.layout.chainsFile(agentId);
    const chains =
      (await this.folders.loadList(file, (f, value, text) => recordsOf(f, value, text, 'chains'))) ?? [];
    // Only the records handed out are copied: the parsed file may be kept for the next load.
    return cloneStoredJson((limit === null ? chains : chains.slice(-limit)) as JsonObject[]);
  }

  /** The chains file as it is, without the twin check (a writer holding the lock checked it). */
  async chainsFile(agentId: string): Promise<JsonObject[]> {
    return readRecords(this.layout.chainsFile(agentId), 'chains');
  }

  /** True when the conversation's folder is a twin's; no I/O on a folder that does not fold names. */
  private async isConversationTwin(conversationId: string): Promise<boolean> {
    if (!this.names.folds) return false;
    return (await this.folders.twinOf(this.layout.conversationsDir, conversationId)) !== null;
  }
}

/**
 * The records of a list file (`field`: `memories` or `chains`) parsed from `text`, each one's
 * text kept, so a rewrite of the file writes the records it did not change as they were read
 * (see `record-texts.ts`).
 */
function recordsOf(file: string, value: JsonValue, text: string, field: string): JsonObject[] {
  const records = parseListEnvelope(file, value, field, true);
  keepRecordTexts(text, records, field);
  return records;
}

/** The records of the list file `file` (`[]` when it does not exist), for an update of it. */
async function readRecords(file: string, field: string): Promise<JsonObject[]> {
  const { value, text } = await readWithIdentity(file);
  return value === undefined ? [] : recordsOf(file, value, text, field);
}
