/** Which timestamps `storeCacheRecord` accepts: the formats loads read, with every field in range. */
import { isValidTimestamp } from '../../src/core/index.js';

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
