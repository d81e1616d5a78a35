import { redactUrl, redactUrlsInText } from '../../src/core/redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://:hunter2@cache.local:6379/0', 'redis://:***@cache.local:6379/0'],
    ['postgres://app:s3cret@db.local:5432/main', 'postgres://app:***@db.local:5432/main'],
    ['postgresql://app:p%40ss@db/x?sslmode=require', 'postgresql://app:***@db/x?sslmode=require'],
    ['postgres://db/x?user=app&password=s3cret', 'postgres://db/x?user=app&password=***'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['postgres://app@db.local/main', 'postgres://app@db.local/main'],
    // `key` as a word is a secret; an option that starts with it is not (masked until 2026-12-04).
    [
      'redis://h/0?keyPrefix=app:&keyspace=k&key=a&api_key=b&apiKey=c&access-key=d&sslkey=e',
      'redis://h/0?keyPrefix=app%3A&keyspace=k&key=***&api_key=***&apiKey=***&access-key=***&sslkey=***',
    ],
    // A plural names secrets too (api_keys= and apiKeys= were shown from 2026-12-04 to the fix).
    [
      'redis://h/0?api_keys=a&apiKeys=b&KEYS=c&keys=d&keyspace=e',
      'redis://h/0?api_keys=***&apiKeys=***&KEYS=***&keys=***&keyspace=e',
    ],
    // Without their `//` the user info parses as a path, no password to mask: until
    // 2026-12-06 these were shown whole.
    ['postgres:/app:s3cret@db/x', 'postgres:***@db/x'],
    ['redis:u:s3cret@h', 'redis:***@h'],
    ['app:s3cret@db.internal:5432/prod', 'app:***@db.internal:5432/prod'],
    ['redis:/default:s3cret@cache:6379', 'redis:***@cache:6379'],
    ['postgres:/u:s3cret@h/db?password=x&a=1#f', 'postgres:***@h/db?password=***&a=1#f'],
    ['postgres:///test', 'postgres:///test'],
  ])('%s -> %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('keeps only the scheme of a URL that does not parse', () => {
    const redacted = redactUrl('postgres://app:s3cret@db.local:notaport/main');
    expect(redacted).toBe('postgres://***');
  });

  it('masks a string without a scheme entirely', () => {
    expect(redactUrl(':s3cret@host:port:x')).toBe('***');
  });
});

describe('redactUrlsInText', () => {
  it.each([
    [
      'cannot connect to postgres://postgres:postgres@127.0.0.1:5432/test: password authentication failed for user "postgres"',
      'cannot connect to postgres://postgres:***@127.0.0.1:5432/test: password authentication failed for user "postgres"',
    ],
    ['redis://:s@127.0.0.1:6379/0 (prefix "stats:")', 'redis://:***@127.0.0.1:6379/0 (prefix "stats:")'],
    ['{"postgres_url":"postgres://u:p%40ss%2Fw@db/x"}', '{"postgres_url":"postgres://u:***@db/x"}'],
    ['at postgres://u:p@ss@db:5432/x.', 'at postgres://u:***@db:5432/x.'],
    ['redis://:pw@h:6379, retrying', 'redis://:***@h:6379, retrying'],
    ['leaky://admin:hunter2@db failed', 'leaky://admin:***@db failed'],
    [
      'postgres://db/x?user=app&password=s3cret&sslmode=require#frag',
      'postgres://db/x?user=app&password=***&sslmode=require#frag',
    ],
    // No password: nothing changes, whatever the words are.
    ['postgres://postgres@db/postgres ssss', 'postgres://postgres@db/postgres ssss'],
    [
      'redis://:@h/0 and user@example.com: no URL password',
      'redis://:@h/0 and user@example.com: no URL password',
    ],
    ['storage_type: postgres', 'storage_type: postgres'],
    // A password with a raw `/`, `?` or `#` (not a valid URL, but what a user may type).
    ['redis://:pa/ss@h:6379/0 refused', 'redis://:***@h:6379/0 refused'],
    ['postgres://u:p#w?x@db/x?password=s failed', 'postgres://u:***@db/x?password=*** failed'],
    // A port, a path with `@` or `:` after it: not a password.
    ['http://h:8080/users/@me', 'http://h:8080/users/@me'],
    ['https://h/a:b/c@d', 'https://h/a:b/c@d'],
    ['postgres://u:pw@h/db/x@y', 'postgres://u:***@h/db/x@y'],
    // The text around a URL stays when its last query value is masked.
    ['(postgres://u@h/db?password=secret)', '(postgres://u@h/db?password=***)'],
    ['failed (postgres://u@h/db?password=secret).', 'failed (postgres://u@h/db?password=***).'],
    ['[redis://h/0?token=t], retrying', '[redis://h/0?token=***], retrying'],
    ['see postgres://u@h/db?password=secret; then', 'see postgres://u@h/db?password=***; then'],
    ['at postgres://u@h/db?sslpassword=s!', 'at postgres://u@h/db?sslpassword=***!'],
    // A parenthesis the URL opened is part of it.
    ['postgres://u@h/db?password=a(b) failed', 'postgres://u@h/db?password=*** failed'],
    ['(postgres://u@h/db?password=a(b))', '(postgres://u@h/db?password=***)'],
    ['(postgres://u:pw@h/db)', '(postgres://u:***@h/db)'],
    // A quote the text opened before the URL closes after it (commander's error text); until
    // 2026-12-04 it was masked with the last query value.
    [
      "error: option '--to <spec>' argument 'redis://h/0?password=x' is invalid.",
      "error: option '--to <spec>' argument 'redis://h/0?password=***' is invalid.",
    ],
    ["'--to=postgres://h/db?token=t'.", "'--to=postgres://h/db?token=***'."],
    ["it's postgres://h/db?password=x'y", "it's postgres://h/db?password=***"],
    ["postgres://h/db?password=x'y", 'postgres://h/db?password=***'],
    ['redis://h/0?keyPrefix=app: refused', 'redis://h/0?keyPrefix=app: refused'],
  ])('%s', (text, expected) => {
    expect(redactUrlsInText(text)).toBe(expected);
  });

  // A URL parser (so pg and ioredis) takes a raw space, quote, `<`, `>` or backtick in a
  // password (it percent-encodes it), where the scan of a text stopped: until 2026-12-03 such a
  // password was shown whole (`postgres://u:my pass@h/db`).
  it.each([
    ['failed: postgres://u:my pass@h/db end', 'failed: postgres://u:***@h/db end'],
    ["unknown option '--too=redis://:a b c@h:6379/0'", "unknown option '--too=redis://:***@h:6379/0'"],
    ['{"url":"postgres://u:pa\\"ss@h/db?password=x"}', '{"url":"postgres://u:***@h/db?password=***"}'],
    ['at postgres://u:p<w>@h/db.', 'at postgres://u:***@h/db.'],
    ['postgres://u:p`w@h/db and postgres://v:q r@h2/db', 'postgres://u:***@h/db and postgres://v:***@h2/db'],
  ])('masks a password with a character that ends a URL in text: %s', (text, expected) => {
    expect(redactUrlsInText(text)).toBe(expected);
  });

  it.each([
    'redis://127.0.0.1:6379 refused for user@example.com',
    'redis://h:6379, then mail admin@example.com',
    'postgres://u@h/db failed; ask admin@example.com',
    'see https://h/a:b c@d',
  ])('keeps a port or a path followed by an address on the line: %s', (text) => {
    expect(redactUrlsInText(text)).toBe(text);
  });

  it('masks every URL of a text, and is idempotent', () => {
    const text = 'from redis://:a@h1 to postgres://u:b@h2/db';
    expect(redactUrlsInText(text)).toBe('from redis://:***@h1 to postgres://u:***@h2/db');
    expect(redactUrlsInText(redactUrlsInText(text))).toBe(redactUrlsInText(text));
  });
});
