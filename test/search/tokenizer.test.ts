/**
 * The library's tokenizer gives exactly the tokens SQLite FTS5 `unicode61 remove_diacritics 2`
 * stores (read back through an `fts5vocab` table), for fixed tricky strings and random ones.
 */
import fc from 'fast-check';
import sqlite3 from 'sqlite3';
import { tokenize } from '../../src/core/index.js';

let db: sqlite3.Database;
let nextRow = 1;

const run = (sql: string, params: unknown[] = []): Promise<void> =>
  new Promise((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
const all = <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
  new Promise((resolve, reject) => db.all(sql, params, (e, rows) => (e ? reject(e) : resolve(rows as T[]))));

/** The tokens FTS5 stores for `text`, in order. */
async function fts5Tokens(text: string): Promise<string[]> {
  const rowid = nextRow++;
  await run('INSERT INTO t (rowid, body) VALUES (?, ?)', [rowid, text]);
  const rows = await all<{ term: string }>('SELECT term FROM v WHERE doc = ? ORDER BY "offset"', [rowid]);
  await run('DELETE FROM t WHERE rowid = ?', [rowid]);
  return rows.map((r) => r.term);
}

beforeAll(async () => {
  db = new sqlite3.Database(':memory:');
  await run("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')");
  await run("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')");
});

afterAll(() => new Promise<void>((resolve) => db.close(() => resolve())));

describe('tokenize', () => {
  it.each([
    ['user_42 report.pdf café', ['user', '42', 'report', 'pdf', 'cafe']],
    ['Ÿ ÉCOLE Ñandú Straße İstanbul ΣΊΣΥΦΟΣ', undefined],
    ['日本語のテキスト 中文 한국어', undefined],
    ['emoji 😀🧠 between👍words', undefined],
    ['NEAR(a b) OR "x" -y:* AND NOT (z)', ['near', 'a', 'b', 'or', 'x', 'y', 'and', 'not', 'z']],
    ['e\u0301 a\u0308b \u0301 x\u200by', undefined],
    ['\uE000private\uF8FF use', undefined],
    ['tab\tnew\nline\u00a0nbsp\u3000ideographic', undefined],
    ['１２３ ｆｕｌｌ ٣٤٥ ⅷ ½', undefined],
  ])('%j matches FTS5', async (text, expected) => {
    const tokens = tokenize(text);
    expect(tokens).toEqual(await fts5Tokens(text));
    if (expected !== undefined) expect(tokens).toEqual(expected);
  });

  it('matches FTS5 on random strings of accents, CJK, emoji, digits and punctuation', async () => {
    const pieces = fc.constantFrom(
      'a',
      'Z',
      'é',
      'É',
      'e\u0301',
      'ß',
      'ø',
      'Ł',
      'ı',
      'İ',
      'Σ',
      'ς',
      'ж',
      'Ж',
      'ا',
      'א',
      '日',
      'テ',
      '한',
      '😀',
      '🧠',
      '_',
      '.',
      '-',
      ':',
      '*',
      '"',
      '(',
      ')',
      ' ',
      '\t',
      '\n',
      '0',
      '9',
      '٣',
      '½',
      '\u00a0',
      '\u200b',
      '\uE000',
      'café',
      'user_42',
      'report.pdf',
      'NEAR',
      'ǅ',
      'ﬁ',
      'Ⅷ',
      '\u0301',
      '\u0308',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(pieces, fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 30 }),
        async (parts) => {
          const text = parts.join('');
          expect(tokenize(text)).toEqual(await fts5Tokens(text));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('matches FTS5 on random code points from the whole Unicode range', async () => {
    const codePoint = fc.integer({ min: 1, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff);
    await fc.assert(
      fc.asyncProperty(fc.array(codePoint, { minLength: 1, maxLength: 40 }), async (cps) => {
        const text = String.fromCodePoint(...cps);
        expect(tokenize(text)).toEqual(await fts5Tokens(text));
      }),
      { numRuns: 400 },
    );
  });
});
