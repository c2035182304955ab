// Pattern matching (HAProxy's pattern.c): how patterns are parsed for each match method, how they
// are indexed, and how a sample is matched. Everything is built at configuration time; matching
// allocates nothing and compiles no regular expression.
//
// Exact strings use a hash map and prefixes are tried longest first, IPv4/IPv6 networks longest
// prefix first: that is what HAProxy's trees give, and it matters for maps (map_beg, map_ip).
// Patterns read with -i go to plain lists, as in HAProxy.

import { bitsFromMask, isV4Mapped, lastV4, parseNet4, parseNet6, prefixEquals } from './addr.js';
import { PatMatch } from './registry.js';
import { castSample, Meth, methId, Sample, SmpT, strictInt } from './sample.js';

/** Names accepted by `-m`, by method number. */
export const PAT_MATCH_NAMES = ['found', 'bool', 'int', 'ip', 'bin', 'len', 'str', 'beg', 'sub', 'dir', 'dom', 'end', 'reg', 'regm'];

/** Sample type each method works on (HAProxy's pat_match_types). */
export function patExpectType(m: PatMatch): SmpT {
  switch (m) {
    case PatMatch.Found:
    case PatMatch.Bool:
    case PatMatch.Int:
      return SmpT.Sint;
    case PatMatch.Ip:
      return SmpT.Addr;
    case PatMatch.Bin:
      return SmpT.Bin;
    case PatMatch.Meth:
      return SmpT.Meth;
    default:
      return SmpT.Str;
  }
}

/** A value attached to a map entry, copied into the sample on a hit. */
export interface MapValue {
  readonly type: SmpT;
  readonly num: number;
  readonly str: string;
  readonly ip6: Uint8Array | null;
}

/** One parsed pattern. Every field is always present so that all patterns share one shape. */
export interface Pattern {
  /** Text of string-like patterns (byte string), hex-decoded bytes of `bin` ones. */
  str: string;
  /** Integer ranges (int, len); NaN = unbounded. */
  min: number;
  max: number;
  re: RegExp | null;
  v4: number;
  v4mask: number;
  v6: Uint8Array | null;
  v6prefix: number;
  meth: Meth;
  data: MapValue | null;
}

function newPattern(): Pattern {
  return { str: '', min: NaN, max: NaN, re: null, v4: 0, v4mask: 0, v6: null, v6prefix: 0, meth: Meth.Other, data: null };
}

/** The pattern returned by found/bool matches, which have no pattern to return. */
const ANY_PATTERN: Pattern = Object.freeze(newPattern()) as Pattern;

/**
 * Compiles a regular expression once. PCRE's leading "(?i)" becomes the i flag; errors carry
 * HAProxy's wording.
 */
export function compileRegex(src: string, icase: boolean, global = false): RegExp {
  let s = src;
  let flags = icase ? 'i' : '';
  if (s.startsWith('(?i)')) {
    s = s.slice(4);
    if (!icase) flags += 'i';
  }
  if (global) flags += 'g';
  try {
    return new RegExp(s, flags);
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
    throw new Error(`regex '${src}' is invalid (error=${why})`);
  }
}

/** Parses `text` as a pattern of method `m`; throws an Error with HAProxy's message. */
export function parsePattern(m: PatMatch, text: string, icase: boolean, noResolve: boolean): Pattern {
  const p = newPattern();
  switch (m) {
    case PatMatch.Int:
    case PatMatch.Len:
      parseIntRange(text, p);
      break;
    case PatMatch.Ip: {
      const n4 = parseNet4(text, noResolve);
      if (n4) {
        p.v4 = n4.addr;
        p.v4mask = n4.mask;
        break;
      }
      const n6 = parseNet6(text);
      if (!n6) throw new Error(`'${text}' is not a valid IPv4 or IPv6 address`);
      p.v6 = n6.addr;
      p.v6prefix = n6.prefix;
      break;
    }
    case PatMatch.Bin:
      p.str = parseHex(text);
      break;
    case PatMatch.Reg:
    case PatMatch.Regm:
      p.str = text;
      p.re = compileRegex(text, icase);
      break;
    case PatMatch.Meth:
      p.str = text;
      p.meth = methId(text);
      break;
    case PatMatch.Found:
    case PatMatch.Bool:
      break;
    default:
      p.str = text;
  }
  return p;
}

/** HAProxy's pat_parse_int: "n", "a:b", ":b", "a:" (or '-' as separator). */
function parseIntRange(text: string, p: Pattern): void {
  const notRange = (): never => {
    throw new Error(`'${text}' is not a valid number range`);
  };
  if (text.length === 0) notRange();
  let sep = 0;
  while (sep < text.length && text[sep] !== ':' && text[sep] !== '-') sep++;
  if (sep === text.length) {
    const v = strictInt(text);
    if (Number.isNaN(v)) throw new Error(`'${text}' is not a number`);
    p.min = p.max = v;
    return;
  }
  if (sep === 0 && text.length > 1) {
    p.max = strictInt(text.slice(1));
    if (Number.isNaN(p.max)) notRange();
    return;
  }
  if (sep === text.length - 1) {
    p.min = strictInt(text.slice(0, sep));
    if (Number.isNaN(p.min)) notRange();
    return;
  }
  p.min = strictInt(text.slice(0, sep));
  p.max = strictInt(text.slice(sep + 1));
  if (Number.isNaN(p.min) || Number.isNaN(p.max) || p.min > p.max) notRange();
}

function parseHex(text: string): string {
  if (text.length % 2) throw new Error('an even number of hex digit is expected');
  let out = '';
  for (let i = 0; i < text.length; i += 2) {
    const a = hexDigit(text.charCodeAt(i));
    const b = hexDigit(text.charCodeAt(i + 1));
    if (a < 0) throw new Error(`an hex digit is expected (found '${text[i]}')`);
    if (b < 0) throw new Error(`an hex digit is expected (found '${text[i + 1]}')`);
    out += String.fromCharCode(a * 16 + b);
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** ASCII case-insensitive comparison of a[ai..ai+len) with b[bi..bi+len). */
export function eqNoCase(a: string, ai: number, b: string, bi: number, len: number): boolean {
  for (let k = 0; k < len; k++) {
    let x = a.charCodeAt(ai + k);
    let y = b.charCodeAt(bi + k);
    if (x === y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}

const DELIM_DIR = '/?';
const DELIM_DOM = '/?.:';

/** Removes the delimiters around a dir/dom pattern (HAProxy ignores them). */
function stripDelims(pat: string, delims: string): string {
  let a = 0;
  let b = pat.length;
  while (a < b && delims.includes(pat[a]!)) a++;
  while (b > a && delims.includes(pat[b - 1]!)) b--;
  return pat.slice(a, b);
}

/** HAProxy's match_word: `pat` (already stripped) is a delimiter-bounded word of `s`. */
function matchWord(s: string, pat: string, icase: boolean, delims: string): boolean {
  const pl = pat.length;
  if (pl === 0) return s.length === 0 || delims.includes(s[s.length - 1]!);
  if (pl > s.length) return false;
  let mayMatch = true;
  const end = s.length - pl;
  for (let c = 0; c <= end; c++) {
    if (delims.includes(s[c]!)) {
      mayMatch = true;
      continue;
    }
    if (!mayMatch) continue;
    const same = icase ? eqNoCase(s, c, pat, 0, pl) : s.startsWith(pat, c);
    if (same && (c === end || delims.includes(s[c + pl]!))) return true;
    mayMatch = false;
  }
  return false;
}

/** Patterns of one source (the inline ones, or one -f file) sharing the same flags. */
export interface PatternGroup {
  add(p: Pattern): void;
  /** Called once every pattern was added. */
  finish(): void;
  match(s: Sample): Pattern | null;
}

class ListGroup implements PatternGroup {
  readonly list: Pattern[] = [];
  constructor(
    readonly m: PatMatch,
    readonly icase: boolean,
  ) {}

  add(p: Pattern): void {
    if (this.m === PatMatch.Dir) p.str = stripDelims(p.str, DELIM_DIR);
    else if (this.m === PatMatch.Dom) p.str = stripDelims(p.str, DELIM_DOM);
    this.list.push(p);
  }

  finish(): void {
    // Prefixes are tried longest first, like HAProxy's prefix tree (only without -i).
    if (this.m === PatMatch.Beg && !this.icase) this.list.sort((a, b) => b.str.length - a.str.length);
  }

  match(s: Sample): Pattern | null {
    const list = this.list;
    const v = s.str;
    const icase = this.icase;
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      if (this.test(p, v, s, icase)) return p;
    }
    return null;
  }

  private test(p: Pattern, v: string, s: Sample, icase: boolean): boolean {
    switch (this.m) {
      case PatMatch.Str:
        return p.str.length === v.length && (icase ? eqNoCase(p.str, 0, v, 0, v.length) : p.str === v);
      case PatMatch.Bin:
        return p.str === v;
      case PatMatch.Beg:
        return p.str.length <= v.length && (icase ? eqNoCase(v, 0, p.str, 0, p.str.length) : v.startsWith(p.str));
      case PatMatch.End:
        return (
          p.str.length <= v.length &&
          (icase ? eqNoCase(v, v.length - p.str.length, p.str, 0, p.str.length) : v.endsWith(p.str))
        );
      case PatMatch.Sub:
        if (!icase) return v.includes(p.str);
        for (let c = 0; c + p.str.length <= v.length; c++) if (eqNoCase(v, c, p.str, 0, p.str.length)) return true;
        return false;
      case PatMatch.Dir:
        return matchWord(v, p.str, icase, DELIM_DIR);
      case PatMatch.Dom:
        return matchWord(v, p.str, icase, DELIM_DOM);
      case PatMatch.Reg:
      case PatMatch.Regm:
        return p.re!.test(v);
      case PatMatch.Int:
        return (Number.isNaN(p.min) || p.min <= s.num) && (Number.isNaN(p.max) || s.num <= p.max);
      case PatMatch.Len:
        return (Number.isNaN(p.min) || p.min <= v.length) && (Number.isNaN(p.max) || v.length <= p.max);
      case PatMatch.Meth:
        if (p.meth !== Meth.Other) return s.num === p.meth;
        // A known method never equals a text pattern, even with -i (as HAProxy).
        return s.num === Meth.Other && v.length === p.str.length && (icase ? eqNoCase(v, 0, p.str, 0, v.length) : v === p.str);
      default:
        return false;
    }
  }
}

/** Exact strings without -i: a hash lookup; the first of duplicate patterns wins. */
class StrMapGroup implements PatternGroup {
  private readonly map = new Map<string, Pattern>();
  add(p: Pattern): void {
    if (!this.map.has(p.str)) this.map.set(p.str, p);
  }
  finish(): void {}
  match(s: Sample): Pattern | null {
    return this.map.get(s.str) ?? null;
  }
}

const tmp6 = new Uint8Array(16);

/** Addresses and networks: contiguous IPv4 masks and IPv6 prefixes longest first, then the rest. */
class IpGroup implements PatternGroup {
  private v4: Array<{ p: Pattern; bits: number }> = [];
  private v6: Pattern[] = [];
  private readonly v4odd: Pattern[] = [];

  add(p: Pattern): void {
    if (p.v6) {
      this.v6.push(p);
      return;
    }
    const bits = bitsFromMask(p.v4mask);
    if (bits < 0) this.v4odd.push(p);
    else this.v4.push({ p, bits });
  }

  finish(): void {
    this.v4.sort((a, b) => b.bits - a.bits);
    this.v6.sort((a, b) => b.v6prefix - a.v6prefix);
  }

  private find4(v: number): Pattern | null {
    const l = this.v4;
    for (let i = 0; i < l.length; i++) {
      const e = l[i]!;
      if (((v ^ e.p.v4) & e.p.v4mask) === 0) return e.p;
    }
    return null;
  }

  private find6(a: Uint8Array): Pattern | null {
    const l = this.v6;
    for (let i = 0; i < l.length; i++) {
      const p = l[i]!;
      if (prefixEquals(a, p.v6!, p.v6prefix)) return p;
    }
    return null;
  }

  match(s: Sample): Pattern | null {
    let v4 = -1;
    if (s.type === SmpT.Ipv4) {
      v4 = s.num;
      const hit = this.find4(v4);
      if (hit) return hit;
      if (this.v6.length > 0) {
        // An IPv4 sample is also tried as ::ffff:a.b.c.d against IPv6 networks.
        tmp6.fill(0, 0, 10);
        tmp6[10] = tmp6[11] = 0xff;
        tmp6[12] = v4 >>> 24;
        tmp6[13] = (v4 >>> 16) & 255;
        tmp6[14] = (v4 >>> 8) & 255;
        tmp6[15] = v4 & 255;
        const h6 = this.find6(tmp6);
        if (h6) return h6;
      }
    } else if (s.type === SmpT.Ipv6) {
      const a = s.ip6;
      const hit = this.find6(a);
      if (hit) return hit;
      v4 = embeddedV4(a);
      if (v4 >= 0) {
        const h4 = this.find4(v4);
        if (h4) return h4;
      }
    } else {
      return null;
    }
    if (v4 < 0) return null;
    const odd = this.v4odd;
    for (let i = 0; i < odd.length; i++) {
      const p = odd[i]!;
      if (((v4 ^ p.v4) & p.v4mask) === 0) return p;
    }
    return null;
  }
}

/** IPv4 address carried by ::ffff:a.b.c.d, ::a.b.c.d or 2002:a.b.c.d:: (6to4); -1 otherwise. */
function embeddedV4(a: Uint8Array): number {
  let zero8 = true;
  for (let i = 0; i < 8; i++) if (a[i] !== 0) zero8 = false;
  if (zero8 && ((a[8] === 0 && a[9] === 0 && a[10] === 0 && a[11] === 0) || isV4Mapped(a))) return lastV4(a);
  if (a[0] === 0x20 && a[1] === 0x02) return ((a[2]! << 24) | (a[3]! << 16) | (a[4]! << 8) | a[5]!) >>> 0;
  return -1;
}

/** Creates the group that indexes patterns of method `m`. */
export function newPatternGroup(m: PatMatch, icase: boolean): PatternGroup {
  if (m === PatMatch.Ip) return new IpGroup();
  if (m === PatMatch.Str && !icase) return new StrMapGroup();
  return new ListGroup(m, icase);
}

/**
 * What an ACL expression or a map matches samples with: the method, the groups of patterns in
 * declaration order (-f files, then inline patterns).
 */
export class PatternHead {
  readonly groups: PatternGroup[] = [];
  constructor(
    readonly method: PatMatch,
    /** The type samples are cast to before matching. */
    readonly expectType: SmpT,
  ) {}

  /** Matches the sample (cast in place); the matching pattern or null. */
  exec(s: Sample): Pattern | null {
    if (this.method === PatMatch.Found) return ANY_PATTERN;
    if (!castSample(s, this.expectType)) return null;
    if (this.method === PatMatch.Bool) return this.groups.length > 0 && s.num !== 0 ? ANY_PATTERN : null;
    const g = this.groups;
    for (let i = 0; i < g.length; i++) {
      const p = g[i]!.match(s);
      if (p) return p;
    }
    return null;
  }
}
