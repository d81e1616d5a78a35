/** A logger for tests that records every event it receives. */
import type { StorageLogger } from '../../src/core/index.js';

/** One recorded event. */
export type LoggedEvent = { level: string; message: string; details: Record<string, unknown> | undefined };

/** A logger with all four levels, and the events it received in order. */
export function recordingLogger(): { logger: StorageLogger; events: LoggedEvent[] } {
  const events: LoggedEvent[] = [];
  const at = (level: string) => (message: string, details?: Record<string, unknown>) => {
    events.push({ level, message, details });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, events };
}

/** An event's message and details as one text, for `toContain` checks (secrets must not be in it). */
export function eventText(event: LoggedEvent): string {
  return `${event.message} ${JSON.stringify(event.details ?? {})}`;
}
