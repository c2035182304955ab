// The hash functions of `hash-type` (sdbm, djb2, wt6, crc32, none) and the `avalanche` modifier,
// computing the same 32-bit values as HAProxy so that a key lands on the same server. Keys are
// latin1 strings (one character per byte), as the HTTP codecs produce them; every result is an
// unsigned 32-bit integer.

import type { HashTypeConfig } from '../config/model.js';

/** sdbm: h = c + (h << 6) + (h << 16) - h over the bytes of `key`. HAProxy's default. */
export function hashSdbm(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i) & 0xff;
    // The shifted terms are int32; the exact sum stays far below 2^53, >>> 0 reduces it mod 2^32.
    h = (c + (h << 6) + (h << 16) - h) >>> 0;
  }
  return h;
}

/** djb2 (Bernstein): h = h * 33 + c, starting from 5381. */
export function hashDjb2(key: string): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) {
    h = ((h << 5) + h + (key.charCodeAt(i) & 0xff)) >>> 0;
  }
  return h;
}

/** wt6: HAProxy's own hash, two 32-bit lanes rotated by amounts derived from the data. */
export function hashWt6(key: string): number {
  let h0 = 0xa53c965a;
  let h1 = 0x5ca6953a;
  let step0 = 6;
  let step1 = 18;
  for (let i = 0; i < key.length; i++) {
    let t = key.charCodeAt(i) & 0xff;
    h0 = ~(h0 ^ t) >>> 0;
    h1 = ~(h1 + t) >>> 0;
    // A rotation by 0 must leave the value alone: JS masks shift counts to 5 bits, so
    // `x >>> 32` is `x` and `(x << 0) | x` is still `x`, like the x86 behaviour HAProxy relies on.
    t = ((h1 << step0) | (h1 >>> (32 - step0))) >>> 0;
    h1 = ((h0 << step1) | (h0 >>> (32 - step1))) >>> 0;
    h0 = t;
    t = ((h0 >>> 16) ^ h1) & 0xffff;
    step0 = t & 0x1f;
    step1 = t >>> 11;
  }
  return (h0 ^ h1) >>> 0;
}

/** CRC32 as used by Ethernet, gzip and PNG (reflected polynomial 0xedb88320). */
export function hashCrc32(key: string): number {
  let h = 0xffffffff;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i) & 0xff;
    for (let bit = 0; bit < 8; bit++) h = (h >>> 1) ^ (h & 1 ? 0xedb88320 : 0);
  }
  return ~h >>> 0;
}

// 2^63 - 1 and 2^63 as digit strings: the saturation bounds of a signed 64-bit integer.
const INT64_MAX_DIGITS = '9223372036854775807';
const INT64_MIN_DIGITS = '9223372036854775808';

/**
 * `none`: the key is a decimal integer used as the hash. Parses an optional sign and the leading
 * digits like a signed 64-bit read that saturates, and returns the low 32 bits.
 */
export function hashNone(key: string): number {
  let i = 0;
  let neg = false;
  const c0 = key.charCodeAt(0);
  if (c0 === 0x2d) {
    neg = true;
    i = 1;
  } else if (c0 === 0x2b) {
    i = 1;
  }
  let lo = 0; // value mod 2^32
  let sigStart = -1; // first significant (non-leading-zero) digit
  let end = i;
  for (; end < key.length; end++) {
    const d = key.charCodeAt(end) - 0x30;
    if (d < 0 || d > 9) break;
    if (sigStart < 0 && d !== 0) sigStart = end;
    lo = (lo * 10 + d) % 4294967296;
  }
  const sigLen = sigStart < 0 ? 0 : end - sigStart;
  if (sigLen >= 19) {
    if (!neg && cmpDigits(key, sigStart, end, INT64_MAX_DIGITS) > 0) return 0xffffffff; // 2^63 - 1
    if (neg && cmpDigits(key, sigStart, end, INT64_MIN_DIGITS) >= 0) return 0; // -2^63: low bits 0
  }
  return neg ? (4294967296 - lo) % 4294967296 : lo;
}

/** Compares the digits `s[a..b)` (no leading zeros) with the digit string `bound` as numbers. */
function cmpDigits(s: string, a: number, b: number, bound: string): number {
  const len = b - a;
  if (len !== bound.length) return len < bound.length ? -1 : 1;
  for (let i = 0; i < len; i++) {
    const d = s.charCodeAt(a + i) - bound.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The `avalanche` modifier: Bob Jenkins' 32-bit full avalanche integer hash followed by a
 * multiplication by a large prime, which spreads close inputs all over the 32-bit space.
 */
export function fullHash(a: number): number {
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0;
  a = (a ^ 0xc761c23c ^ (a >>> 19)) >>> 0;
  a = (a + 0x165667b1 + (a << 5)) >>> 0;
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0;
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0;
  a = (a ^ 0xb55a4f09 ^ (a >>> 16)) >>> 0;
  return Math.imul(a, 3221225473 | 0) >>> 0;
}

/** Hashes `key` with the function and modifier of `hash-type` (HAProxy's gen_hash). */
export function genHash(key: string, ht: HashTypeConfig): number {
  let h: number;
  switch (ht.fn) {
    case 'djb2':
      h = hashDjb2(key);
      break;
    case 'wt6':
      h = hashWt6(key);
      break;
    case 'crc32':
      h = hashCrc32(key);
      break;
    case 'none':
      h = hashNone(key);
      break;
    default:
      h = hashSdbm(key);
      break;
  }
  return ht.avalanche ? fullHash(h) : h;
}

// Scratch space for IPv6 parsing; the data plane is single-threaded, so one buffer suffices.
const v6Groups = new Uint16Array(8);

/**
 * `balance source`: the client address folded into 32 bits by XORing its 32-bit big-endian
 * words (IPv4: the address itself), then avalanched when the modifier is set. HAProxy ignores
 * the hash function of `hash-type` here. Returns -1 when `addr` is not an IP address.
 */
export function sourceHash(addr: string, avalanche: boolean): number {
  let h: number;
  if (addr.indexOf(':') < 0) {
    h = parseIpv4(addr, 0, addr.length);
    if (h < 0) return -1;
  } else {
    if (!parseIpv6(addr, v6Groups)) return -1;
    h = 0;
    for (let w = 0; w < 4; w++) h ^= ((v6Groups[2 * w]! << 16) | v6Groups[2 * w + 1]!) >>> 0;
    h >>>= 0;
  }
  return avalanche ? fullHash(h) : h;
}

/** Parses dotted-quad IPv4 text in `s[a..b)`; returns the address as a u32, or -1. */
function parseIpv4(s: string, a: number, b: number): number {
  let v = 0;
  let parts = 0;
  let i = a;
  while (parts < 4) {
    let n = 0;
    let digits = 0;
    while (i < b) {
      const d = s.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || n > 255) return -1;
    v = v * 256 + n;
    parts++;
    if (parts < 4) {
      if (i >= b || s.charCodeAt(i) !== 0x2e) return -1;
      i++;
    }
  }
  return i === b ? v : -1;
}

/** Parses IPv6 text (with `::`, an embedded IPv4 tail and an optional `%zone`) into 8 groups. */
function parseIpv6(s: string, out: Uint16Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let a = 0;
  if (s.charCodeAt(0) === 0x5b && s.charCodeAt(end - 1) === 0x5d) {
    a = 1; // tolerate a bracketed literal
    end--;
  }
  out.fill(0);
  let n = 0; // groups written
  let gap = -1; // where "::" was seen
  let i = a;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    if (n >= 8) return false;
    // An IPv4 tail takes the last two groups.
    let j = i;
    let hexDigits = 0;
    let val = 0;
    let dot = false;
    while (j < end) {
      const c = s.charCodeAt(j);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else {
        if (c === 0x2e) dot = true;
        break;
      }
      val = val * 16 + d;
      hexDigits++;
      j++;
    }
    if (dot) {
      if (n > 6) return false;
      const v4 = parseIpv4(s, i, end);
      if (v4 < 0) return false;
      out[n++] = v4 >>> 16;
      out[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (hexDigits === 0 || hexDigits > 4) return false;
    out[n++] = val;
    i = j;
    if (i >= end) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i >= end) {
      return false; // trailing single colon
    }
  }
  if (gap < 0) return n === 8;
  if (n >= 8) return false;
  // Move the groups after "::" to the end.
  const tail = n - gap;
  for (let k = 0; k < tail; k++) {
    out[7 - k] = out[n - 1 - k]!;
    out[n - 1 - k] = 0;
  }
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}
