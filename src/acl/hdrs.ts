// Walking header values, cookies and query-string parameters in place, the way HAProxy's
// http_find_header(), http_extract_cookie_value() and http_find_next_url_param() do. The cursor
// lives in the working sample (c0..c3, vs, ve) so that iterating over every value of a header for
// an ACL allocates nothing but the returned substrings.

import type { HtxHeaders } from '../htx/index.js';
import type { Sample } from './sample.js';

/** Case-insensitive equality of a header name with a lower-case name, without allocating. */
export function nameIs(n: string, lname: string): boolean {
  if (n.length !== lname.length) return false;
  for (let i = 0; i < n.length; i++) {
    let c = n.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lname.charCodeAt(i)) return false;
  }
  return true;
}

function isLws(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** End of a comma-separated value starting at `a`: the next comma outside double quotes. */
function valueEnd(v: string, a: number): number {
  let quoted = false;
  let pair = false;
  for (let i = a; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (pair) pair = false;
    else if (quoted) {
      if (c === 92) pair = true;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 44) return i;
  }
  return v.length;
}

/** Starts a header walk. */
export function hdrWalkReset(s: Sample): void {
  s.c0 = -2;
  s.c1 = 0;
}

function extract(v: string, from: number, full: boolean, s: Sample): void {
  let a = from;
  while (a < v.length && isLws(v.charCodeAt(a))) a++;
  const e = full ? v.length : valueEnd(v, a);
  let b = e;
  while (b > a && isLws(v.charCodeAt(b - 1))) b--;
  s.c1 = e;
  s.vs = a;
  s.ve = b;
}

/**
 * Moves to the next value of header `lname` ("" = any header); values separated by commas are
 * distinct unless `full`. On success the value is h[s.c0 + 1].slice(s.vs, s.ve).
 */
export function hdrWalkNext(h: HtxHeaders, lname: string, full: boolean, s: Sample): boolean {
  let i = s.c0;
  if (i >= 0 && !full && i < h.length) {
    const v = h[i + 1]!;
    let p = s.c1;
    if (p < v.length) {
      if (v.charCodeAt(p) === 44) p++;
      extract(v, p, false, s);
      return true;
    }
  }
  for (i = i + 2; i < h.length; i += 2) {
    if (lname.length > 0 && !nameIs(h[i]!, lname)) continue;
    s.c0 = i;
    extract(h[i + 1]!, 0, full, s);
    return true;
  }
  s.c0 = h.length;
  return false;
}

/** HAProxy keeps the last 10 values to answer negative occurrences. */
export const MAX_HDR_HISTORY = 10;

/**
 * Occurrence `occ` of a header's values (HAProxy's http_get_htx_hdr): 1 = first, -1 = last,
 * 0 = the next one from the current cursor. Sets the value bounds like hdrWalkNext.
 */
export function hdrGetOcc(h: HtxHeaders, lname: string, occ: number, full: boolean, s: Sample): boolean {
  if (occ >= 0) {
    while (hdrWalkNext(h, lname, full, s)) {
      occ--;
      if (occ <= 0) return true;
    }
    return false;
  }
  if (-occ > MAX_HDR_HISTORY) return false;
  let found = 0;
  while (hdrWalkNext(h, lname, full, s)) found++;
  if (-occ > found) return false;
  hdrWalkReset(s);
  for (let k = found + occ; k >= 0; k--) hdrWalkNext(h, lname, full, s);
  return true;
}

/** Number of values of a header (all headers for ""), as hdr_cnt/fhdr_cnt count them. */
export function hdrCount(h: HtxHeaders, lname: string, full: boolean, s: Sample): number {
  hdrWalkReset(s);
  let n = 0;
  while (hdrWalkNext(h, lname, full, s)) n++;
  return n;
}

function isSpHt(c: number): boolean {
  return c === 32 || c === 9;
}

/** End of a cookie value starting at `a`: the next ';' or ',' outside double quotes. */
function cookieValueEnd(v: string, a: number, end: number): number {
  let quoted = false;
  let pair = false;
  for (let i = a; i < end; i++) {
    const c = v.charCodeAt(i);
    if (pair) pair = false;
    else if (quoted) {
      if (c === 92) pair = true;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 44 || c === 59) return i;
  }
  return end;
}

/**
 * HAProxy's http_extract_cookie_value over v[from..end): finds the next cookie called `name`
 * ("" = any). On success sets s.vs/s.ve to its value and returns where to continue, else -1.
 * `list` = a Cookie header (several cookies); a Set-Cookie header only has one.
 */
export function extractCookie(v: string, from: number, end: number, name: string, list: boolean, s: Sample): number {
  const nl = name.length;
  let next: number;
  for (let att = from; att + nl + 1 < end; att = next + 1) {
    while (att < end && isSpHt(v.charCodeAt(att))) att++;
    let equal = att;
    let attEnd = att;
    while (equal < end) {
      const c = v.charCodeAt(equal);
      if (c === 61 || c === 59 || (list && c === 44)) break;
      equal++;
      if (isSpHt(c)) continue;
      attEnd = equal;
    }
    let vb: number;
    let ve: number;
    if (equal < end && v.charCodeAt(equal) === 61) {
      vb = equal + 1;
      while (vb < end && isSpHt(v.charCodeAt(vb))) vb++;
      next = cookieValueEnd(v, vb, end);
      ve = next;
      while (ve > vb && isSpHt(v.charCodeAt(ve - 1))) ve--;
    } else {
      vb = ve = next = equal;
    }
    // "$Path"-like attributes and cookies without '=' are skipped.
    if (v.charCodeAt(att) === 36) continue;
    if (equal === next) continue;
    if (nl === 0 || (attEnd - att === nl && v.startsWith(name, att))) {
      s.vs = vb;
      s.ve = ve;
      return next + 1;
    }
    if (!list) break;
  }
  return -1;
}

function isParamDelim(c: number, delim: number): boolean {
  return c === 38 || c === 59 || c === delim;
}

/**
 * Next value of query parameter `name` ("" = any parameter) in u[from..): HAProxy's
 * http_find_next_url_param. Sets s.vs/s.ve and returns true when found.
 */
export function nextUrlParam(u: string, from: number, name: string, delim: number, s: Sample): boolean {
  const end = u.length;
  const nl = name.length;
  let vs: number;
  if (nl > 0) {
    let pos = from;
    let found = -1;
    while (pos < end) {
      const equal = pos + nl;
      if (equal >= end) break;
      if (u.charCodeAt(equal) === 61) {
        if (u.startsWith(name, pos)) {
          found = pos;
          break;
        }
        pos += nl + 1;
      }
      while (pos < end && !isParamDelim(u.charCodeAt(pos), delim)) pos++;
      if (pos >= end) break;
      pos++;
    }
    if (found < 0) return false;
    vs = found + nl + 1;
  } else {
    const eq = u.indexOf('=', from);
    if (eq < 0) return false;
    vs = eq + 1;
  }
  let ve = vs;
  while (ve < end && !isParamDelim(u.charCodeAt(ve), delim)) ve++;
  s.vs = vs;
  s.ve = ve;
  return true;
}
