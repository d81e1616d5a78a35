/** Which timestamps `storeCacheRecord` accepts: the formats loads read, with every field in range. */
import { formatEpochMs, isValidTimestamp, parseTimestamp } from '../../src/core/index.js';

describe('isValidTimestamp', () => {
  it.each([
    '2025-03-06T10:00:00.123000+00:00',
    '2025-03-06T10:00:00Z',
    '2025-03-06 10:00:00',
    '2024-02-29T23:59:59.999999-05:30',
  ])('accepts %s', (value) => {
    expect(isValidTimestamp(value)).toBe(true);
  });

  it.each([
    '2025-02-29T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:60:00Z',
    '2025-01-01T00:00:60Z',
    '2025-01-01T00:00:00+24:00',
    '0099-01-01T00:00:00Z',
    '2025-01-01',
    'now',
    1735689600000,
    null,
  ])('refuses %s', (value) => {
    expect(isValidTimestamp(value)).toBe(false);
  });
});

describe('formatEpochMs and parseTimestamp (cached per second)', () => {
  /** The reference's text for `ms` as `Date#toISOString` gives it. */
  const reference = (ms: number): string => `${new Date(ms).toISOString().slice(0, 23)}000+00:00`;
  const now = Date.UTC(2026, 10, 30, 17, 0, 0);
  const instants = [
    ...Array.from({ length: 2000 }, (_, i) => now + (i % 2) * 3_600_000 + i * 7.3), // two seconds alternating
    ...Array.from({ length: 2000 }, (_, i) => ((i * 7_919_999_873.7) % 2.5e14) - 6.2e13), // years ~0 to ~9900
    0,
    -0.5,
    -1,
    999.9,
    -62_167_219_200_000, // 0000-01-01
    253_402_300_799_999, // 9999-12-31T23:59:59.999
    253_402_300_800_000, // year 10000: six-digit ISO year
  ];

  it('formats every instant as Date#toISOString does, in the reference format', () => {
    for (const ms of instants) expect([ms, formatEpochMs(ms)]).toEqual([ms, reference(ms)]);
    expect(() => formatEpochMs(NaN)).toThrow(RangeError);
  });

  it('parses the format it writes to the same instant as the general ISO pattern', () => {
    for (const ms of instants.filter((t) => t >= -62_167_219_200_000 && t < 253_402_300_800_000)) {
      const written = formatEpochMs(ms);
      const general = `${written.slice(0, 23)}Z`; // another form: parsed by the pattern
      expect([written, parseTimestamp(written)]).toEqual([written, parseTimestamp(general)]);
    }
    for (const bad of ['2025-02-30T10:00:00.123000+00:00', '2025-03-06T10:00:00.12a000+00:00']) {
      expect([bad, parseTimestamp(bad)]).toEqual([bad, parseTimestamp(bad.replace('+00:00', 'Z'))]);
    }
  });

  // parseTimestamp answers a text equal to the last one from memory: the answer must be that text's.
  it('reads a text repeated, alternated or after a bad one as when read alone', () => {
    const a = '2025-03-06T10:00:00.123000+00:00';
    const b = '2025-03-06T10:00:01.000000+00:00';
    const bad = 'not a time';
    const sequence = [a, a, b, a, bad, bad, a, '', b, b];
    const expected = [
      1741255200123,
      1741255200123,
      1741255201000,
      1741255200123,
      null,
      null,
      1741255200123,
      null,
    ];
    expected.push(1741255201000, 1741255201000);
    expect(sequence.map((text) => parseTimestamp(text))).toEqual(expected);
  });
});
