// The working sample: one mutable object per compiled expression, reused for every evaluation so
// that fetching and converting allocate nothing but the strings they produce. Types and casts
// follow HAProxy's sample.c: a cast that HAProxy marks "none" leaves the type tag unchanged.

import { formatIpv4, formatIpv6, parseIpv4Strict, parseIpv6, isV4Mapped } from './addr.js';
import type { SampleValue } from './types.js';

/** Sample types (HAProxy's SMP_T_*). BIN is stored as a byte string, like STR. */
export const enum SmpT {
  Any = 0,
  Bool = 1,
  Sint = 2,
  Addr = 3,
  Ipv4 = 4,
  Ipv6 = 5,
  Str = 6,
  Bin = 7,
  Meth = 8,
}

/** Sample flags (HAProxy's SMP_F_*) that the engine looks at. */
export const enum SmpF {
  /** More values follow: the ACL engine calls the fetch again (multi-value fetches). */
  NotLast = 1,
  /** The value may change once more data arrives. */
  MayChange = 2,
}

/** Evaluation options (HAProxy's SMP_OPT_*). */
export const enum SmpOpt {
  /** Response direction. */
  DirRes = 1,
  /** The caller (an ACL) wants every value of multi-value fetches. */
  Iterate = 2,
  /** No more data will come: fetches must not ask to wait. */
  Final = 4,
}

/** Known HTTP methods (HAProxy's HTTP_METH_*); Other for the rest. */
export const enum Meth {
  Other = 0,
  Options = 1,
  Get = 2,
  Head = 3,
  Post = 4,
  Put = 5,
  Delete = 6,
  Trace = 7,
  Connect = 8,
}

/** HAProxy's type names, for messages. */
export const SMP_TYPE_NAMES = ['any', 'bool', 'sint', 'addr', 'ipv4', 'ipv6', 'str', 'bin', 'meth'] as const;

/** Method id of an exact-case method name (find_http_meth). */
export function methId(m: string): Meth {
  switch (m) {
    case 'GET':
      return Meth.Get;
    case 'HEAD':
      return Meth.Head;
    case 'POST':
      return Meth.Post;
    case 'CONNECT':
      return Meth.Connect;
    case 'PUT':
      return Meth.Put;
    case 'OPTIONS':
      return Meth.Options;
    case 'DELETE':
      return Meth.Delete;
    case 'TRACE':
      return Meth.Trace;
    default:
      return Meth.Other;
  }
}

export class Sample {
  type: SmpT = SmpT.Any;
  /** SINT and BOOL value, IPv4 address (unsigned 32 bits), METH id. */
  num = 0;
  /** STR, BIN (byte string) and METH text. */
  str = '';
  /** IPV6 address bytes. */
  readonly ip6 = new Uint8Array(16);
  flags = 0;
  /** Cursors of multi-value fetches, kept between the calls of one iteration. */
  c0 = 0;
  c1 = 0;
  c2 = 0;
  c3 = 0;
  /** Bounds of the header value found by the header walker. */
  vs = 0;
  ve = 0;

  /** Prepares for a new evaluation. */
  reset(): void {
    this.type = SmpT.Any;
    this.flags = 0;
  }

  setStr(s: string): void {
    this.type = SmpT.Str;
    this.str = s;
  }

  setInt(n: number): void {
    this.type = SmpT.Sint;
    this.num = n;
  }

  setBool(b: boolean): void {
    this.type = SmpT.Bool;
    this.num = b ? 1 : 0;
  }
}

const INT64_MAX = 9223372036854775807;
const INT64_MIN = -9223372036854775808;

/** Clamps to the 64-bit signed range HAProxy computes in (beyond 2^53 precision is lost). */
export function clampInt(n: number): number {
  if (n >= INT64_MAX) return INT64_MAX;
  if (n <= INT64_MIN) return INT64_MIN;
  return n;
}

/** Decimal text of an integer sample, printing the 64-bit limits exactly. */
export function intToStr(n: number): string {
  if (n >= INT64_MAX) return '9223372036854775807';
  if (n <= INT64_MIN) return '-9223372036854775808';
  return String(n);
}

/** Where the last readInt64 call stopped (a second return value without allocating). */
export let readEnd = 0;

/** HAProxy's read_int64: optional sign, then digits, stopping at the first non-digit. */
export function readInt64(s: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  } else if (i < end && s.charCodeAt(i) === 43) {
    i++;
  }
  let v = 0;
  while (i < end) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  readEnd = i;
  return clampInt(neg ? -v : v);
}

/** HAProxy's strl2ic: like atoi on a bounded string, stops at the first non-digit. */
export function strl2ic(s: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end && s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  let v = 0;
  while (i < end) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  // strl2ic computes in a C int: keep the 32-bit wrap-around.
  return neg ? -v | 0 : v | 0;
}

/** HAProxy's strl2llrc: the whole string must be an optionally negative decimal; NaN if not. */
export function strictInt(s: string): number {
  if (s.length === 0) return NaN;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
  }
  let v = 0;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * The cast matrix (sample_casts[from][to]): 0 = impossible, 1 = nothing to do (the type tag is
 * kept), 2 = a conversion runs.
 */
const CASTS: readonly (readonly number[])[] = [
  /*            ANY BOOL SINT ADDR IPV4 IPV6 STR BIN METH */
  /* ANY  */ [1, 1, 1, 1, 1, 1, 1, 1, 1],
  /* BOOL */ [1, 1, 1, 0, 0, 0, 2, 2, 0],
  /* SINT */ [1, 1, 1, 2, 2, 2, 2, 2, 0],
  /* ADDR */ [1, 0, 0, 0, 0, 0, 0, 0, 0],
  /* IPV4 */ [1, 0, 2, 1, 1, 2, 2, 2, 0],
  /* IPV6 */ [1, 0, 0, 1, 2, 1, 2, 2, 0],
  /* STR  */ [1, 2, 2, 2, 2, 2, 1, 1, 2],
  /* BIN  */ [1, 0, 0, 0, 0, 0, 2, 1, 2],
  /* METH */ [1, 0, 0, 0, 0, 0, 2, 2, 1],
];

/** True when HAProxy allows a cast between the two types (checked at configuration time). */
export function canCast(from: SmpT, to: SmpT): boolean {
  return CASTS[from]![to]! !== 0;
}

/** Casts the sample in place as HAProxy does; false when the cast is impossible or fails. */
export function castSample(s: Sample, to: SmpT): boolean {
  const how = CASTS[s.type]![to]!;
  if (how === 1) return true;
  if (how === 0) return false;
  switch (s.type) {
    case SmpT.Bool:
      if (to === SmpT.Str) {
        s.str = s.num !== 0 ? '1' : '0';
        s.type = SmpT.Str;
        return true;
      }
      s.str = int64Bytes(s.num !== 0 ? 1 : 0);
      s.type = SmpT.Bin;
      return true;
    case SmpT.Sint:
      switch (to) {
        case SmpT.Addr:
        case SmpT.Ipv4:
          s.num = s.num >>> 0;
          s.type = SmpT.Ipv4;
          return true;
        case SmpT.Ipv6:
          v4ToV6(s.num >>> 0, s.ip6);
          s.type = SmpT.Ipv6;
          return true;
        case SmpT.Str:
          s.str = intToStr(s.num);
          s.type = SmpT.Str;
          return true;
        default:
          s.str = int64Bytes(s.num);
          s.type = SmpT.Bin;
          return true;
      }
    case SmpT.Ipv4:
      switch (to) {
        case SmpT.Sint:
          s.type = SmpT.Sint;
          return true;
        case SmpT.Ipv6:
          v4ToV6(s.num, s.ip6);
          s.type = SmpT.Ipv6;
          return true;
        case SmpT.Str:
          s.str = formatIpv4(s.num);
          s.type = SmpT.Str;
          return true;
        default:
          s.str = String.fromCharCode(s.num >>> 24, (s.num >>> 16) & 255, (s.num >>> 8) & 255, s.num & 255);
          s.type = SmpT.Bin;
          return true;
      }
    case SmpT.Ipv6:
      switch (to) {
        case SmpT.Ipv4:
          if (!isV4Mapped(s.ip6)) return false;
          s.num = ((s.ip6[12]! << 24) | (s.ip6[13]! << 16) | (s.ip6[14]! << 8) | s.ip6[15]!) >>> 0;
          s.type = SmpT.Ipv4;
          return true;
        case SmpT.Str:
          s.str = formatIpv6(s.ip6);
          s.type = SmpT.Str;
          return true;
        default:
          s.str = String.fromCharCode(...s.ip6);
          s.type = SmpT.Bin;
          return true;
      }
    case SmpT.Str:
      return castFromStr(s, to);
    case SmpT.Bin:
      if (to === SmpT.Str) {
        // The NUL byte ends a string.
        const z = s.str.indexOf('\0');
        if (z >= 0) s.str = s.str.slice(0, z);
        s.type = SmpT.Str;
        return true;
      }
      s.num = methId(s.str);
      s.type = SmpT.Meth;
      return true;
    case SmpT.Meth:
      s.type = to === SmpT.Str ? SmpT.Str : SmpT.Bin;
      return true;
    default:
      return false;
  }
}

function castFromStr(s: Sample, to: SmpT): boolean {
  switch (to) {
    case SmpT.Bool:
    case SmpT.Sint:
      if (s.str.length === 0) return false;
      s.num = readInt64(s.str, 0, s.str.length);
      s.type = SmpT.Sint;
      return true;
    case SmpT.Addr: {
      const v4 = parseIpv4Strict(s.str, true);
      if (v4 >= 0) {
        s.num = v4;
        s.type = SmpT.Ipv4;
        return true;
      }
      if (!parseIpv6(s.str, s.ip6)) return false;
      s.type = SmpT.Ipv6;
      return true;
    }
    case SmpT.Ipv4: {
      const v4 = parseIpv4Strict(s.str, true);
      if (v4 < 0) return false;
      s.num = v4;
      s.type = SmpT.Ipv4;
      return true;
    }
    case SmpT.Ipv6:
      if (!parseIpv6(s.str, s.ip6)) return false;
      s.type = SmpT.Ipv6;
      return true;
    case SmpT.Meth:
      s.num = methId(s.str);
      s.type = SmpT.Meth;
      return true;
    default:
      return false;
  }
}

function v4ToV6(v4: number, out: Uint8Array): void {
  out.fill(0, 0, 10);
  out[10] = 0xff;
  out[11] = 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 255;
  out[14] = (v4 >>> 8) & 255;
  out[15] = v4 & 255;
}

/** 8 bytes, big endian, of a 64-bit integer, as a byte string. */
function int64Bytes(n: number): string {
  const b = Buffer.allocUnsafe(8);
  const c = clampInt(Math.trunc(n));
  b.writeBigInt64BE(c >= INT64_MAX ? 0x7fffffffffffffffn : c <= INT64_MIN ? -0x8000000000000000n : BigInt(c));
  return b.toString('latin1');
}

/** Copies a sample out of the engine (allocates: for variables and callers that keep values). */
export function sampleToValue(s: Sample): SampleValue | null {
  switch (s.type) {
    case SmpT.Bool:
      return { type: 'bool', value: s.num !== 0 };
    case SmpT.Sint:
      return { type: 'sint', value: s.num };
    case SmpT.Ipv4:
      return { type: 'ipv4', value: formatIpv4(s.num) };
    case SmpT.Ipv6:
      return { type: 'ipv6', value: formatIpv6(s.ip6) };
    case SmpT.Str:
      return { type: 'str', value: s.str };
    case SmpT.Bin:
      return { type: 'bin', value: Buffer.from(s.str, 'latin1') };
    case SmpT.Meth:
      return { type: 'meth', value: s.str };
    default:
      return null;
  }
}

/** Loads a stored value into a working sample; false for an unparsable address. */
export function valueToSample(v: SampleValue, s: Sample): boolean {
  switch (v.type) {
    case 'bool':
      s.type = SmpT.Bool;
      s.num = v.value ? 1 : 0;
      return true;
    case 'sint':
      s.type = SmpT.Sint;
      s.num = v.value;
      return true;
    case 'ipv4': {
      const n = parseIpv4Strict(v.value, true);
      if (n < 0) return false;
      s.type = SmpT.Ipv4;
      s.num = n;
      return true;
    }
    case 'ipv6':
      s.type = SmpT.Ipv6;
      return parseIpv6(v.value, s.ip6);
    case 'str':
      s.type = SmpT.Str;
      s.str = v.value;
      return true;
    case 'bin':
      s.type = SmpT.Bin;
      s.str = v.value.toString('latin1');
      return true;
    case 'meth':
      s.type = SmpT.Meth;
      s.str = v.value;
      s.num = methId(v.value);
      return true;
  }
}
