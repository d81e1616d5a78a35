import { redactUrl } from '../../src/core/redact.js';

describe('redactUrl', () => {
  it.each([
    ['redis://:hunter2@cache.local:6379/0', 'redis://:***@cache.local:6379/0'],
    ['postgres://app:s3cret@db.local:5432/main', 'postgres://app:***@db.local:5432/main'],
    ['postgresql://app:p%40ss@db/x?sslmode=require', 'postgresql://app:***@db/x?sslmode=require'],
    ['postgres://db/x?user=app&password=s3cret', 'postgres://db/x?user=app&password=***'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['postgres://app@db.local/main', 'postgres://app@db.local/main'],
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
