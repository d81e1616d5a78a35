/** Typed errors of the semantic building blocks (embedders and vector stores). */
import { BackendUnavailableError, StorageError } from '../core/errors.js';

/**
 * Why an embedder call failed, for programmatic handling. The HTTP embedders already retry a
 * transient `http` or `network` failure (`maxRetries`) before they report one.
 */
export type EmbedderFailure =
  'http' | 'timeout' | 'network' | 'malformed' | 'dimensions' | 'aborted' | 'failed';

/**
 * An embedder could not turn texts into vectors: the service answered with an error, timed
 * out, sent a body that is not the expected shape, or vectors of the wrong size. Messages
 * never contain an API key.
 */
export class EmbedderError extends StorageError {
  /** The embedder's id, e.g. `openai:text-embedding-3-small`. */
  readonly embedderId: string;
  /** What went wrong. */
  readonly failure: EmbedderFailure;
  /** The HTTP status, when the service answered with one. */
  readonly status: number | undefined;
  /**
   * When one vector was wrong (its size, a value, all zeros): the position of its text among
   * the texts given to `embed()`, so a caller can name the record it belongs to.
   */
  readonly index: number | undefined;
  /**
   * For an HTTP embedder's request: how many times it was sent (1 when it was not retried).
   * After several, the message lists how each failed and `cause` is the last one's own error.
   */
  readonly attempts: number | undefined;
  /**
   * When an embedder that splits a call into requests (`maxBatchSize`) failed in one of them: the
   * position of that request's first text among the texts given to `embed()`, and how many it
   * sent, so a caller can name the records that request held.
   */
  readonly texts: EmbedderErrorTexts | undefined;

  constructor(
    embedderId: string,
    failure: EmbedderFailure,
    message: string,
    options: {
      cause?: unknown;
      status?: number;
      index?: number;
      attempts?: number;
      texts?: EmbedderErrorTexts;
    } = {},
  ) {
    super(`Embedder ${embedderId}: ${message}`, { code: 'EMBEDDER_ERROR', cause: options.cause });
    this.embedderId = embedderId;
    this.failure = failure;
    this.status = options.status;
    this.index = options.index;
    this.attempts = options.attempts;
    this.texts = options.texts;
  }
}

/** The texts of an embedder's failed request among those given to `embed()` ({@link EmbedderError.texts}). */
export interface EmbedderErrorTexts {
  /** The position of the request's first text. */
  readonly start: number;
  /** How many texts the request sent. */
  readonly count: number;
}

/**
 * A file vector store's folder is already open for writing by another instance, in this
 * process or another: one writer per folder, since two would append over each other's log.
 * It lasts until that instance calls `close()` (or its process ends).
 */
export class VectorStoreInUseError extends BackendUnavailableError {
  /** The vector folder. */
  readonly location: string;

  constructor(location: string, cause?: unknown) {
    super(
      `Vector store ${location} is open for writing by another instance (this process or another); ` +
        'one writer per folder: close it first, give this store another folder, or open it read-only to search',
      cause,
    );
    this.location = location;
  }
}
