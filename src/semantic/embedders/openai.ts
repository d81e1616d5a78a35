/** Embedder for any OpenAI-compatible `POST {url}/embeddings` endpoint (OpenAI, vLLM, LM Studio, LiteLLM...). */
import { z } from 'zod';
import { parseBackendConfig } from '../../core/config.js';
import { ServiceEmbedder, serviceConfigShape, type ServiceEmbedderConfig } from './service.js';

/** Config of {@link OpenAIEmbedder}; `url` is the API base, e.g. `https://api.openai.com/v1` (the default). */
export interface OpenAIEmbedderConfig extends ServiceEmbedderConfig {
  /** Send `dimensions` in the request, for models that can shorten their vectors (text-embedding-3-*). Default false. */
  requestDimensions?: boolean;
}

const openaiSchema = z.object({
  ...serviceConfigShape('https://api.openai.com/v1', 128),
  requestDimensions: z.boolean().default(false),
});

/** Embeddings from an OpenAI-compatible service; id `openai:<model>`. */
export class OpenAIEmbedder extends ServiceEmbedder {
  readonly #requestDimensions: boolean;

  constructor(config: OpenAIEmbedderConfig) {
    const parsed = parseBackendConfig('openai embedder', openaiSchema, config);
    super('openai', parsed);
    this.#requestDimensions = parsed.requestDimensions;
  }

  protected override endpoint(): string {
    return this.url.endsWith('/embeddings') ? this.url : `${this.url}/embeddings`;
  }

  protected override requestBody(texts: string[]): unknown {
    return {
      model: this.model,
      input: texts,
      encoding_format: 'float',
      ...(this.#requestDimensions ? { dimensions: this.dimensions } : {}),
    };
  }

  /** `{ data: [{ index, embedding }] }`, put back in input order by `index`. */
  protected override vectorsOf(answer: unknown): unknown {
    const data = (answer as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return answer;
    const ordered: unknown[] = new Array<unknown>(data.length);
    for (const [position, item] of data.entries()) {
      const index = (item as { index?: unknown } | null)?.index;
      const slot = typeof index === 'number' && Number.isInteger(index) ? index : position;
      if (slot < 0 || slot >= data.length || ordered[slot] !== undefined) return undefined;
      ordered[slot] = (item as { embedding?: unknown } | null)?.embedding;
    }
    return ordered;
  }
}
