/**
 * Whole conversations in one call: `storeConversationBatch(items)` writes the conversation
 * object, raw messages, memories and chunk info of several conversation ids at once, as the
 * single calls in a loop would, and `loadConversationBatch(ids)` reads them back as the four
 * single loads per id would. The migration copies with them (a few native operations per
 * group of conversations instead of eight calls per conversation). The protected primitives
 * have defaults built on the single-conversation primitives, so a registered backend keeps
 * working; built-in backends replace them with one transaction / pipeline / query per kind.
 */
import {
  applyPartsInOrder,
  atItem,
  checkBatch,
  itemFields,
  MEMORY_ITEM_FIELDS,
  type MemoryBatchItem,
} from './batches.js';
import { mapConcurrent } from './concurrency.js';
import { ValidationError } from './errors.js';
import { refuseUnknownFields, validateId } from './ids.js';
import { type JsonObject, type JsonValue, toJsonArray, toJsonObject } from './json.js';
import { batchName, recordText } from './record-names.js';
import { buildMemoryWrite, type MemoryWrite } from './records.js';
import {
  CHUNK_INFO_METADATA_FIELD,
  CONVERSATION_METADATA_FIELD,
  refuseReservedField,
} from './reserved-fields.js';
import { SemanticStorage } from './storage-semantic.js';
import { nowTimestamp } from './time.js';
import { quoteName } from './shown-text.js';

/** The public methods' names (errors and logs). */
const METHOD = 'storeConversationBatch';
const LOAD_METHOD = 'loadConversationBatch';

/** One conversation id's parts for {@link ConversationBatchStorage.storeConversationBatch}; absent parts are left alone. */
export interface ConversationBatchItem {
  /** The conversation the parts belong to; an id given twice in one batch is refused. */
  conversationId: string;
  /** Stored (replaced) as `storeConversation` would. */
  conversation?: JsonObject;
  /** Stored (replaced) as `storeRawMessages` would. */
  rawMessages?: JsonValue[];
  /** Upserted in order as `storeMemories` would (at most `MAX_BATCH_ITEMS` (1,000)). */
  memories?: MemoryBatchItem[];
  /** Stored (replaced) as `storeChunkInfo` would. */
  chunkInfo?: JsonObject;
}

/** A validated {@link ConversationBatchItem}, as a backend's batch primitive receives it. */
export interface ConversationWrite {
  /** The conversation the parts belong to. */
  conversationId: string;
  /** The conversation object to store; `null` when the item had none. */
  conversation: JsonObject | null;
  /** The raw messages to store; `null` when the item had none. */
  rawMessages: JsonValue[] | null;
  /** Empty when the item had no memories. */
  memories: MemoryWrite[];
  /** The chunk info to store; `null` when the item had none. */
  chunkInfo: JsonObject | null;
}

/** What writes each part of a conversation batch item; `M`: its memories' shape. */
export interface ConversationPartWriters<M> {
  /** Writes the conversation object of `conversationId`; settles when it is written. */
  conversation(conversationId: string, data: JsonObject): Promise<unknown>;
  /** Writes (replaces) the raw messages of `conversationId`; settles when they are written. */
  rawMessages(conversationId: string, messages: JsonValue[]): Promise<unknown>;
  /** Upserts the memories of `conversationId` in order; settles when they are written. */
  memories(conversationId: string, memories: M): Promise<unknown>;
  /** Writes the chunk info of `conversationId`; settles when it is written. */
  chunkInfo(conversationId: string, data: JsonObject): Promise<unknown>;
}

/**
 * The steps writing the parts `write` holds (`memories` in the writers' shape, written when
 * non-empty), in the single calls' order: conversation, raw messages, memories, chunk info.
 */
export function conversationParts<M extends readonly unknown[]>(
  write: ConversationWrite,
  memories: M,
  writers: ConversationPartWriters<M>,
): Array<() => Promise<unknown>> {
  const { conversationId: id, conversation, rawMessages, chunkInfo } = write;
  const parts: Array<() => Promise<unknown>> = [];
  if (conversation !== null) parts.push(() => writers.conversation(id, conversation));
  if (rawMessages !== null) parts.push(() => writers.rawMessages(id, rawMessages));
  if (memories.length > 0) parts.push(() => writers.memories(id, memories));
  if (chunkInfo !== null) parts.push(() => writers.chunkInfo(id, chunkInfo));
  return parts;
}

/** One conversation id's parts as {@link ConversationBatchStorage.loadConversationBatch} returns them. */
export interface StoredConversation {
  /** The id this entry answers; entries come in the order the ids were given. */
  conversationId: string;
  /** As `loadConversation` returns it. */
  conversation: JsonObject | null;
  /** As `loadRawMessages` returns them (`[]` when none). */
  rawMessages: JsonValue[];
  /** As `loadMemories` returns them. */
  memories: JsonObject[];
  /** As `loadChunkInfo` returns it. */
  chunkInfo: JsonObject | null;
}

/** Conversation ids the default {@link ConversationBatchStorage} read primitive reads at once. */
const DEFAULT_READ_CONCURRENCY = 4;

/** Total records (conversation objects, raw messages, memories, chunk info) one batch may carry. */
export const MAX_CONVERSATION_BATCH_RECORDS = 20_000;

/** Records a validated write carries (for the size limit). */
export function conversationWriteRecords(write: ConversationWrite): number {
  const objects = (write.conversation === null ? 0 : 1) + (write.chunkInfo === null ? 0 : 1);
  return objects + (write.rawMessages?.length ?? 0) + write.memories.length;
}

/** A checked item: the write, and its memories as given (the semantic path re-sends them). */
interface CheckedItem {
  write: ConversationWrite;
  memoryItems: MemoryBatchItem[];
}

/** The fields of a `storeConversationBatch` item; any other is refused. */
const CONVERSATION_ITEM_FIELDS = [
  'conversationId',
  'conversation',
  'rawMessages',
  'memories',
  'chunkInfo',
] as const;

function checkItem(item: unknown, now: string): CheckedItem {
  const fields = itemFields(item, CONVERSATION_ITEM_FIELDS);
  const { conversationId } = fields;
  validateId('conversationId', conversationId);
  const label = quoteName(conversationId);
  // A misspelt part (`chunk_info`) would otherwise be left out without a word.
  refuseUnknownFields(item, CONVERSATION_ITEM_FIELDS, recordText.conversation(conversationId));
  const object = (value: unknown, what: string, reserved: string): JsonObject | null => {
    if (value === undefined) return null;
    const json = toJsonObject(value as JsonObject, `${what} ${label}`);
    refuseReservedField(json, reserved, `${what} ${label}`);
    return json;
  };
  const memoryItems =
    fields.memories === undefined
      ? []
      : checkBatch<unknown>(METHOD, 'memories', fields.memories).map((memory): MemoryBatchItem => {
          const { memoryId, data } = itemFields(memory, MEMORY_ITEM_FIELDS);
          validateId('memoryId', memoryId);
          const what = `${recordText.memoryById(memoryId)} of ${label}`;
          refuseUnknownFields(memory, MEMORY_ITEM_FIELDS, what);
          return { memoryId, data: toJsonObject(data as JsonObject, recordText.memoryById(memoryId)) };
        });
  const memories = memoryItems.map((memory) => buildMemoryWrite(memory.memoryId, memory.data, now));
  const write: ConversationWrite = {
    conversationId,
    conversation: object(fields.conversation, 'conversation', CONVERSATION_METADATA_FIELD),
    rawMessages:
      fields.rawMessages === undefined
        ? null
        : toJsonArray(fields.rawMessages as JsonValue[], `raw messages of ${label}`),
    memories,
    chunkInfo: object(fields.chunkInfo, 'chunk info', CHUNK_INFO_METADATA_FIELD),
  };
  return { write, memoryItems };
}

/**
 * How a bulk copy into a store goes fastest: the `migrateStorage` options a migration into it
 * uses when the caller leaves them out (see {@link ConversationBatchStorage.bulkCopyDefaults}).
 */
export interface BulkCopyDefaults {
  /** Conversation ids per `storeConversationBatch` call (the migration's `conversationBatchSize`). */
  conversationBatchSize: number;
  /**
   * Conversation groups copied at the same time (the migration's `concurrency` for its
   * conversations; agents, cache keys, state and the verification use 4 unless given).
   */
  concurrency: number;
}

/** The defaults of a store that states none of its own (file, SQLite, registered backends). */
export const DEFAULT_BULK_COPY: Readonly<BulkCopyDefaults> = Object.freeze({
  conversationBatchSize: 64,
  concurrency: 4,
});

/** Whole-conversation batches. Extend `StorageInterface`, not this. */
export abstract class ConversationBatchStorage extends SemanticStorage {
  /**
   * The migration options a copy into this store uses unless given (conversations per batch
   * write, conversation groups at once): {@link DEFAULT_BULK_COPY}; the Redis and PostgreSQL backends,
   * whose writes a server runs, keep fewer conversations in flight.
   */
  get bulkCopyDefaults(): Readonly<BulkCopyDefaults> {
    return DEFAULT_BULK_COPY;
  }

  /**
   * Stores several conversations' parts in one call: for each item, in order, the conversation
   * object, raw messages, memories and chunk info it carries, each as its single call would.
   * Every item is validated before any I/O (a conversation id given twice, more than
   * `MAX_BATCH_ITEMS` (1,000) items or {@link MAX_CONVERSATION_BATCH_RECORDS} records is a
   * `ValidationError`). Atomicity per backend: see the README. Returns how many items were given.
   */
  async storeConversationBatch(items: readonly ConversationBatchItem[]): Promise<number> {
    const now = nowTimestamp();
    const checked = checkBatch<unknown>(METHOD, 'items', items).map((item, index) =>
      atItem(METHOD, index, () => checkItem(item, now)),
    );
    const writes = checked.map((item) => item.write);
    const seen = new Set<string>();
    let records = 0;
    writes.forEach((write, index) =>
      atItem(METHOD, index, () => {
        if (seen.has(write.conversationId))
          throw new ValidationError(
            'conversationId',
            `conversation id ${quoteName(write.conversationId)} is given twice`,
          );
        seen.add(write.conversationId);
        records += conversationWriteRecords(write);
        if (records > MAX_CONVERSATION_BATCH_RECORDS)
          throw new ValidationError(
            'items',
            `a batch carries at most ${MAX_CONVERSATION_BATCH_RECORDS} records`,
          );
      }),
    );
    if (this.hasSemanticSearch && writes.length > 0) {
      // Each part must be embedded with its write (and undone with it): the single calls do that,
      // as steps of this one call, so a shutdown() waits for the whole batch.
      await this.runWrite(METHOD, () =>
        this.runSteps(() => applyPartsInOrder(METHOD, checked, (item) => this.singleCalls(item))),
      );
      return writes.length;
    }
    const count = writes.length; // counted before the write: nothing here needs `writes` once it is sent
    // An empty batch goes through runWrite too: refused when read-only or closed, as any write.
    await this.runWrite(
      METHOD,
      async () => {
        if (count > 0) await this.writeConversationBatch(writes);
      },
      batchName('items', count, recordText.conversation, writes[0]?.conversationId ?? ''),
    );
    return count;
  }

  /**
   * Loads several conversation ids' parts in one call: for each id, in the order given, what
   * `loadConversation`, `loadRawMessages`, `loadMemories` and `loadChunkInfo` return (an id
   * with nothing stored reads as `null` / `[]`). Every id is validated before any I/O (more
   * than `MAX_BATCH_ITEMS` (1,000) ids is a `ValidationError`); an id may be given twice.
   * Like the single loads, the parts are not one snapshot across kinds.
   */
  async loadConversationBatch(conversationIds: readonly string[]): Promise<StoredConversation[]> {
    const ids = checkBatch<string>(LOAD_METHOD, 'conversationIds', conversationIds);
    ids.forEach((id, index) => atItem(LOAD_METHOD, index, () => validateId('conversationId', id)));
    // An empty list goes through run too: refused before initialize() and after shutdown().
    return this.run(LOAD_METHOD, async () => (ids.length === 0 ? [] : this.readConversationBatch(ids)));
  }

  // ----- primitives a backend may implement natively --------------------------------------

  /**
   * Ids the default {@link readConversationBatch} reads at once (the four single reads of each):
   * a few, where each read is I/O of its own; a backend whose reads made in one tick leave
   * together (Redis: one socket write, one round trip) reads every id at once.
   */
  protected readonly conversationReadConcurrency: number = DEFAULT_READ_CONCURRENCY;

  /**
   * Reads validated conversation ids (non-empty, possibly repeated) as the single read
   * primitives would, results aligned with `ids`. Default: those primitives, a few ids at a time.
   */
  protected readConversationBatch(ids: readonly string[]): Promise<StoredConversation[]> {
    return mapConcurrent(ids, this.conversationReadConcurrency, async (id) => {
      const [conversation, rawMessages, memories, chunkInfo] = await Promise.all([
        this.readConversation(id),
        this.readRawMessages(id),
        this.readMemories(id),
        this.readChunkInfo(id),
      ]);
      return { conversationId: id, conversation, rawMessages: rawMessages ?? [], memories, chunkInfo };
    });
  }

  /**
   * Writes validated conversations (non-empty, distinct ids) as the single primitives in a
   * loop would. Default: those primitives per item, in order; a failure after the first item
   * rejects with `BatchPartiallyAppliedError` naming the items written.
   */
  protected writeConversationBatch(writes: readonly ConversationWrite[]): Promise<void> {
    return applyPartsInOrder(METHOD, writes, (write) =>
      conversationParts(write, write.memories, {
        conversation: (id, data) => this.writeConversation(id, data),
        rawMessages: (id, messages) => this.writeRawMessages(id, messages),
        memories: (id, memories) => this.upsertMemoryBatch(id, memories),
        chunkInfo: (id, data) => this.writeChunkInfo(id, data),
      }),
    );
  }

  // ----- helpers ---------------------------------------------------------------------------

  /** An item's parts as the single calls, in their order. */
  private singleCalls({ write, memoryItems }: CheckedItem): Array<() => Promise<unknown>> {
    return conversationParts(write, memoryItems, {
      conversation: (id, data) => this.storeConversation(id, data),
      rawMessages: (id, messages) => this.storeRawMessages(id, messages),
      memories: (id, items) => this.storeMemories(id, items),
      chunkInfo: (id, data) => this.storeChunkInfo(id, data),
    });
  }
}
