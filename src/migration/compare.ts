/** Record comparison by canonical JSON, with a short description of the first difference. */
import { canonicalJson, isJsonObject, type JsonValue } from '../core/json.js';
import { MAX_SHOWN_CHARS, quoteName } from '../core/shown-text.js';

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
  if (text.length <= SHOWN_CHARS) return text;
  // Cut before a high surrogate whose pair would be cut off, so the message stays valid UTF-16.
  const last = text.charCodeAt(SHOWN_CHARS - 1);
  return `${text.slice(0, last >= 0xd800 && last <= 0xdbff ? SHOWN_CHARS - 1 : SHOWN_CHARS)}…`;
}

/** Steps of a long path shown at each end; the levels between are counted, not shown. */
const SHOWN_EDGE_STEPS = 32;

/** One step of a path: `[2]`, `.content`, or `["odd key"]` (a long key bounded by `quoteName`). */
function formatStep(step: string | number): string {
  if (typeof step === 'number') return `[${step}]`;
  return step.length <= MAX_SHOWN_CHARS && /^[A-Za-z_$][\w$]*$/.test(step)
    ? `.${step}`
    : `[${quoteName(step)}]`;
}

/**
 * `$.messages[2]["odd key"]`. A path through a record nested far deeper than the library
 * writes shows its first and last steps and counts the levels between, so that the message
 * (and the migration report carrying it) stays small.
 */
function formatPath(path: readonly (string | number)[]): string {
  if (path.length <= 2 * SHOWN_EDGE_STEPS) return `$${path.map(formatStep).join('')}`;
  const head = path.slice(0, SHOWN_EDGE_STEPS).map(formatStep).join('');
  const tail = path.slice(-SHOWN_EDGE_STEPS).map(formatStep).join('');
  return `$${head}…(${path.length - 2 * SHOWN_EDGE_STEPS} levels)…${tail}`;
}

function own(value: JsonValue, key: string): JsonValue | undefined {
  return isJsonObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** A path as a chain from the step taken last back to the root (shared, not copied, per level). */
interface PathNode {
  step: string | number;
  parent: PathNode | null;
}

function pathOf(node: PathNode | null): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = node; at !== null; at = at.parent) path.push(at.step);
  return path.reverse();
}

/**
 * The first difference, depth first (array items in order, object keys sorted). Walked with its
 * own stack and shared paths: a record another program left in a store may be nested far deeper
 * than the library writes, and the recursive walk (copying the path at every level) overflowed
 * the stack with a bare RangeError.
 */
function firstDifference(source: JsonValue | undefined, target: JsonValue | undefined): Difference | null {
  type Frame = { source: JsonValue | undefined; target: JsonValue | undefined; at: PathNode | null };
  const pending: Frame[] = [{ source, target, at: null }];
  for (let frame = pending.pop(); frame !== undefined; frame = pending.pop()) {
    const { source: s, target: t, at } = frame;
    if (s !== undefined && t !== undefined) {
      if (Array.isArray(s) && Array.isArray(t)) {
        // Pushed last to first, so the first item is compared first.
        for (let i = Math.max(s.length, t.length) - 1; i >= 0; i -= 1) {
          pending.push({ source: s[i], target: t[i], at: { step: i, parent: at } });
        }
        continue;
      }
      if (isJsonObject(s) && isJsonObject(t)) {
        const keys = [...new Set([...Object.keys(s), ...Object.keys(t)])].sort();
        for (let i = keys.length - 1; i >= 0; i -= 1) {
          const key = keys[i] as string;
          pending.push({ source: own(s, key), target: own(t, key), at: { step: key, parent: at } });
        }
        continue;
      }
      if (canonicalJson(s) === canonicalJson(t)) continue;
    } else if (s === t) {
      continue;
    }
    return { path: pathOf(at), source: s, target: t };
  }
  return null;
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
  const found = firstDifference(source, target) ?? { path: [], source, target };
  return `at ${formatPath(found.path)}: source ${show(found.source)}, target ${show(found.target)}`;
}

/** True when `prefix` equals the start of `list`, record by record (canonical JSON). */
export function isCanonicalPrefix(prefix: readonly JsonValue[], list: readonly JsonValue[]): boolean {
  return (
    prefix.length <= list.length &&
    prefix.every((item, i) => canonicalJson(item) === canonicalJson(list[i] as JsonValue))
  );
}
