/**
 * Which names (a URL's query parameters, a config's fields) hold secrets, and what replaces a
 * secret wherever the library shows one. Internal: `redact.ts` and `shown-store.ts` share it.
 */

/**
 * Names whose values are treated as secrets (`password`, `sslpassword`, `token`, `key`,
 * `api_key`, `apiKey`, `access_key`, `api_keys`, ...). `key` or `keys` counts only as the end of
 * a word, so an option such as `keyPrefix` or `keyspace` stays readable (until 2026-12-04 it
 * was masked).
 */
const SECRET_NAME = /pass|pwd|secret|token|auth|keys?(?![a-z])/i;

/** What replaces a secret. */
export const MASK = '***';

/** Tells whether a value named `name` (a query parameter, a config field) is a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
