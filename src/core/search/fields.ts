/**
 * What text of a record is indexed. By default every string value inside the record (object
 * keys, numbers and booleans are not text) except the timestamp the library adds to it (see
 * {@link LIBRARY_TIMESTAMP_FIELDS}); per kind, a list of JSON paths narrows it, like
 * LangGraph's `fields`: `content`, `metadata.title`, `steps[*].text`, `tags[0]`, `$.summary`.
 * `*` (or `[*]`) walks every element of an array or value of an object; every string inside
 * what a path selects is indexed, and `$` selects the whole record, timestamp included.
 */
import { z } from 'zod';
import type { JsonValue } from '../json.js';
import { SEARCH_KINDS, type SearchKind } from './query.js';
import { quoteName } from '../shown-text.js';

/** Per kind, the JSON paths whose strings are indexed (a kind not listed: every string). */
export type SearchFields = Partial<Record<SearchKind, readonly string[]>>;

/**
 * The top-level key the library adds to a record of a kind, a timestamp that the default rule
 * (no paths configured for the kind) leaves out of the index, also when the caller supplied it:
 * `created_at` of a memory, `stored_at` of a reasoning chain. Their 5–7 tokens (`2026`, `12`,
 * `00`, ...) would match every record written in the same month, and cost a third of a typical
 * memory's index writes. List paths (`['$']` indexes the whole record) to index them.
 */
export const LIBRARY_TIMESTAMP_FIELDS: Readonly<Partial<Record<SearchKind, string>>> = Object.freeze({
  memories: 'created_at',
  reasoning_chains: 'stored_at',
});

/**
 * The version of the default rule (what is indexed when no paths are configured). A backend
 * stores it with its index, and an index built under another version is rebuilt, never
 * trusted. 1: every string of the record; 2: without {@link LIBRARY_TIMESTAMP_FIELDS}.
 */
export const DEFAULT_TEXT_RULE_VERSION = 2;

/** One step of a parsed path. */
type PathStep = { key: string } | { index: number } | { any: true };

/** A parsed path, or why it cannot be parsed. */
export function parseFieldPath(path: string): PathStep[] | string {
  if (typeof path !== 'string' || path.trim() === '') return 'must be a non-empty string';
  let rest = path.startsWith('$') ? path.slice(1) : path;
  const steps: PathStep[] = [];
  if (rest === '') return steps;
  if (path.startsWith('$')) {
    if (!rest.startsWith('.') && !rest.startsWith('[')) return 'expected "." or "[" after "$"';
  } else {
    rest = `.${rest}`;
  }
  const step = /^(?:\.([^.[\]]+)|\[(\*|\d+)\])/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (m === null) return `cannot parse ${quoteName(rest)}`;
    if (m[1] !== undefined) steps.push(m[1] === '*' ? { any: true } : { key: m[1] });
    else if (m[2] === '*') steps.push({ any: true });
    else steps.push({ index: Number(m[2]) });
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/**
 * Nesting below which {@link collectStrings} recurses. Values stored through the library are at
 * most `MAX_JSON_DEPTH` (512) deep, but a record another program wrote (a file store's JSON, a
 * row) may be deeper; past this depth the walk goes on with its own stack, not the call stack.
 */
const RECURSION_DEPTH = 1000;

/** Pushes every string inside `value` (depth first, document order). */
function collectStrings(value: JsonValue | undefined, out: string[], depth = 0): void {
  if (typeof value === 'string') out.push(value);
  else if (depth >= RECURSION_DEPTH) collectDeepStrings(value, out);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out, depth + 1);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) collectStrings(item, out, depth + 1);
}

/** {@link collectStrings} without recursion, in the same order, for values nested beyond {@link RECURSION_DEPTH}. */
function collectDeepStrings(value: JsonValue | undefined, out: string[]): void {
  const pending: Array<JsonValue | undefined> = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') out.push(next);
    else if (typeof next === 'object' && next !== null) {
      const items = Array.isArray(next) ? next : Object.values(next);
      for (let i = items.length - 1; i >= 0; i -= 1) pending.push(items[i]);
    }
  }
}

function select(value: JsonValue | undefined, steps: readonly PathStep[], at: number, out: string[]): void {
  if (value === undefined) return;
  const step = steps[at];
  if (step === undefined) {
    collectStrings(value, out);
    return;
  }
  if ('any' in step) {
    const children = Array.isArray(value)
      ? value
      : typeof value === 'object' && value !== null
        ? Object.values(value)
        : [];
    for (const child of children) select(child, steps, at + 1, out);
  } else if ('index' in step) {
    if (Array.isArray(value)) select(value[step.index], steps, at + 1, out);
  } else if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.hasOwn(value, step.key)
  ) {
    select(value[step.key], steps, at + 1, out);
  }
}

/** Extracts the indexed text of records, per kind, from a validated {@link SearchFields}. */
export class TextExtractor {
  private readonly paths: Partial<Record<SearchKind, PathStep[][]>> = {};

  /** Parses the paths; throws `Error` naming a bad path (callers wrap it in their config error). */
  constructor(fields: SearchFields = {}) {
    for (const [kind, list] of Object.entries(fields) as Array<[SearchKind, readonly string[]]>) {
      this.paths[kind] = list.map((path) => {
        const steps = parseFieldPath(path);
        if (typeof steps === 'string')
          throw new Error(`search field ${JSON.stringify(path)} of ${kind}: ${steps}`);
        return steps;
      });
    }
  }

  /** The indexed strings of one record of `kind`, in document order. */
  extract(kind: SearchKind, record: JsonValue): string[] {
    const out: string[] = [];
    const paths = this.paths[kind];
    if (paths !== undefined) {
      for (const steps of paths) select(record, steps, 0, out);
      return out;
    }
    const skipped = LIBRARY_TIMESTAMP_FIELDS[kind];
    if (skipped === undefined || typeof record !== 'object' || record === null || Array.isArray(record)) {
      collectStrings(record, out);
      return out;
    }
    // Only the top-level key: a `created_at` the caller nests in its data is the caller's text.
    for (const key of Object.keys(record)) if (key !== skipped) collectStrings(record[key], out);
    return out;
  }
}

/** The `searchFields` config option: per kind, a list of JSON paths that parse. */
export const searchFieldsOption = z
  .partialRecord(z.enum(SEARCH_KINDS), z.array(z.string()).readonly())
  .optional()
  .superRefine((fields, ctx) => {
    for (const [kind, paths] of Object.entries(fields ?? {})) {
      for (const path of paths ?? []) {
        const parsed = parseFieldPath(path);
        if (typeof parsed === 'string')
          ctx.addIssue({ code: 'custom', path: [kind], message: `${JSON.stringify(path)}: ${parsed}` });
      }
    }
  });
