/**
 * Seeded pseudo-random data shared by the benchmarks and the tests (the vector stores' tests,
 * the vector benchmark, W7's words). It lives in `bench/`, which the package does not publish
 * (`files: ["dist"]`), so neither the package nor the bench carries test code; the tests import
 * it as they already import the bench's arithmetic (`test/bench/`).
 */

/** A seeded PRNG (mulberry32): the same `seed` gives the same numbers in [0, 1) on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random vector with values in [-1, 1), as float32. */
export function randomVector(random: () => number, dimensions: number): Float32Array {
  return Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
}

/** How many distinct words W7's texts use. */
export const W7_VOCABULARY = 5000;

/** W7's texts, drawn from `random`. */
export interface W7Text {
  /** `words` words with a Zipf-like spread (rank ~ 1/u) over the vocabulary. */
  sentence(words: number): string;
  /** `terms` mid-frequency words: common enough to match, rare enough to be a real query. */
  query(terms: number): string;
}

/** W7's text generator: words are `w` + their rank in base 36; both calls draw from `random`. */
export function w7Text(random: () => number): W7Text {
  const word = (rank: number): string => `w${rank.toString(36)}`;
  const zipf = (): number => Math.min(W7_VOCABULARY - 1, Math.floor(1 / (random() + 1 / W7_VOCABULARY)) - 1);
  return {
    sentence: (words) => Array.from({ length: words }, () => word(zipf())).join(' '),
    query: (terms) => Array.from({ length: terms }, () => word(5 + Math.floor(random() * 200))).join(' '),
  };
}

/** A store that takes memories in batches (any checkout's `StorageInterface`). */
export interface MemoryBatchWriter {
  storeMemories(conversationId: string, memories: Array<{ memoryId: string; data: object }>): Promise<void>;
}

/** Fills `store` with `records` W7 memories: 100 per conversation `conv-<n>`, texts seeded by 7. */
export async function seedW7Memories(store: MemoryBatchWriter, records: number): Promise<void> {
  const text = w7Text(seededRandom(7));
  for (let c = 0; c * 100 < records; c += 1) {
    const memories = Array.from({ length: Math.min(100, records - c * 100) }, (_, i) => ({
      memoryId: `m${i}`,
      data: { summary: text.sentence(20) },
    }));
    await store.storeMemories(`conv-${c}`, memories);
  }
}
