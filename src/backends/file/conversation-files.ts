/**
 * Writes and removals of a conversation's data files for the file store (conversation, raw
 * messages, chunk info, and the removal of memories): each builds the file's envelope and replaces
 * or removes the file under the conversation's lock.
 */
import { type JsonObject, type JsonValue, nowTimestamp } from '../../core/index.js';
import { chunksEnvelope, conversationEnvelope, memoriesEnvelope, rawMessagesEnvelope } from './envelopes.js';
import type { FileParts } from './file-parts.js';
import type { ConversationFileKind } from './layout.js';

/** Replaces one file of a conversation with `envelope` under the conversation's lock. */
async function replaceConversationFile(
  parts: FileParts,
  conversationId: string,
  kind: ConversationFileKind,
  envelope: JsonObject,
): Promise<void> {
  const file = parts.layout.conversationFile(conversationId, kind);
  await parts.folders.replaceInConversation(conversationId, file, envelope);
}

/** Stores a conversation's data (`conversation`) or chunk info (`chunks`) in its file. */
export async function writeConversationFile(
  parts: FileParts,
  conversationId: string,
  kind: 'conversation' | 'chunks',
  data: JsonObject,
): Promise<void> {
  const build = kind === 'conversation' ? conversationEnvelope : chunksEnvelope;
  const envelope = build(conversationId, data, nowTimestamp());
  await replaceConversationFile(parts, conversationId, kind, envelope);
}

/** Stores a conversation's raw messages; an empty list removes their file. */
export async function writeRawMessagesFile(
  parts: FileParts,
  conversationId: string,
  messages: JsonValue[],
): Promise<void> {
  // An empty list is no stored data (see stored-ids.ts): the file goes, so the id is not listed.
  if (messages.length === 0) return removeConversationFile(parts, conversationId, 'rawMessages');
  const envelope = rawMessagesEnvelope(conversationId, messages, nowTimestamp());
  await replaceConversationFile(parts, conversationId, 'rawMessages', envelope);
}

/**
 * Removes one data file of a conversation (backed up, as a replace would be) under the
 * conversation's lock, with its folder when nothing else is left; nothing when absent.
 */
async function removeConversationFile(
  parts: FileParts,
  conversationId: string,
  kind: ConversationFileKind,
): Promise<void> {
  const file = parts.layout.conversationFile(conversationId, kind);
  await parts.folders.withConversation(conversationId, (assertHeld) =>
    parts.folders.remove(file, assertHeld),
  );
}

/**
 * Removes every memory with one of `memoryIds` of a conversation (the reference may have
 * written duplicates) in one replace of its memories file.
 */
export async function removeMemoriesFrom(
  parts: FileParts,
  conversationId: string,
  memoryIds: readonly string[],
): Promise<void> {
  const { folders, layout, reads } = parts;
  const gone = new Set<unknown>(memoryIds);
  await folders.withConversation(conversationId, async (assertHeld) => {
    const file = layout.conversationFile(conversationId, 'memories');
    const read = await folders.readList(file, () => reads.memoriesFile(conversationId));
    const kept = read.list.filter((memory) => !gone.has((memory as JsonObject).memory_id));
    if (kept.length === read.list.length) return;
    // A conversation without memories has no memories file.
    if (kept.length === 0) return folders.remove(file, assertHeld);
    const envelope = memoriesEnvelope(conversationId, kept, nowTimestamp());
    await folders.replaceList(file, kept, envelope, read, assertHeld);
  });
}
