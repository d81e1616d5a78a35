/**
 * When and how long the HTTP embedders wait before asking a service again, as production
 * embedding clients do (the OpenAI SDK retries twice by default): a transient answer (408,
 * 409, 429, 5xx gateway and overload statuses) or a connection that failed before an answer
 * is retried; the wait is the one the service asks for (`retry-after-ms`, `Retry-After`) or an
 * exponential backoff with jitter.
 */
import { EmbedderError } from '../errors.js';

/** Retries by default after a failed request (so three attempts in all). */
export const DEFAULT_MAX_RETRIES = 2;
/** Most retries a config may ask for. */
export const MAX_RETRIES_LIMIT = 10;
/** Longest wait a service may ask for; a longer one fails at once rather than stall a write. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** Backoff before the first retry, doubled for each further one ... */
const FIRST_BACKOFF_MS = 500;
/** ... up to this. */
const MAX_BACKOFF_MS = 8_000;

/** HTTP statuses worth asking again: timeouts, conflicts, rate limits, overload and gateway errors. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429, 500, 502, 503, 504]);

/** Whether a failed attempt may succeed when asked again (a timeout or the caller's abort is final). */
export function isRetryable(error: EmbedderError): boolean {
  if (error.failure === 'network') return true;
  return error.failure === 'http' && error.status !== undefined && RETRYABLE_STATUSES.has(error.status);
}

/** A non-negative decimal number, as the headers give one (no sign, no exponent). */
const DECIMAL = /^\s*\d+(?:\.\d+)?\s*$/;
/** The start of an HTTP date in any of its three forms (`Fri, 04 Dec 2026 ...`, `Friday, 04-Dec-26 ...`, `Fri Dec  4 ...`). */
const HTTP_DATE = /^\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s/i;

/**
 * The wait in ms an answer asks for: `retry-after-ms` (OpenAI's) first, else `Retry-After` in
 * seconds or as an HTTP date (a past date is 0); `undefined` when neither is there or readable.
 */
export function requestedDelayMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && DECIMAL.test(ms)) return Number(ms);
  const after = headers.get('retry-after');
  if (after === null) return undefined;
  if (DECIMAL.test(after)) return Number(after) * 1000;
  // Date.parse alone takes '-1' or '2' as a year: an HTTP date starts with its weekday.
  const date = HTTP_DATE.test(after) ? Date.parse(after) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Backoff before retry number `retry` (1 for the first): 0.5 s, 1 s, 2 s ... capped at 8 s,
 * less up to 25 % at random so that clients failed together do not return together.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** Math.max(0, retry - 1));
  return full * (1 - 0.25 * random());
}

/**
 * Resolves after `ms`, or rejects at once with `aborted()` when `signal` fires (the timer is
 * then cleared, so nothing keeps the process alive).
 */
export function waitUnlessAborted(
  ms: number,
  signal: AbortSignal | undefined,
  aborted: () => EmbedderError,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a failed attempt was, for the final error's list: `HTTP 503`, `network`, `timeout`. */
export function attemptLabel(error: EmbedderError): string {
  return error.status !== undefined ? `HTTP ${error.status}` : error.failure;
}

/** A wait for a message, in whole seconds rounded up: `120 s`. */
export function seconds(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}
