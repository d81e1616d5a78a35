/**
 * Timestamps as the Python reference writes them: ISO 8601 UTC with microseconds and an
 * explicit `+00:00` offset (Python before 3.11 cannot parse a trailing `Z`).
 */

/** Formats a date as `2025-03-06T10:00:00.123000+00:00`. */
export function formatTimestamp(date: Date): string {
  return formatEpochMs(date.getTime());
}

/** The current time in the reference's timestamp format. */
export function nowTimestamp(): string {
  return formatEpochMs(Date.now());
}

// Every write formats one or two timestamps (a cache write: now and its expiry), mostly within
// the same few seconds: the text up to the second (`2025-03-06T10:00:00.`) of the last two
// seconds formatted is kept, so a call costs a string concatenation instead of a
// `Date#toISOString`. Two slots, so a write's two timestamps do not evict each other.
const formattedSeconds: Array<{ second: number; prefix: string }> = [
  { second: NaN, prefix: '' },
  { second: NaN, prefix: '' },
];

/** `YYYY-MM-DDTHH:MM:SS.` of the epoch second `second`, or `null` outside years 0–9999 (six-digit ISO years). */
function secondPrefix(second: number, epochMs: number): string | null {
  const [recent, older] = formattedSeconds as [
    { second: number; prefix: string },
    { second: number; prefix: string },
  ];
  if (recent.second === second) return recent.prefix;
  if (older.second === second) return older.prefix;
  const iso = new Date(epochMs).toISOString(); // throws RangeError for an invalid time, as before
  if (iso.length !== 24) return null;
  formattedSeconds[0] = { second, prefix: iso.slice(0, 20) };
  formattedSeconds[1] = recent;
  return formattedSeconds[0].prefix;
}

/** Formats epoch milliseconds in the reference's timestamp format. */
export function formatEpochMs(epochMs: number): string {
  const time = Math.trunc(epochMs); // what `new Date(epochMs)` keeps
  const second = Math.floor(time / 1000);
  const prefix = secondPrefix(second, time);
  if (prefix === null) return `${new Date(time).toISOString().slice(0, 23)}000+00:00`;
  const ms = time - second * 1000;
  return `${prefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}000+00:00`;
}

// Date, time, optional fraction of any length, then Z or ±HH:MM (or none: naive = UTC,
// as the reference only ever writes UTC).
const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO 8601 timestamp with `Z`, `+00:00`, any other offset or none (taken as UTC)
 * and up to microsecond precision. Returns epoch milliseconds, or `null` if unparsable.
 */
export function parseTimestamp(value: string): number | null {
  // The rows of a cache batch written together share one expiry text: the last one read is
  // answered without parsing (a string comparison, where a parse slices and builds two strings).
  if (value === parsedLast.value) return parsedLast.epoch;
  const epoch = parseTimestampText(value);
  parsedLast = { value, epoch };
  return epoch;
}

/** The last text {@link parseTimestamp} read, and what it returned. */
let parsedLast: { value: string; epoch: number | null } = { value: '', epoch: null };

/** {@link parseTimestamp} without the memo of the last text. */
function parseTimestampText(value: string): number | null {
  // The format this library writes (`2025-03-06T10:00:00.123000+00:00`): the part up to the
  // second is parsed once per second (a load checks an expiry per call), the rest by hand,
  // with the same arithmetic as below.
  if (
    value.length === 32 &&
    value.charCodeAt(19) === 46 &&
    value.endsWith('+00:00') &&
    digitsAt(value, 20, 26)
  ) {
    const prefix = value.slice(0, 19);
    if (prefix !== parsedSecond.prefix) {
      const epoch = parseIso(prefix);
      if (epoch === null) return null;
      parsedSecond = { prefix, epoch };
    }
    return parsedSecond.epoch + Number(`0.${value.slice(20, 26)}`) * 1000;
  }
  return parseIso(value);
}

/** The last `YYYY-MM-DDTHH:MM:SS` {@link parseTimestamp} read, and its epoch milliseconds. */
let parsedSecond = { prefix: '', epoch: 0 };

/** True when `value` has only ASCII digits from `from` to `to` (exclusive). */
function digitsAt(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** {@link parseTimestamp} by the pattern, for every form it reads. */
function parseIso(value: string): number | null {
  const m = ISO_PATTERN.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  let epoch = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(epoch)) return null;
  epoch += ms;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    epoch -= sign * offsetMin * 60_000;
  }
  return epoch;
}

/**
 * The last instant a stored timestamp may mean, 9999-12-31T23:59:59.999Z: ISO years (and
 * Python's) end at 9999, and PostgreSQL refuses a later one as "time zone displacement out of
 * range" (it reads a value like `9999-12-31T23:00:00-23:59` as the instant, in year 10000).
 */
export const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * True when `value` is a timestamp {@link parseTimestamp} reads and every field is in range
 * (year 1000–9999, month 1–12, a day the month has, hour ≤ 23, minute and second ≤ 59, offset
 * ≤ 23:59), and the instant it means, rounded up to the millisecond (as PostgreSQL indexes a
 * fraction of one), is not after {@link MAX_TIMESTAMP_MS}: so that it means the same instant
 * to every backend and to Python, and every backend stores it.
 */
export function isValidTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_PATTERN.exec(value);
  if (!m) return false;
  // The pattern always captures these six; the defaults only satisfy the type checker.
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map(Number);
  // Date.UTC rolls overflowing fields over (Feb 30 -> Mar 2) and maps years 0-99 to 19xx.
  const date = new Date(Date.UTC(year, month - 1, day));
  const sameDate =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  const zone = (m[8] ?? '').replace(':', '');
  const zoneOk = !/^[+-]\d{4}$/.test(zone) || (Number(zone.slice(1, 3)) <= 23 && Number(zone.slice(3)) <= 59);
  if (!(year >= 1000 && sameDate && hour <= 23 && minute <= 59 && second <= 59 && zoneOk)) return false;
  // In whole milliseconds from the text: near year 9999 a double holds no microseconds.
  const fraction = m[7] ?? '';
  const offsetMinutes = /^[+-]\d{4}$/.test(zone)
    ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)))
    : 0; // Z, or none: UTC
  const ceilMs =
    Date.UTC(year, month - 1, day, hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0'))) -
    offsetMinutes * 60_000 +
    (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  return ceilMs <= MAX_TIMESTAMP_MS;
}

/**
 * `value` (a text {@link parseTimestamp} reads) in the reference's format: the same instant in
 * UTC, `+00:00`, six fraction digits; a longer fraction is rounded up to the microsecond, which
 * changes no decision made against a whole millisecond. `null` unless {@link isValidTimestamp}
 * and in year 1000 or later in UTC. The
 * reference parses `expires_at` with `datetime.fromisoformat`: before Python 3.11 that refuses
 * `Z`, `+0000` and fractions other than 3 or 6 digits, and a time without offset cannot be
 * compared with its aware "now" in any version (a `TypeError` its file backend does not catch).
 */
export function canonicalTimestamp(value: string): string | null {
  if (value.length === 32 && value.endsWith('+00:00') && isCanonicalShape(value)) {
    // Already canonical (the common case, checked without a pattern): valid if in range.
    return canonicalFieldsInRange(value) && value <= LAST_CANONICAL_TEXT ? value : null;
  }
  if (!isValidTimestamp(value)) return null;
  const m = ISO_PATTERN.exec(value);
  if (!m) return null;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map(Number);
  const fraction = m[7] ?? '';
  const zone = (m[8] ?? '').replace(':', '');
  const offsetMinutes = /^[+-]\d{4}$/.test(zone)
    ? (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)))
    : 0; // Z, or none: UTC
  // Whole seconds and microseconds apart: microseconds since the epoch pass 2^53.
  let secondsMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  let micros = Number(fraction.slice(0, 6).padEnd(6, '0')) + (/[1-9]/.test(fraction.slice(6)) ? 1 : 0);
  if (micros === 1_000_000) [secondsMs, micros] = [secondsMs + 1000, 0];
  // An offset may move year 1000 back to 999, which is not a valid timestamp any more.
  if (secondsMs < Date.UTC(1000, 0, 1)) return null;
  return `${new Date(secondsMs).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}+00:00`;
}

/** {@link MAX_TIMESTAMP_MS} in the canonical format: later canonical texts sort after it. */
const LAST_CANONICAL_TEXT = '9999-12-31T23:59:59.999000+00:00';

/** The two-digit number at `from` of a text whose digits were checked. */
function twoDigits(value: string, from: number): number {
  return (value.charCodeAt(from) - 48) * 10 + value.charCodeAt(from + 1) - 48;
}

/**
 * True when `value` has exactly the canonical shape (`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`, ASCII
 * digits: what SQLite's backend compares as text) but is not {@link isValidTimestamp} (a field
 * out of range, `2025-02-30`, hour 47, or a year below 1000). {@link parseTimestamp} rolls such
 * fields over (Feb 30 is Mar 2), so its instant and its text order disagree about what is past.
 * By hand, not by pattern: a cache load or listing checks every expiry it reads.
 */
export function isOutOfRangeCanonical(value: string): boolean {
  if (value.length !== 32 || value.charCodeAt(19) !== 46 || !value.endsWith('+00:00')) return false;
  if (value === checkedCanonical.value) return checkedCanonical.outOfRange;
  const outOfRange = isCanonicalShape(value) && !canonicalFieldsInRange(value);
  checkedCanonical = { value, outOfRange };
  return outOfRange;
}

/** The last text {@link isOutOfRangeCanonical} checked and its answer (a batch shares one expiry). */
let checkedCanonical = { value: '', outOfRange: false };

/** Whether a 32-character text ending `+00:00` has the canonical separators (the `.` too) and digits. */
function isCanonicalShape(value: string): boolean {
  return (
    value.charCodeAt(19) === 46 && // . (canonicalTimestamp's fast path checks nothing else)
    value.charCodeAt(4) === 45 && // -
    value.charCodeAt(7) === 45 &&
    value.charCodeAt(10) === 84 && // T (GLOB is case-sensitive)
    value.charCodeAt(13) === 58 && // :
    value.charCodeAt(16) === 58 &&
    digitsAt(value, 0, 4) &&
    digitsAt(value, 5, 7) &&
    digitsAt(value, 8, 10) &&
    digitsAt(value, 11, 13) &&
    digitsAt(value, 14, 16) &&
    digitsAt(value, 17, 19) &&
    digitsAt(value, 20, 26)
  );
}

/** {@link isValidTimestamp}'s field ranges, for a text of the canonical shape. */
function canonicalFieldsInRange(value: string): boolean {
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (
    year >= 1000 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= days &&
    twoDigits(value, 11) <= 23 &&
    twoDigits(value, 14) <= 59 &&
    twoDigits(value, 17) <= 59
  );
}

/** The last millisecond of year 9999, the latest instant the canonical format can write. */
const LAST_CANONICAL_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * For a text {@link isOutOfRangeCanonical} accepts: the epoch milliseconds of the first valid
 * timestamp its text order puts after it, which is when the text is passed (it compares `<=`
 * now's text exactly when that instant is `<=` now): hour 47 of June 29 is June 30 00:00, day 00
 * of July is July 1, Feb 30 is Mar 1 (its rolled-over instant, Mar 2 or June 30 23:00, is not).
 * After the last such text of year 9999: the last millisecond of 9999.
 */
export function outOfRangeCeilingMs(value: string): number {
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  const [month, day, hour, minute] = [5, 8, 11, 14].map((at) => twoDigits(value, at)) as [
    number,
    number,
    number,
    number,
  ];
  if (year < 1000) return Date.UTC(1000, 0, 1);
  // The first field out of range decides (the later ones only order texts within it). Date.UTC
  // carries a next day, hour or minute over the month's end correctly from in-range fields.
  let at: number;
  if (month === 0) at = Date.UTC(year, 0, 1);
  else if (month > 12) at = Date.UTC(year + 1, 0, 1);
  else if (day === 0) at = Date.UTC(year, month - 1, 1);
  else if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) at = Date.UTC(year, month, 1);
  else if (hour > 23) at = Date.UTC(year, month - 1, day + 1);
  else if (minute > 59) at = Date.UTC(year, month - 1, day, hour + 1);
  else at = Date.UTC(year, month - 1, day, hour, minute + 1); // the second is out of range
  return Math.min(at, LAST_CANONICAL_MS);
}
