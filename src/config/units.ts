// Numbers, times and sizes as HAProxy reads them (configuration.txt 2.5; tools.c parse_time_err,
// parse_size_err). Times are returned in milliseconds, sizes in bytes.

export type TimeUnit = 'us' | 'ms' | 's' | 'm' | 'h' | 'd';

/** Outcome of reading a time value. */
export type TimeResult =
  | { ok: true; value: number; /** Characters after a valid unit (HAProxy warns and ignores them). */ trailing?: string }
  | { ok: false; error: 'overflow' }
  | { ok: false; error: 'underflow' }
  | { ok: false; error: 'char'; /** The unexpected character ('' at end of string). */ char: string };

// Unit sizes in microseconds, so that "us" and "ms" conversions stay exact.
const UNIT_US: Record<TimeUnit, bigint> = {
  us: 1n,
  ms: 1000n,
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
};

/**
 * Reads a time the way HAProxy does: digits, then an optional unit (us, ms, s, m, h, d). Without
 * a unit the number is taken in `outUnit` (ms for almost every keyword). The result is in
 * `outUnit`, rounded up, so "1us" is 1 ms and only a true "0" gives 0.
 */
export function parseTimeValue(text: string, outUnit: TimeUnit = 'ms'): TimeResult {
  let i = 0;
  let value = 0n;
  if (!isDigit(text[0])) return { ok: false, error: 'char', char: text[0] ?? '' };
  while (i < text.length && isDigit(text[i])) {
    value = value * 10n + BigInt(text.charCodeAt(i) - 48);
    i++;
  }
  let unit: TimeUnit = outUnit;
  let trailing: string | undefined;
  if (i < text.length) {
    const c = text[i];
    if (c === 'u' && text[i + 1] === 's') {
      unit = 'us';
      i += 2;
    } else if (c === 'm' && text[i + 1] === 's') {
      unit = 'ms';
      i += 2;
    } else if (c === 'm' || c === 's' || c === 'h' || c === 'd') {
      unit = c;
      i += 1;
    } else {
      return { ok: false, error: 'char', char: c };
    }
    if (i < text.length) trailing = text.slice(i);
  }
  const num = value * UNIT_US[unit];
  const den = UNIT_US[outUnit];
  const result = (num + den - 1n) / den;
  if (result >= 0x80000000n) return { ok: false, error: 'overflow' };
  if (result === 0n && value !== 0n) return { ok: false, error: 'underflow' };
  return trailing === undefined ? { ok: true, value: Number(result) } : { ok: true, value: Number(result), trailing };
}

/**
 * Parses a time such as "5s", "100ms", "2m" or "250" (ms) into milliseconds.
 * Returns undefined for anything HAProxy would reject or warn about.
 */
export function parseTime(str: string): number | undefined {
  const r = parseTimeValue(str);
  return r.ok && r.trailing === undefined ? r.value : undefined;
}

/** Outcome of reading a size. */
export type SizeResult = { ok: true; value: number } | { ok: false; char: string };

/**
 * Reads a size the way HAProxy does: an unsigned 32-bit integer with an optional k, m or g
 * suffix (powers of 1024, either case). Overflow is reported at the offending character.
 */
export function parseSizeValue(text: string): SizeResult {
  if (!isDigit(text[0])) return { ok: false, char: text[0] ?? '' };
  let value = 0;
  let i = 0;
  while (i < text.length && isDigit(text[i])) {
    value = value * 10 + (text.charCodeAt(i) - 48);
    if (value > 0xffffffff) return { ok: false, char: text[i] };
    i++;
  }
  if (i === text.length) return { ok: true, value };
  const shift = { k: 10, m: 20, g: 30 }[text[i].toLowerCase()];
  if (shift === undefined || i + 1 !== text.length) return { ok: false, char: text[shift === undefined ? i : i + 1] };
  const scaled = value * 2 ** shift;
  if (scaled > 0xffffffff) return { ok: false, char: text[i] };
  return { ok: true, value: scaled };
}

/** Parses a size such as "16k", "1m" or "512" into bytes; undefined when invalid. */
export function parseSize(str: string): number | undefined {
  const r = parseSizeValue(str);
  return r.ok ? r.value : undefined;
}

/**
 * C's atol() as HAProxy uses it for most integer keywords: optional blanks and sign, then the
 * longest run of digits; anything else stops the conversion (so "abc" is 0 and "10k" is 10).
 */
export function atol(str: string): number {
  const m = /^[ \t\n\r\f\v]*([+-]?)(\d*)/.exec(str);
  if (!m || m[2] === '') return 0;
  const n = Number(m[2]);
  return m[1] === '-' ? -n : n;
}

/** True when `str` is a plain decimal integer, optionally signed. */
export function isCleanInteger(str: string): boolean {
  return /^[+-]?\d+$/.test(str);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}
