/**
 * The HTTP call shared by the service embedders (OpenAI-compatible, Ollama): one JSON POST
 * with a timeout that covers the whole exchange, the caller's cancel signal, and errors that
 * name the embedder and the (redacted) URL but never the API key.
 */
import { redactUrl, redactUrlsInText } from '../../core/redact.js';
import { EmbedderError } from '../errors.js';

/** One POST of {@link postJson}. */
export interface JsonPost {
  /** Embedder id, for error messages. */
  embedderId: string;
  /** Full endpoint URL. */
  url: string;
  /** JSON body. */
  body: unknown;
  /** Extra headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Time allowed for the whole exchange, in ms. */
  timeoutMs: number;
  /** The caller's cancel signal. */
  signal?: AbortSignal;
  /** A secret that must never appear in an error (the API key). */
  secret?: string;
}

/** Longest piece of a service's error body quoted in a message. */
const QUOTED_BODY_CHARS = 300;

/** `text` with `secret` and URL passwords masked. */
export function redactSecret(text: string, secret: string | undefined): string {
  const masked = secret ? text.split(secret).join('***') : text;
  return redactUrlsInText(masked);
}

function isTimeout(error: unknown, timeout: AbortSignal): boolean {
  return timeout.aborted || (error instanceof Error && error.name === 'TimeoutError');
}

/** POSTs `body` as JSON and returns the parsed JSON answer; every failure is an {@link EmbedderError}. */
export async function postJson(post: JsonPost): Promise<unknown> {
  const { embedderId, secret } = post;
  const where = redactSecret(redactUrl(post.url), secret);
  const timeout = AbortSignal.timeout(post.timeoutMs);
  const signal = post.signal ? AbortSignal.any([timeout, post.signal]) : timeout;
  const fail = (error: unknown, during: string): EmbedderError => {
    if (error instanceof EmbedderError) return error;
    if (post.signal?.aborted)
      return new EmbedderError(embedderId, 'aborted', `cancelled by the caller (${where})`);
    if (isTimeout(error, timeout)) {
      return new EmbedderError(
        embedderId,
        'timeout',
        `no answer from ${where} within ${post.timeoutMs} ms (timeoutMs)`,
      );
    }
    const reason = redactSecret(error instanceof Error ? error.message : String(error), secret);
    // The cause is left out: a driver error may carry the request, headers (the key) included.
    return new EmbedderError(embedderId, 'network', `${during} ${where} failed: ${reason}`);
  };
  let response: Response;
  try {
    response = await fetch(post.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...post.headers },
      body: JSON.stringify(post.body),
      signal,
    });
  } catch (error) {
    throw fail(error, 'request to');
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw fail(error, 'reading the answer of');
  }
  if (!response.ok) {
    const quoted = redactSecret(text.slice(0, QUOTED_BODY_CHARS), secret).trim();
    throw new EmbedderError(
      embedderId,
      'http',
      `${where} answered HTTP ${response.status}${quoted ? `: ${quoted}` : ''}`,
      { status: response.status },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const quoted = redactSecret(text.slice(0, 80), secret);
    throw new EmbedderError(
      embedderId,
      'malformed',
      `${where} answered with a body that is not JSON: ${JSON.stringify(quoted)}`,
    );
  }
}
