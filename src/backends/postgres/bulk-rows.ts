/**
 * The rows of one multi-row batch statement as a few `json` parameters, one per column, read
 * on the server by `ROWS FROM (json_array_elements($1::json), ...)`: one native
 * `JSON.stringify` per column instead of one per record plus `pg`'s escaping of every element
 * of the array parameters in JavaScript (the server's cost is the same as `unnest`'s).
 *
 * The records are embedded as themselves: `json_array_elements` on the `json` type hands each
 * element back with its text exactly as it came, byte for byte what `JSON.stringify(record)`
 * gives, which is what the single writes store. `json` input checks `\u` escapes only for
 * syntax (PostgreSQL's documentation), and these elements are never unescaped, so NUL and
 * lone surrogates inside records pass (the conformance suite stores both). The other columns
 * are unescaped (`json_array_elements_text`); they hold only ids (validated: no NUL, no lone
 * surrogates), `tsvector` texts, numbers and JSON texts (escaped once more by the outer
 * `JSON.stringify`, so they come back as the JSON text itself).
 */
import { type BatchName, batchText, type JsonValue } from '../../core/index.js';
import type { SqlParam } from './connection.js';

/** A scalar column value. */
type Scalar = string | number | boolean | null;

/**
 * The `FROM` item and the record's text expression of a statement whose rows come from
 * {@link BulkRows.params}: `$1` the records (as `r.d`), then one parameter per column of
 * `columns` (as `r.<name>`, cast to its type), numbered from `$2`. `r.n` is the row's
 * position (from 1). `once`, a function call, is evaluated once before the first row is
 * returned: `ROWS FROM` reads every function's rows into a store first (e.g. to take a lock
 * before any row is written, without a plan node of its own).
 */
export function bulkRowsSql(
  columns: ReadonlyArray<readonly [name: string, type: string]>,
  once?: string,
): {
  from: string;
  record: string;
  column: (name: string) => string;
} {
  const inputs = columns.map((_, i) => `json_array_elements_text($${i + 2}::json)`);
  const names = columns.map(([name]) => name);
  if (once !== undefined) {
    inputs.push(once);
    names.push('once');
  }
  const types = new Map(columns);
  return {
    from: `ROWS FROM (${['json_array_elements($1::json)', ...inputs].join(', ')}) WITH ORDINALITY AS r(${['d', ...names, 'n'].join(', ')})`,
    record: 'r.d::text',
    column: (name) => `r.${name}::${types.get(name) ?? 'text'}`,
  };
}

/** The rows of one statement, built up per record and sent as one JSON text per column. */
export class BulkRows {
  private readonly records: JsonValue[] = [];
  private readonly columns: Scalar[][];

  /** @param width number of columns besides the record */
  constructor(width: number) {
    this.columns = Array.from({ length: width }, () => []);
  }

  /** Number of rows added. */
  get length(): number {
    return this.records.length;
  }

  /** Adds a row: the record and its column values, in the statement's column order. */
  add(record: JsonValue, ...values: Scalar[]): void {
    this.records.push(record);
    for (let i = 0; i < this.columns.length; i += 1) (this.columns[i] as Scalar[]).push(values[i] ?? null);
  }

  /**
   * The statement's parameters: the records, then one per column. A batch whose records make
   * a text longer than a JavaScript string is a `ValidationError` naming the batch (`name`).
   */
  params(name: () => BatchName): SqlParam[] {
    const text = (values: ReadonlyArray<JsonValue | Scalar>): string =>
      batchText(name, () => JSON.stringify(values));
    return [text(this.records), ...this.columns.map(text)];
  }
}
