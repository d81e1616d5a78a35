/**
 * Redaction of secrets in connection URLs, so that a URL can appear in an error message,
 * a log line, a health report or stats output without
 * revealing a password.
 */

/** Query parameters whose values are treated as secrets (`password`, `sslpassword`, `token`, ...). */
const SECRET_PARAM = /pass|pwd|secret|token|auth|key/i;

/** What replaces a secret. */
const MASK = '***';

/**
 * Returns `url` with its password (`redis://:pw@host`, `postgres://u:pw@host`) and any
 * secret-looking query parameter (`?password=...`) replaced by `***`; the scheme, user
 * name, host, port and path stay readable. A string that does not parse as a URL is
 * reduced to its scheme (`redis://***`), or to `***`, since its secret cannot be located.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme === undefined ? MASK : `${scheme}://${MASK}`;
  }
  if (parsed.password !== '') parsed.password = MASK;
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, MASK);
  }
  return parsed.toString();
}
