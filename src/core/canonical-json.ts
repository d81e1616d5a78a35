/**
 * Canonical JSON text (keys sorted at every level) without recursion, for values nested too deep
 * for `JSON.stringify` and a recursive sort: a record another program left in a store may be
 * nested far deeper than the library writes (MAX_JSON_DEPTH), and comparing it (verification
 * after a migration) overflowed the stack with a bare RangeError.
 */
import type { JsonObject, JsonValue } from './json.js';

/** A piece of output text, or a value still to write. */
type Task = { text: string } | { value: JsonValue };

/** The text `canonicalJson` gives, built with an explicit stack (slower; for deep values only). */
export function canonicalJsonWithoutRecursion(root: JsonValue): string {
  const parts: string[] = [];
  const tasks: Task[] = [{ value: root }];
  // Tasks are taken from the end, so each container pushes its closing text first and its
  // items last to first.
  for (let task = tasks.pop(); task !== undefined; task = tasks.pop()) {
    if ('text' in task) {
      parts.push(task.text);
      continue;
    }
    const { value } = task;
    if (Array.isArray(value)) {
      tasks.push({ text: ']' });
      for (let i = value.length - 1; i >= 0; i -= 1) {
        tasks.push({ value: value[i] as JsonValue });
        if (i > 0) tasks.push({ text: ',' });
      }
      tasks.push({ text: '[' });
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value).sort();
      tasks.push({ text: '}' });
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        const key = keys[i] as string;
        tasks.push({ value: (value as JsonObject)[key] as JsonValue });
        tasks.push({ text: `${JSON.stringify(key)}:` });
        if (i > 0) tasks.push({ text: ',' });
      }
      tasks.push({ text: '{' });
    } else {
      parts.push(JSON.stringify(value));
    }
  }
  return parts.join('');
}
