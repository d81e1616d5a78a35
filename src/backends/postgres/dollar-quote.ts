/** Dollar quoting of function bodies that hold the (quoted) schema name. */

/**
 * `body` between a dollar-quote tag that does not occur in it: a schema name may contain
 * `$...$` (`"a$body$b"` is a valid quoted name), and a body naming the schema must not end early.
 */
export function dollarQuote(body: string): string {
  let tag = '$body$';
  while (body.includes(tag)) tag = `${tag.slice(0, -1)}_$`;
  return `${tag}${body}${tag}`;
}
