/**
 * Reads of the per-conversation and per-agent folders. Where the file system folds names, an
 * id whose folder belongs to a case/normalisation twin (`Conv` while `conv` exists) has
 * nothing stored, so its reads find nothing instead of the twin's data.
 */
import type { JsonObject, JsonValue } from '../../core/index.js';
import { readParsedFile } from './atomic-json.js';
import { parseListEnvelope, parseWrappedObject } from './envelopes.js';
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
    const memories = await this.folders.loadList(file, (f, value) =>
      parseListEnvelope(f, value, 'memories', true),
    );
    return memories === null ? [] : structuredClone(memories as JsonObject[]);
  }

  /** The memories file as it is, without the twin check (a writer holding the lock checked it). */
  async memoriesFile(conversationId: string): Promise<JsonObject[]> {
    const file = this.layout.conversationFile(conversationId, 'memories');
    return (await readParsedFile(file, (f, value) => parseListEnvelope(f, value, 'memories', true))) ?? [];
  }

  /** The agent's chains oldest first (copies); with `limit`, the last `limit`. */
  async chains(agentId: string, limit: number | null): Promise<JsonObject[]> {
    if (this.names.folds && (await this.folders.twinOf(this.layout.agentsDir, agentId)) !== null) return [];
    const file = this.layout.chainsFile(agentId);
    const chains =
      (await this.folders.loadList(file, (f, value) => parseListEnvelope(f, value, 'chains', true))) ?? [];
    // Only the records handed out are copied: the parsed file may be kept for the next load.
    return structuredClone((limit === null ? chains : chains.slice(-limit)) as JsonObject[]);
  }

  /** The chains file as it is, without the twin check (a writer holding the lock checked it). */
  async chainsFile(agentId: string): Promise<JsonObject[]> {
    const file = this.layout.chainsFile(agentId);
    return (await readParsedFile(file, (f, value) => parseListEnvelope(f, value, 'chains', true))) ?? [];
  }

  /** True when the conversation's folder is a twin's; no I/O on a folder that does not fold names. */
  private async isConversationTwin(conversationId: string): Promise<boolean> {
    if (!this.names.folds) return false;
    return (await this.folders.twinOf(this.layout.conversationsDir, conversationId)) !== null;
  }
}
