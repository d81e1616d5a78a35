/**
 * The optional `logger` every built-in backend takes: where background events go (reconnects,
 * pool errors, lock takeovers, crash leftovers removed at start-up) that no call returns.
 * Silent by default. Messages and details (at any depth, `Error`s included) pass through URL
 * redaction before they are logged.
 */
import { z } from 'zod';
import { redactLogDetails } from './redact-log.js';
import { redactUrlsInText } from './redact.js';

/** Log levels a {@link StorageLogger} may implement. */
export type StorageLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A log method: `console`'s and pino's methods both fit. */
export type StorageLogMethod = (message: string, details?: Record<string, unknown>) => void;

/**
 * Receives a store's background events; `console` and pino loggers fit. Each level is
 * optional: a missing one drops its events. A logger that throws never breaks a store call.
 */
export type StorageLogger = Partial<Record<StorageLogLevel, StorageLogMethod>>;

const LEVELS: readonly StorageLogLevel[] = ['debug', 'info', 'warn', 'error'];

/** True when `value` is an object whose present levels are all functions. */
function isStorageLogger(value: unknown): value is StorageLogger {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return LEVELS.every((level) => record[level] === undefined || typeof record[level] === 'function');
}

/** The `logger` config option, validated like the other keys (an object with log methods). */
export const loggerOption = z
  .custom<StorageLogger>(isStorageLogger, {
    message: 'expected a logger object with debug/info/warn/error functions (such as console)',
  })
  .optional();

/**
 * Sends one event to `logger` at `level`, with URLs redacted. Never throws and never rejects:
 * a logger that throws (or returns a rejected promise) is ignored, so logging cannot break a call.
 */
export function logEvent(
  logger: StorageLogger | undefined,
  level: StorageLogLevel,
  message: string,
  details: Record<string, unknown> = {},
): void {
  if (logger === undefined) return;
  try {
    const method = logger[level];
    if (typeof method !== 'function') return;
    const result: unknown = method.call(logger, redactUrlsInText(message), redactLogDetails(details));
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch(() => undefined);
    }
  } catch {
    // A broken logger must not turn a background event into a failed store call.
  }
}
