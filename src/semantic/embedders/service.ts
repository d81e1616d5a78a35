/**
 * What the HTTP embedders share: config keys, batching, purpose prefixes, retries, the output checks.
 * A subclass says where to POST, what to send and where the vectors are in the answer.
 */
import { z } from 'zod';
import { batches, checkVectors, throwIfAborted, validateEmbedArguments } from './checks.js';
import { postJson } from './http.js';
import { DEFAULT_MAX_RETRIES, MAX_RETRIES_LIMIT } from './retry.js';
import type { EmbedOptions, Embedder } from './types.js';
import { EmbedderError } from '../errors.js';

/** Config keys every HTTP embedder takes. */
export interface ServiceEmbedderConfig {
  /** Base URL of the service. */
  url?: string;
  /** Model name, as the service knows it. */
  model: string;
  /** Size of the model's vectors; every answer is checked against it. */
  dimensions: number;
  /** Bearer token; never printed, logged or put in an error. */
  apiKey?: string;
  /** Time allowed for one HTTP call, in ms (default 30000); each retry gets its own. */
  timeoutMs?: number;
  /**
   * Times a request is sent again after a transient failure (HTTP 408, 409, 429, 500, 502,
   * 503, 504, or no connection), an integer from 0 (never) to 10; default 2.
   */
  maxRetries?: number;
  /** Most texts sent in one HTTP call. */
  maxBatchSize?: number;
  /** Put before each query text (e.g. `search_query: ` for nomic-embed models). */
  queryPrefix?: string;
  /** Put before each document text (e.g. `search_document: `). */
  documentPrefix?: string;
}

/** The zod shape of {@link ServiceEmbedderConfig}, for a subclass to extend. */
export function serviceConfigShape(defaultUrl: string, defaultBatch: number) {
  return {
    // Only HTTP(S): any other scheme (ftp:, file:, javascript:) would pass here and fail at the first write.
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).default(defaultUrl),
    model: z.string().min(1),
    dimensions: z.number().int().min(1).max(8192),
    apiKey: z.string().min(1).optional(),
    timeoutMs: z.number().int().min(1).max(600_000).default(30_000),
    maxRetries: z.number().int().min(0).max(MAX_RETRIES_LIMIT).default(DEFAULT_MAX_RETRIES),
    maxBatchSize: z.number().int().min(1).max(2048).default(defaultBatch),
    queryPrefix: z.string().default(''),
    documentPrefix: z.string().default(''),
  };
}

/** Parsed {@link ServiceEmbedderConfig} with its defaults filled in. */
export type ResolvedServiceConfig = Required<Omit<ServiceEmbedderConfig, 'apiKey'>> & {
  apiKey?: string | undefined;
};

/** An embedder backed by an HTTP service; see {@link OpenAIEmbedder} and {@link OllamaEmbedder}. */
export abstract class ServiceEmbedder implements Embedder {
  /** `<kind>:<model>`. */
  readonly id: string;
  /** Vector size. */
  readonly dimensions: number;
  /** Base URL, as configured (it may hold credentials: show it through `redactUrl` only). */
  protected readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #settings: ResolvedServiceConfig;

  protected constructor(kind: string, config: ResolvedServiceConfig) {
    this.id = `${kind}:${config.model}`;
    this.dimensions = config.dimensions;
    this.url = config.url.replace(/\/+$/, '');
    this.#apiKey = config.apiKey;
    this.#settings = config;
  }

  /** The model name. */
  protected get model(): string {
    return this.#settings.model;
  }

  /** Full URL of the embeddings endpoint. */
  protected abstract endpoint(): string;
  /** The JSON body for one batch of (prefixed) texts. */
  protected abstract requestBody(texts: string[]): unknown;
  /** The vectors in the service's answer, in input order (checked afterwards). */
  protected abstract vectorsOf(answer: unknown): unknown;

  /** Embeds `texts` in batches of `maxBatchSize`, one HTTP call after another. */
  async embed(givenTexts: readonly string[], givenOptions: EmbedOptions): Promise<Float32Array[]> {
    const { texts, options } = validateEmbedArguments(givenTexts, givenOptions);
    const prefix = options.purpose === 'query' ? this.#settings.queryPrefix : this.#settings.documentPrefix;
    const out: Float32Array[] = [];
    for (const batch of batches(texts, this.#settings.maxBatchSize)) {
      // Where this batch starts among `texts`: a wrong vector's error gives its text's position there.
      const offset = out.length;
      throwIfAborted(this.id, options.signal);
      try {
        const answer = await postJson({
          embedderId: this.id,
          url: this.endpoint(),
          body: this.requestBody(batch.map((text) => prefix + text)),
          headers: this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` },
          timeoutMs: this.#settings.timeoutMs,
          maxRetries: this.#settings.maxRetries,
          signal: options.signal,
          secret: this.#apiKey,
        });
        out.push(...checkVectors(this, this.vectorsOf(answer), batch.length, offset));
      } catch (error) {
        throw batch.length < texts.length ? inRequest(error, offset, batch.length) : error;
      }
    }
    return out;
  }

  /** Shown by `console.log`/`util.inspect`: the id and size, never the key. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} { id: ${JSON.stringify(this.id)}, dimensions: ${this.dimensions} }`;
  }

  /** What `JSON.stringify` writes: no key. */
  toJSON(): { id: string; dimensions: number } {
    return { id: this.id, dimensions: this.dimensions };
  }
}

/**
 * `error` naming the texts of the request that failed (`start`, `count`) when it concerns that
 * whole request (a wrong vector names its own text already). Until 2026-12-06 a failed request
 * of a split call was named by the call's texts.
 */
function inRequest(error: unknown, start: number, count: number): unknown {
  if (!(error instanceof EmbedderError) || error.index !== undefined || error.failure === 'aborted')
    return error;
  const prefix = `Embedder ${error.embedderId}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new EmbedderError(error.embedderId, error.failure, message, {
    cause: error.cause,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.attempts === undefined ? {} : { attempts: error.attempts }),
    texts: { start, count },
  });
}
