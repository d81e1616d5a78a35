/**
 * The file vector store's append log, `log-<generation>.bin`: one frame per committed upsert or
 * delete call, applied in order on top of the generation's snapshot.
 *
 * Frame (little-endian): `u32 payload length`, `u32 CRC-32 of the payload`, `u32 CRC-32 of
 * those 8 bytes`, then the payload: `u8 type` (1 upsert, 2 delete), `u32 count`, and per record
 * an upsert's `id`, `kind`, `agentId`, `conversationId` (each `u16 byte length` + UTF-8,
 * `0xFFFF` for none) and `dimensions` float32 values, or a delete's `id`.
 *
 * A crash can leave only the last frame incomplete (each append is fsynced before the next), so
 * an incomplete or mismatching frame at the end of the file is a torn write: ignored and cut off
 * at open. A bad frame with data after it is corruption and is reported, never skipped.
 */
import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../../../core/errors.js';
import { readGenerationFile } from './files.js';
import type { PreparedItem } from '../validation.js';

const HEADER_BYTES = 12;
const UPSERT = 1;
const DELETE = 2;
const NONE = 0xffff;

function stringBytes(value: string | null): number {
  return 2 + (value === null ? 0 : Buffer.byteLength(value, 'utf8'));
}

function writeString(buffer: Buffer, at: number, value: string | null): number {
  if (value === null) return buffer.writeUInt16LE(NONE, at);
  const length = buffer.write(value, at + 2, 'utf8');
  buffer.writeUInt16LE(length, at);
  return at + 2 + length;
}

/** Wraps a payload in its frame header. */
function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.byteLength, 0);
  header.writeUInt32LE(crc32(payload), 4);
  header.writeUInt32LE(crc32(header.subarray(0, 8)), 8);
  return Buffer.concat([header, payload]);
}

/** The frame of one upsert call. */
export function encodeUpsert(items: readonly PreparedItem[], dimensions: number): Buffer {
  let size = 5;
  for (const item of items) {
    size += stringBytes(item.id) + stringBytes(item.kind);
    size += stringBytes(item.agentId) + stringBytes(item.conversationId) + dimensions * 4;
  }
  const payload = Buffer.alloc(size);
  payload.writeUInt8(UPSERT, 0);
  payload.writeUInt32LE(items.length, 1);
  let at = 5;
  for (const item of items) {
    at = writeString(payload, at, item.id);
    at = writeString(payload, at, item.kind);
    at = writeString(payload, at, item.agentId);
    at = writeString(payload, at, item.conversationId);
    const vector = item.vector;
    payload.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), at);
    at += vector.byteLength;
  }
  return frame(payload);
}

/** The frame of one delete call (only ids that existed). */
export function encodeDelete(ids: readonly string[]): Buffer {
  const payload = Buffer.alloc(5 + ids.reduce((sum, id) => sum + stringBytes(id), 0));
  payload.writeUInt8(DELETE, 0);
  payload.writeUInt32LE(ids.length, 1);
  let at = 5;
  for (const id of ids) at = writeString(payload, at, id);
  return frame(payload);
}

/** Receives a log's records in order; an upsert's vector is a scratch array, valid during the call only. */
export interface LogHandler {
  /** Called first with an upper bound of the records the log can upsert, to size memory once. */
  reserve(maxRecords: number): void;
  upsert(item: PreparedItem): void;
  delete(id: string): void;
}

/** Applies a payload; throws a `RangeError` (turned into corruption) when it does not parse. */
function decode(payload: Buffer, dimensions: number, handler: LogHandler, scratch: Float32Array): number {
  let at = 5;
  const scratchBytes = new Uint8Array(scratch.buffer);
  const readString = (): string | null => {
    const length = payload.readUInt16LE(at);
    at += 2;
    if (length === NONE) return null;
    if (at + length > payload.byteLength) throw new RangeError('string past the end of the frame');
    at += length;
    return payload.toString('utf8', at - length, at);
  };
  const required = (): string => {
    const value = readString();
    if (value === null) throw new RangeError('missing id or kind');
    return value;
  };
  const type = payload.readUInt8(0);
  const count = payload.readUInt32LE(1);
  if (type !== UPSERT && type !== DELETE) throw new RangeError(`unknown frame type ${type}`);
  for (let i = 0; i < count; i += 1) {
    if (type === DELETE) {
      handler.delete(required());
      continue;
    }
    const id = required();
    const kind = required();
    const agentId = readString();
    const conversationId = readString();
    const end = at + dimensions * 4;
    if (end > payload.byteLength) throw new RangeError('vector past the end of the frame');
    // Copied into the scratch array: the payload's offset need not be 4-byte aligned.
    scratchBytes.set(payload.subarray(at, end));
    at = end;
    handler.upsert({ id, kind, agentId, conversationId, vector: scratch });
  }
  if (at !== payload.byteLength) throw new RangeError('bytes left over after the last record');
  return count;
}

function allZero(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** What reading a log found. */
export interface LogReplay {
  /** Bytes of complete, checked frames: where the next append goes. */
  length: number;
  /** Records (upserted items and deleted ids) the frames hold. */
  records: number;
  /** Bytes of an incomplete last write that were ignored. */
  tornBytes: number;
}

/** Reads `file` and hands each committed record to `handler`, in order; a missing file is corruption. */
export async function replayLog(file: string, dimensions: number, handler: LogHandler): Promise<LogReplay> {
  return replayFrames(await readGenerationFile(file), file, dimensions, handler);
}

/**
 * Hands each committed record of `bytes` (the part of log `file` that starts at byte `start`,
 * on a frame boundary) to `handler`, in order; `length` counts from `start`.
 */
export function replayFrames(
  bytes: Buffer,
  file: string,
  dimensions: number,
  handler: LogHandler,
  start = 0,
): LogReplay {
  handler.reserve(Math.floor(bytes.byteLength / (dimensions * 4 + 8)));
  const scratch = new Float32Array(dimensions);
  let at = 0;
  let records = 0;
  while (at < bytes.byteLength) {
    const rest = bytes.subarray(at);
    if (rest.byteLength < HEADER_BYTES) break;
    const length = rest.readUInt32LE(0);
    if (rest.readUInt32LE(8) !== crc32(rest.subarray(0, 8))) {
      if (allZero(rest)) break; // space the file system allocated for a write that never landed
      throw new CorruptDataError(file, `bad frame header at byte ${start + at}, with data after it`);
    }
    if (HEADER_BYTES + length > rest.byteLength) break;
    const payload = rest.subarray(HEADER_BYTES, HEADER_BYTES + length);
    if (crc32(payload) !== rest.readUInt32LE(4)) {
      if (HEADER_BYTES + length === rest.byteLength) break;
      throw new CorruptDataError(
        file,
        `checksum mismatch in the frame at byte ${start + at}, with frames after it`,
      );
    }
    try {
      records += decode(payload, dimensions, handler, scratch);
    } catch (error) {
      throw new CorruptDataError(
        file,
        `unreadable frame at byte ${start + at}: ${(error as Error).message}`,
        error,
      );
    }
    at += HEADER_BYTES + length;
  }
  return { length: at, records, tornBytes: bytes.byteLength - at };
}
