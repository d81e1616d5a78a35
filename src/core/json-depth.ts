/**
 * The depth rule of {@link MAX_JSON_DEPTH} for values that are JSON already (read back from a
 * store): whether a write would refuse one for its nesting, asked without writing it (the
 * migration screens another program's records with it). Counted as the write's conversion
 * counts (`toJsonValue`): the top-level container is level 1.
 */
import { type JsonValue, MAX_JSON_DEPTH } from './json.js';

/** True when some container in `value` lies `level` or more levels down past the limit. */
function deeperThanLimit(value: JsonValue, level: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // The recursion stops one level past the limit, so it cannot exhaust the stack.
  if (level > MAX_JSON_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (deeperThanLimit(item, level + 1)) return true;
    return false;
  }
  for (const key in value) if (deeperThanLimit(value[key] as JsonValue, level + 1)) return true;
  return false;
}

/** True when a write would refuse `value` (an object or a list, as written) for its depth. */
export function exceedsMaxJsonDepth(value: JsonValue): boolean {
  return deeperThanLimit(value, 1);
}
