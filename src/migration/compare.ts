/** Record comparison by canonical JSON, with a short description of the first difference. */
import { canonicalJson, isJsonObject, type JsonValue } from '../core/json.js';

const SHOWN_CHARS = 60;

/** Where two values first differ (depth first) and what each holds there. */
interface Difference {
  path: (string | number)[];
  source: JsonValue | undefined;
  target: JsonValue | undefined;
}

/** A value as shown in a difference message: canonical JSON, truncated. */
function show(value: JsonValue | undefined): string {
  if (value === undefined) return '(absent)';
  const text = canonicalJson(value);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

/** `$.messages[2]["odd key"]` */
function formatPath(path: readonly (string | number)[]): string {
  return path
    .map((step) => {
      if (typeof step === 'number') return `[${step}]`;
      return /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    })
    .reduce((out, part) => out + part, '$');
}

function own(value: JsonValue, key: string): JsonValue | undefined {
  return isJsonObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function firstDifference(
  source: JsonValue | undefined,
  target: JsonValue | undefined,
  path: (string | number)[],
): Difference | null {
  if (source !== undefined && target !== undefined) {
    if (Array.isArray(source) && Array.isArray(target)) {
      for (let i = 0; i < Math.max(source.length, target.length); i += 1) {
        const found = firstDifference(source[i], target[i], [...path, i]);
        if (found !== null) return found;
      }
      return null;
    }
    if (isJsonObject(source) && isJsonObject(target)) {
      for (const key of [...new Set([...Object.keys(source), ...Object.keys(target)])].sort()) {
        const found = firstDifference(own(source, key), own(target, key), [...path, key]);
        if (found !== null) return found;
      }
      return null;
    }
    if (canonicalJson(source) === canonicalJson(target)) return null;
  } else if (source === target) {
    return null;
  }
  return { path, source, target };
}

/**
 * Describes how `target` differs from `source` (`null` when they are equal as canonical
 * JSON): where the first difference is and both values there, e.g.
 * `at $.messages[2].content: source "hi", target "hello"`.
 */
export function describeDifference(
  source: JsonValue | undefined,
  target: JsonValue | undefined,
): string | null {
  if (source !== undefined && target !== undefined && canonicalJson(source) === canonicalJson(target)) {
    return null;
  }
  const found = firstDifference(source, target, []) ?? { path: [], source, target };
  return `at ${formatPath(found.path)}: source ${show(found.source)}, target ${show(found.target)}`;
}

/** True when `prefix` equals the start of `list`, record by record (canonical JSON). */
export function isCanonicalPrefix(prefix: readonly JsonValue[], list: readonly JsonValue[]): boolean {
  return (
    prefix.length <= list.length &&
    prefix.every((item, i) => canonicalJson(item) === canonicalJson(list[i] as JsonValue))
  );
}
