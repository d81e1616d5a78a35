/** Embedder for an Ollama server's `POST /api/embed`. */
import { z } from 'zod';
import { parseBackendConfig } from '../../core/config.js';
import { ServiceEmbedder, serviceConfigShape, type ServiceEmbedderConfig } from './service.js';

/** Config of {@link OllamaEmbedder}; `url` defaults to `http://127.0.0.1:11434`. */
export type OllamaEmbedderConfig = ServiceEmbedderConfig;

const ollamaSchema = z.object(serviceConfigShape('http://127.0.0.1:11434', 64));

/** Embeddings from Ollama; id `ollama:<model>`. */
export class OllamaEmbedder extends ServiceEmbedder {
  constructor(config: OllamaEmbedderConfig) {
    super('ollama', parseBackendConfig('ollama embedder', ollamaSchema, config));
  }

  protected override endpoint(): string {
    return `${this.url}/api/embed`;
  }

  protected override requestBody(texts: string[]): unknown {
    return { model: this.model, input: texts };
  }

  /** `{ embeddings: number[][] }`. */
  protected override vectorsOf(answer: unknown): unknown {
    return (answer as { embeddings?: unknown } | null)?.embeddings;
  }
}
