/** The embedder contract: texts in, fixed-size vectors out. */

/** What a text is embedded for; some models embed queries and documents differently. */
export type EmbedPurpose = 'query' | 'document';

/** Options of {@link Embedder.embed}. */
export interface EmbedOptions {
  /** `query` for a search text, `document` for a stored record. */
  purpose: EmbedPurpose;
  /** Cancels the call; it rejects with an `EmbedderError` (`aborted`). */
  signal?: AbortSignal;
}

/**
 * Turns texts into vectors of {@link dimensions} numbers. Vectors from two embedders (or
 * two models) are not comparable, so a vector store records the {@link id} it was filled with.
 */
export interface Embedder {
  /** Stable id of the model and its settings, e.g. `hashing:v1` or `openai:text-embedding-3-small`. */
  readonly id: string;
  /** Length of every vector it returns. */
  readonly dimensions: number;
  /** One vector per text, in the order given; batched internally. */
  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]>;
}

/** Builds an embedder from its config object (as given in code or read from the environment). */
export type EmbedderFactory = (config: unknown) => Embedder;
