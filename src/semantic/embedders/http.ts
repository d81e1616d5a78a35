/**
 * The HTTP call shared by the service embedders (OpenAI-compatible, Ollama): one JSON POST
 * with a timeout that covers each attempt's whole exchange, retries of transient failures
 * (see `retry.ts`), the caller's cancel signal, and errors that name the embedder and the
 * (redacted) URL but never the API key.
 */
import { redactUrl, redactUrlsInText } from '../../core/redact.js';
import { EmbedderError } from '../errors.js';
import {
  attemptLabel,
  backoffMs,
  isRetryable,
  MAX_RETRY_AFTER_MS,
  requestedDelayMs,
  seconds,
  waitUnlessAborted,
} from './retry.js';

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
  /** Time allowed for each attempt's whole exchange, in ms. */
  timeoutMs: number;
  /** Times a transient failure is asked again (default 0). */
  maxRetries?: number;
  /** The caller's cancel signal. */
  signal?: AbortSignal;
  /** A secret that must never appear in an error (the API key). */
  secret?: string;
}

/** One attempt's outcome: the parsed answer, or its error and the wait the service asked for. */
type Attempt = { answer: unknown } | { error: EmbedderError; delayMs: number | undefined };

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

/**
 * What a failed `fetch` says: its message ("fetch failed" alone names no reason) and its
 * cause's message (`connect ECONNREFUSED 127.0.0.1:11434`, `other side closed`), URLs in it
 * redacted. Only the message of the cause is taken, never the cause itself (see below).
 */
function networkReason(error: unknown): string {
  // Duck-typed: `fetch`'s errors may come from another realm (a test runner's VM), not `Error`.
  const messageOf = (value: unknown): string | undefined => {
    const message = (value as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : undefined;
  };
  const message = messageOf(error) ?? String(error);
  const cause = messageOf((error as { cause?: unknown } | null)?.cause)?.slice(0, 200) ?? '';
  return cause === '' || message.includes(cause) ? message : `${message} (${redactUrlsInText(cause)})`;
}

/** Sends `post` once; its failure comes back with `attempt` as its number. */
async function postOnce(post: JsonPost, where: string, attempt: number): Promise<Attempt> {
  const { embedderId, secret } = post;
  const timeout = AbortSignal.timeout(post.timeoutMs);
  const signal = post.signal ? AbortSignal.any([timeout, post.signal]) : timeout;
  const fail = (error: unknown, during: string): EmbedderError => {
    if (error instanceof EmbedderError) return error;
    if (post.signal?.aborted)
      return new EmbedderError(embedderId, 'aborted', `cancelled by the caller (${where})`, {
        attempts: attempt,
      });
    if (isTimeout(error, timeout)) {
      return new EmbedderError(
        embedderId,
        'timeout',
        `no answer from ${where} within ${post.timeoutMs} ms (timeoutMs)`,
        { attempts: attempt },
      );
    }
    const reason = redactSecret(networkReason(error), secret);
    // The cause is left out: a driver error may carry the request, headers (the key) included.
    return new EmbedderError(embedderId, 'network', `${during} ${where} failed: ${reason}`, {
      attempts: attempt,
    });
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
    return { error: fail(error, 'request to'), delayMs: undefined };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { error: fail(error, 'reading the answer of'), delayMs: undefined };
  }
  if (!response.ok) {
    const quoted = redactSecret(text.slice(0, QUOTED_BODY_CHARS), secret).trim();
    const error = new EmbedderError(
      embedderId,
      'http',
      `${where} answered HTTP ${response.status}${quoted ? `: ${quoted}` : ''}`,
      { status: response.status, attempts: attempt },
    );
    return { error, delayMs: requestedDelayMs(response.headers) };
  }
  try {
    return { answer: JSON.parse(text) as unknown };
  } catch {
    const quoted = redactSecret(text.slice(0, 80), secret);
    const error = new EmbedderError(
      embedderId,
      'malformed',
      `${where} answered with a body that is not JSON: ${JSON.stringify(quoted)}`,
      { attempts: attempt },
    );
    return { error, delayMs: undefined };
  }
}

/**
 * The error of a request that failed `failed.length` times: the last failure's own, or after
 * several (or with `note`) one that keeps its failure and status, lists every attempt and has
 * the last as its cause.
 */
function finalError(post: JsonPost, failed: readonly EmbedderError[], note = ''): EmbedderError {
  const last = failed[failed.length - 1] as EmbedderError;
  if (failed.length === 1 && note === '') return last;
  const prefix = `Embedder ${post.embedderId}: `;
  const detail = last.message.startsWith(prefix) ? last.message.slice(prefix.length) : last.message;
  const tried =
    failed.length === 1 ? '' : `; ${failed.length} attempts (${failed.map(attemptLabel).join(', ')})`;
  return new EmbedderError(post.embedderId, last.failure, `${detail}${tried}${note}`, {
    cause: last,
    ...(last.status === undefined ? {} : { status: last.status }),
    attempts: failed.length,
  });
}

/**
 * POSTs `body` as JSON and returns the parsed JSON answer. A transient failure (see
 * `isRetryable`) is sent again up to `maxRetries` times, after the wait the service asks for
 * (at most {@link MAX_RETRY_AFTER_MS}: a longer one fails at once) or a backoff; the caller's
 * signal ends a wait at once. Every failure is an {@link EmbedderError}.
 */
export async function postJson(post: JsonPost): Promise<unknown> {
  const where = redactSecret(redactUrl(post.url), post.secret);
  const maxRetries = post.maxRetries ?? 0;
  const failed: EmbedderError[] = [];
  for (;;) {
    const attempt = await postOnce(post, where, failed.length + 1);
    if ('answer' in attempt) return attempt.answer;
    const { error, delayMs } = attempt;
    failed.push(error);
    if (!isRetryable(error)) throw finalError(post, failed);
    if (failed.length > maxRetries)
      throw finalError(post, failed, maxRetries === 0 ? '' : `, as many as maxRetries ${maxRetries} allows`);
    if (delayMs !== undefined && delayMs > MAX_RETRY_AFTER_MS) {
      const asked = `; it asked to retry in ${seconds(delayMs)}, more than the ${seconds(MAX_RETRY_AFTER_MS)}`;
      throw finalError(post, failed, `${asked} an embedder waits, so it was not retried`);
    }
    const wait = delayMs ?? backoffMs(failed.length);
    await waitUnlessAborted(
      wait,
      post.signal,
      () =>
        new EmbedderError(
          post.embedderId,
          'aborted',
          `cancelled by the caller (${where}) while waiting ${Math.round(wait)} ms to send attempt ` +
            `${failed.length + 1} (so far: ${failed.map(attemptLabel).join(', ')})`,
          { cause: error, attempts: failed.length },
        ),
    );
  }
}
