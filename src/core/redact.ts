/**
 * Redaction of secrets in connection URLs, so that a URL can appear in an error message,
 * a log line, a health report or stats output without
 * revealing a password.
 */
import { isSecretName, MASK } from './secret-names.js';

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
  const hostless = parsed.host === '' ? hostlessUserInfo(url) : null;
  maskSecretParams(parsed);
  if (hostless !== null) return redactHostless(url, parsed, hostless);
  if (parsed.password !== '') parsed.password = MASK;
  return parsed.toString();
}

/** Masks `url`'s secret-looking query values in place. */
function maskSecretParams(url: URL): void {
  for (const name of new Set(url.searchParams.keys())) {
    if (isSecretName(name)) url.searchParams.set(name, MASK);
  }
}

/**
 * The `user:password@` (or `password@`) of a URL written without its `//` (`postgres:/u:pw@h/db`,
 * `redis:u:pw@h`, `app:pw@host:5432/db`): a URL parser reads it as a path, with no host and no
 * password to mask, so until 2026-12-06 it was shown whole. Its scheme and what precedes the
 * last `@` before any `?` or `#`, or `null` when there is no `@` there.
 */
function hostlessUserInfo(url: string): { scheme: string; end: number } | null {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
  if (scheme === undefined) return null;
  const stop = url.slice(scheme.length).search(/[?#]/);
  const head = stop === -1 ? url : url.slice(0, scheme.length + stop);
  const at = head.lastIndexOf('@');
  return at <= scheme.length ? null : { scheme, end: at };
}

/**
 * {@link redactUrl} of a host-less URL holding user info (`parsed`, its query values masked
 * already): everything before its `@` masked.
 */
function redactHostless(url: string, parsed: URL, { scheme, end }: { scheme: string; end: number }): string {
  let tail = url.slice(end);
  if (parsed.search !== '') tail = tail.slice(0, tail.indexOf('?')) + parsed.search + parsed.hash;
  return `${scheme}${MASK}${tail}`;
}

// `scheme://` and what follows up to whitespace or a character that ends a URL in prose or
// JSON (a password that needs one of them is percent-encoded in a valid URL).
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"<>`]*)/gi;
// A query parameter inside a URL: separator, name, value.
const QUERY_PARAM = /([?&;])([^=&#;\s]*)=([^&#;\s]*)/g;

/** `name` percent-decoded when it can be, as given otherwise. */
function decodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

// `user:password@` whose password holds a raw `/`, `?` or `#` (an invalid URL, but one a user
// may type): the user part has none of them, the password is not a port number.
const RAW_USER_INFO = /^([^:/?#@]*):(?!\d*(?:[/?#]|$))(.*)@/;

/** The part of a URL after `scheme://` with its password and secret query values masked. */
function redactAfterScheme(rest: string): string {
  const authorityEnd = rest.search(/[/?#]/);
  const raw =
    authorityEnd === -1 || rest.slice(0, authorityEnd).includes('@') ? null : RAW_USER_INFO.exec(rest);
  if (raw !== null) {
    // The greedy `.*@` reaches the last `@`, as URL parsers end the user info.
    return `${raw[1]!}:${MASK}@${redactAfterScheme(rest.slice(raw[0].length))}`;
  }
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  // The user info ends at the last `@` of the authority (as URL parsers read it).
  const at = authority.lastIndexOf('@');
  const colon = at === -1 ? -1 : authority.slice(0, at).indexOf(':');
  const shownAuthority =
    colon === -1 || colon === at - 1
      ? authority
      : `${authority.slice(0, colon + 1)}${MASK}${authority.slice(at)}`;
  return shownAuthority + redactQueryValues(tail);
}

/**
 * Returns `text` (the part of a URL after its host, or a spec such as `file:./data?token=...`)
 * with the value of every secret-looking parameter (`?`, `&` or `;` then `name=value`) replaced
 * by `***`, every other character as it was.
 */
export function redactQueryValues(text: string): string {
  return text.replace(QUERY_PARAM, (param, separator: string, name: string, value: string) =>
    value !== '' && isSecretName(decodeName(name)) ? `${separator}${name}=${MASK}` : param,
  );
}

/**
 * Returns `text` with the password of every URL in it (`scheme://user:password@host`) and
 * its secret-looking query values replaced by `***`, the rules of {@link redactUrl}; every
 * other character stays as it was, so words, JSON keys and the rest of each URL are intact.
 */
export function redactUrlsInText(text: string): string {
  const urls = new RegExp(URL_IN_TEXT); // own lastIndex: the scan below moves it
  const quote = quoteTracker(text);
  let shown = '';
  let done = 0;
  for (let m = urls.exec(text); m !== null; m = urls.exec(text)) {
    const [url, scheme = '', run = ''] = m;
    const spread = spreadUserInfo(run, text.slice(m.index + url.length));
    const rest = run + spread;
    const end = urlEnd(rest, quote.openAt(m.index));
    shown += text.slice(done, m.index) + scheme + redactAfterScheme(rest.slice(0, end)) + rest.slice(end);
    done = m.index + url.length + spread.length;
    urls.lastIndex = done;
  }
  return shown + text.slice(done);
}

/**
 * The rest of a user info the scan cut short: a URL parser (so pg and ioredis) takes a raw
 * space, quote, `<`, `>` or backtick in a password and percent-encodes it, where the scan
 * stops. When `run` (the URL so far) is `user:pass` with no `@`, `/`, `?` or `#` and no port,
 * what follows on the same line up to the first `@` (and the host after it) belongs to it;
 * otherwise nothing (`''`). At worst some prose is masked with the password, never shown.
 */
function spreadUserInfo(run: string, after: string): string {
  if (/[@/?#]/.test(run)) return '';
  const colon = run.indexOf(':');
  // No password, or a port (before the prose after it: `redis://h:6379, then ...`).
  if (colon === -1 || /^\d*$/.test(run.slice(colon + 1, urlEnd(run)))) return '';
  const spread = /^[^\r\n@]*@[^\s"<>`]*/.exec(after)?.[0];
  return spread === undefined || spread.includes('://') ? '' : spread;
}

// Punctuation that ends a sentence or clause right after a URL in prose.
const PROSE_END = '.,:;!?';

/**
 * Tells whether the text before an index (where a URL starts) leaves a `'` open on its line;
 * asked for increasing indexes, it reads each character once.
 */
function quoteTracker(text: string): { openAt(index: number): boolean } {
  let open = false;
  let scanned = 0;
  return {
    openAt(index: number): boolean {
      for (; scanned < index; scanned += 1) {
        const char = text[scanned];
        if (char === "'") open = !open;
        else if (char === '\n') open = false;
      }
      return open;
    },
  };
}

/**
 * Where the URL ends in `rest` (what follows its `scheme://` up to whitespace): before the
 * prose around it, so that masking a last query value (`(postgres://h/db?password=x).`) keeps
 * the `).` of the text. A `)` or `]` belongs to the URL only when the URL opened it; trailing
 * `.,:;!?` never does (a secret that truly ends with one shows that one character), nor a `'`
 * when `quoted` (the text opened a `'` before the URL: commander's `argument 'URL' is invalid`,
 * whose closing quote was masked with a last query value until 2026-12-04).
 */
function urlEnd(rest: string, quoted = false): number {
  let end = rest.length;
  for (;;) {
    const last = rest[end - 1];
    if (last === undefined) return end;
    const opener = last === ')' ? '(' : last === ']' ? '[' : null;
    if (opener !== null) {
      const url = rest.slice(0, end);
      if (url.split(last).length <= url.split(opener).length) return end;
    } else if (!PROSE_END.includes(last) && !(quoted && last === "'")) {
      return end;
    }
    end -= 1;
  }
}

/**
 * `value` with {@link redactUrlsInText} applied to every string in it, at any depth (keys are
 * kept): for reports a backend builds, such as a registered backend's health details.
 */
export function redactUrlsInJson<T>(value: T): T {
  if (typeof value === 'string') return redactUrlsInText(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactUrlsInJson(item)) as T;
  if (typeof value !== 'object' || value === null) return value;
  // Object.fromEntries defines each key as its own property, `__proto__` included.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]: [string, unknown]) => [key, redactUrlsInJson(item)]),
  ) as T;
}
