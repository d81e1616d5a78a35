/** The records the workloads write: sizes as the issue asks (4 KB conversation, 1 KB cache value). */
import type { JsonObject, JsonValue } from '../types.js';

const filler = (length: number, seed: number): string =>
  `${seed}:`.padEnd(length, 'lorem ipsum dolor sit amet consectetur adipiscing elit ');

/** A conversation of about `bytes` bytes of JSON, with a few messages. */
export function conversation(i: number, bytes = 4096): JsonObject {
  const messages = Array.from({ length: 8 }, (_, n) => ({
    role: n % 2 ? 'assistant' : 'user',
    content: filler(Math.max(8, Math.floor(bytes / 8) - 40), i * 10 + n),
  }));
  return { title: `Conversation ${i}`, model: 'bench', messages };
}

/** Raw message `n` of conversation `i`. */
export const rawMessage = (i: number, n: number): JsonValue => ({
  role: n % 2 ? 'assistant' : 'user',
  content: filler(120, n),
  turn: n,
  conversation: i,
});

/** A memory of about 200 bytes. */
export const memory = (n: number): JsonObject => ({ summary: filler(160, n), importance: n % 5 });

/** A reasoning chain of about 300 bytes. */
export const chain = (n: number): JsonObject => ({ step: n, thought: filler(240, n), confidence: 0.5 });

/** A cache value of about 1 KB. */
export const cacheValue = (n: number): JsonObject => ({ n, text: filler(1000, n) });

/** Chunk info of a conversation. */
export const chunkInfo = (i: number): JsonObject => ({
  chunks: [
    { start: 0, end: 9 },
    { start: 10, end: 19 },
  ],
  i,
});
