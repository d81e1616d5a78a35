/**
 * URL redaction of a log event's details at any depth: a backend (or a registered backend)
 * may pass nested objects, arrays or whole `Error`s whose message or stack holds a connection
 * URL with its password (`connect to redis://:pw@host failed`).
 */
import { redactUrlsInText } from './redact.js';

/**
 * How deep details are followed. Deeper values are replaced by {@link TOO_DEEP} rather than
 * shown unredacted: a log line never needs them, and an unbounded walk could be costly.
 */
const MAX_DEPTH = 8;

/** What replaces a value nested deeper than {@link MAX_DEPTH}. */
const TOO_DEEP = '[redacted: nested too deep]';

/**
 * Objects whose contents are not text a URL could hide in (or that cannot be copied without
 * changing what they are): passed on as they are.
 */
function isOpaque(value: object): boolean {
  return (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Promise ||
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    typeof value === 'function'
  );
}

/** Walks one value; `copies` maps each object already met to its copy (shared refs and cycles). */
function redactValue(value: unknown, depth: number, copies: Map<object, unknown>): unknown {
  if (typeof value === 'string') return redactUrlsInText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (isOpaque(value)) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (depth >= MAX_DEPTH) return TOO_DEEP;
  const next = depth + 1;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value as unknown[]) copy.push(redactValue(item, next, copies));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    copies.set(value, copy);
    for (const [key, item] of value)
      copy.set(redactValue(key, next, copies), redactValue(item, next, copies));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    copies.set(value, copy);
    for (const item of value) copy.add(redactValue(item, next, copies));
    return copy;
  }
  return redactObject(value, next, copies);
}

/**
 * A copy of `value` with the same prototype (an `Error` stays an `Error` for pino's
 * serializer and `instanceof`) and each own string-keyed property redacted. An `Error`'s
 * non-enumerable `message`, `stack` and `cause` are copied too, keeping their enumerability,
 * since loggers print them; a getter that throws leaves its property out.
 */
function redactObject(value: object, depth: number, copies: Map<object, unknown>): object {
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  copies.set(value, copy);
  const keys = value instanceof Error ? Object.getOwnPropertyNames(value) : Object.keys(value);
  for (const key of keys) {
    let item: unknown;
    try {
      item = (value as Record<string, unknown>)[key];
    } catch {
      continue;
    }
    Object.defineProperty(copy, key, {
      value: redactValue(item, depth, copies),
      enumerable: Object.prototype.propertyIsEnumerable.call(value, key),
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * `details` with the password of every URL in every string redacted, at any depth up to a
 * bound (nested objects, arrays, `Map`s, `Set`s and `Error`s, whose message, stack and cause
 * are included). The caller's objects are never changed: the result is a copy. Cycles and
 * shared references are kept as cycles and shared references of the copy.
 */
export function redactLogDetails(details: Record<string, unknown>): Record<string, unknown> {
  return redactValue(details, 0, new Map()) as Record<string, unknown>;
}
