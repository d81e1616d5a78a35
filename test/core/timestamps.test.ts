/** Which timestamps `storeCacheRecord` accepts: the formats loads read, with every field in range. */
import {
  cacheExpiryMs,
  canonicalTimestamp,
  formatEpochMs,
  isCacheExpired,
  isOutOfRangeCanonical,
  isValidTimestamp,
  parseTimestamp,
} from '../../src/core/index.js';

describe('isValidTimestamp', () => {
  it.each([
    '2025-03-06T10:00:00.123000+00:00',
    '2025-03-06T10:00:00Z',
    '2025-03-06 10:00:00',
    '2024-02-29T23:59:59.999999-05:30',
    '9999-12-31T23:59:59.999+00:00',
    '9999-12-31T23:59:59.999000+00:00',
    '9999-12-31T23:59:59.999Z',
    '9999-01-01T00:00:00+00:00',
    '1000-01-01T00:00:00+00:00',
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
    // Fields in range, but the instant (rounded up to the millisecond) is in year 10000.
    '9999-12-31T23:00:00-23:59',
    '9999-12-31T20:00:00-05:00',
    '9999-12-31T23:59:59.999001+00:00',
    '9999-12-31T23:59:59.9999999Z',
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

describe('isOutOfRangeCanonical and isCacheExpired', () => {
  it('flags exactly the canonical-shaped texts isValidTimestamp refuses', () => {
    // Random fields, each sometimes out of range: the hand-written check must equal the rule.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    for (let i = 0; i < 20_000; i += 1) {
      const year = random(4) === 0 ? random(1100) : 1900 + random(300);
      const text =
        `${pad(year, 4)}-${pad(random(14), 2)}-${pad(random(33), 2)}T${pad(random(26), 2)}:` +
        `${pad(random(62), 2)}:${pad(random(62), 2)}.${pad(random(1_000_000), 6)}+00:00`;
      expect({ text, out: isOutOfRangeCanonical(text) }).toEqual({ text, out: !isValidTimestamp(text) });
    }
    for (const other of [
      '2025-02-30T00:00:00Z',
      '2025-02-30T00:00:00.000+00:00',
      '2025-02-30t00:00:00.000000+00:00',
      '2025-02-30T00:00:00.000000+01:00',
      '2025-02-30 00:00:00.000000+00:00',
      '2025-02-3xT00:00:00.000000+00:00',
    ]) {
      expect({ other, out: isOutOfRangeCanonical(other) }).toEqual({ other, out: false });
    }
  });

  it('expires such a text exactly when now passes it in text order (as SQL compares)', () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    let checked = 0;
    while (checked < 3_000) {
      const year = random(8) === 0 ? random(1000) : 2020 + random(10);
      const text =
        `${pad(year, 4)}-${pad(random(14), 2)}-${pad(random(33), 2)}T${pad(random(26), 2)}:` +
        `${pad(random(62), 2)}:${pad(random(62), 2)}.${pad(random(1_000_000), 6)}+00:00`;
      if (!isOutOfRangeCanonical(text)) continue;
      checked += 1;
      // Around its rolled-over instant, around the instant its text order means, and later
      // (now is never before year 1000, where texts the format writes are not valid ones).
      const rolled = parseTimestamp(text) ?? 0;
      const meant = cacheExpiryMs(text) ?? 0;
      const nows = [
        rolled - 1,
        rolled,
        rolled + 1,
        meant - 1,
        meant,
        meant + 1,
        meant + 86_400_000 * random(40),
      ];
      for (const now of nows) {
        if (now < Date.UTC(1000, 0, 1) || now > Date.UTC(9999, 11, 31)) continue;
        expect({ text, now, expired: isCacheExpired(text, now) }).toEqual({
          text,
          now,
          expired: text <= formatEpochMs(now),
        });
      }
    }
  });

  it('decides a canonical-shaped expiry with a field out of range by its text, as SQL compares it', () => {
    const now = Date.UTC(2026, 5, 30, 12);
    // Hour 47 of June 29 parses as June 30, 23:00 (later than now), but its text is earlier.
    expect(isCacheExpired('2026-06-29T47:00:00.000000+00:00', now)).toBe(true);
    // Day 0 of July parses as June 30, 11:00 (earlier than now), but its text is later.
    expect(isCacheExpired('2026-07-00T11:00:00.000000+00:00', now)).toBe(false);
    // Other forms keep their parsed instant (Feb 30 in `Z` form is Mar 2).
    expect(isCacheExpired('2026-06-29T47:00:00Z', now)).toBe(false);
    expect(isCacheExpired(formatEpochMs(now), now)).toBe(true);
    expect(isCacheExpired(formatEpochMs(now + 1), now)).toBe(false);
  });
});

describe('canonicalTimestamp', () => {
  it.each([
    ['2025-03-06T10:00:00.123456+00:00', '2025-03-06T10:00:00.123456+00:00'],
    ['2025-03-06T10:00:00Z', '2025-03-06T10:00:00.000000+00:00'],
    ['2025-03-06T10:00:00+00:00', '2025-03-06T10:00:00.000000+00:00'],
    ['2025-03-06 10:00:00.5', '2025-03-06T10:00:00.500000+00:00'],
    ['2025-03-06t10:00:00.123+0100', '2025-03-06T09:00:00.123000+00:00'],
    ['2025-03-06T00:30:00-05:30', '2025-03-06T06:00:00.000000+00:00'],
    ['2024-12-31T23:59:59.9999991Z', '2025-01-01T00:00:00.000000+00:00'],
    ['2025-03-06T10:00:00.1234560000Z', '2025-03-06T10:00:00.123456+00:00'],
    ['9999-12-31T23:59:59.9989999Z', '9999-12-31T23:59:59.999000+00:00'],
  ])('writes %s as %s', (given, canonical) => {
    expect(canonicalTimestamp(given)).toBe(canonical);
    expect(canonicalTimestamp(canonical)).toBe(canonical);
    // The same expiry decision at every whole millisecond around it.
    const at = Math.floor(parseTimestamp(given) as number);
    for (const now of [at - 1, at, at + 1, at + 2]) {
      expect([now, isCacheExpired(canonical, now)]).toEqual([now, isCacheExpired(given, now)]);
    }
  });

  it.each([
    'yesterday',
    '2025-02-30T00:00:00Z',
    '2025-02-30T00:00:00.000000+00:00',
    '9999-12-31T23:59:59.9999Z',
    '1000-01-01T00:30:00+01:00',
    // The canonical length and digits, but no `.` before the fraction (returned as given until 2026-12-04).
    '2025-03-06T10:00:00X123456+00:00',
    '2025-03-06T10:00:00 123456+00:00',
  ])('gives null for %s (not a valid timestamp, or before year 1000 in UTC)', (value) => {
    expect(canonicalTimestamp(value)).toBeNull();
  });
});
