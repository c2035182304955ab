// Extraction of the hash key from raw request parts, the way HAProxy's `balance uri`,
// `url_param` and `hdr` read them. Pure string functions over latin1 text: the Backend hands in
// what it has (request-target, header value, first body chunk) and passes the result to pick().

import type { BalanceConfig } from '../config/model.js';

type UriBalance = Extract<BalanceConfig, { algo: 'uri' }>;

/** The raw request parts a hashing algorithm may need; unset members mean "absent". */
export interface LbRequestParts {
  /** Client address text (IPv4 dotted quad or IPv6), for `source`. */
  src?: string | undefined;
  /** The request-target exactly as received (origin-form or absolute-form). */
  uri?: string | undefined;
  /** Request method, for `url_param ... check_post`. */
  method?: string | undefined;
  /** Value of the first occurrence of the `hdr(<name>)` header. */
  hdr?: string | undefined;
  /** The request body received so far (latin1), for `check_post`. */
  body?: string | undefined;
}

/**
 * The hash key of `balance` for a request, or undefined when the request has none (the
 * algorithm then falls back to round robin). Non-hashing algorithms always give undefined.
 */
export function lbHashKey(balance: BalanceConfig, parts: LbRequestParts): string | undefined {
  switch (balance.algo) {
    case 'source':
      return parts.src;
    case 'uri':
      return parts.uri === undefined ? undefined : uriHashKey(parts.uri, balance);
    case 'url_param': {
      let v = parts.uri === undefined ? undefined : urlParamValue(parts.uri, balance.param);
      if (v === undefined && balance.checkPost && parts.method === 'POST' && parts.body !== undefined) {
        v = urlParamBodyValue(parts.body, balance.param);
      }
      return v;
    }
    case 'hdr':
      return hdrHashKey(parts.hdr, balance.useDomainOnly);
    default:
      return undefined;
  }
}

/**
 * The part of `uri` that `balance uri` hashes: with `path-only` the path of an absolute URI,
 * cut after `len` characters, before the `depth+1`-th slash, and before '?' unless `whole`.
 */
export function uriHashKey(
  uri: string,
  cfg: Pick<UriBalance, 'len' | 'depth' | 'whole' | 'pathOnly'>,
): string {
  const s = cfg.pathOnly ? uriPath(uri) : uri;
  let n = s.length;
  if (cfg.len > 0 && cfg.len < n) n = cfg.len;
  // Counting slashes: the one that closes level `depth` ends the key (it is not part of it).
  const stopSlash = cfg.depth > 0 ? cfg.depth + 1 : 0;
  let slashes = 0;
  let end = 0;
  while (end < n) {
    const c = s.charCodeAt(end);
    if (c === 0x2f) {
      if (++slashes === stopSlash) break;
    } else if (c === 0x3f && !cfg.whole) {
      break;
    }
    end++;
  }
  return end === s.length ? s : s.slice(0, end);
}

/**
 * The path of a request-target from its first '/' (query included): origin-form is returned
 * as is; absolute-form loses its scheme and authority; '*', authority-form and an absolute URI
 * without a path give "".
 */
export function uriPath(uri: string): string {
  if (uri.length === 0) return '';
  const c0 = uri.charCodeAt(0);
  if (c0 === 0x2f) return uri;
  if (c0 === 0x2a || !isAlpha(c0)) return '';
  let i = 1;
  while (i < uri.length) {
    const c = uri.charCodeAt(i);
    if (isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) i++;
    else break;
  }
  // A scheme ends with "://"; otherwise this is an authority-form target (CONNECT) with no path.
  if (uri.charCodeAt(i) !== 0x3a || uri.charCodeAt(i + 1) !== 0x2f || uri.charCodeAt(i + 2) !== 0x2f) {
    return '';
  }
  i += 3;
  while (i < uri.length) {
    const c = uri.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) break;
    i++;
  }
  return i >= uri.length ? '' : uri.slice(i);
}

/**
 * The value of query parameter `param` in `uri` (case-sensitive name, first occurrence, up to
 * the next '&'; may be ""), or undefined when there is no query or no such parameter.
 */
export function urlParamValue(uri: string, param: string): string | undefined {
  const q = uri.indexOf('?');
  if (q < 0) return undefined;
  return findParam(uri, q + 1, param, false);
}

/**
 * `check_post`: the value of `param` in a urlencoded request body (first chunk). A value that
 * contains characters other than tokens means the body is not urlencoded: undefined. Linear
 * white space ends the value.
 */
export function urlParamBodyValue(body: string, param: string): string | undefined {
  return findParam(body, 0, param, true);
}

function findParam(s: string, from: number, param: string, post: boolean): string | undefined {
  const plen = param.length;
  let at = from;
  while (s.length - at > plen) {
    if (s.charCodeAt(at + plen) === 0x3d && s.startsWith(param, at)) {
      const start = at + plen + 1;
      let end = start;
      while (end < s.length) {
        const c = s.charCodeAt(end);
        if (c === 0x26) break;
        if (post && !isToken(c)) {
          if (isLws(c)) break;
          return undefined;
        }
        end++;
      }
      return s.slice(start, end);
    }
    const amp = s.indexOf('&', at);
    if (amp < 0) return undefined;
    at = amp + 1;
  }
  return undefined;
}

/**
 * The hash key of `hdr(<name>)` from the value of the header's first occurrence: its first
 * comma-separated element without surrounding white space, or with `useDomainOnly` only the
 * main domain label ("1wt" in "haproxy.1wt.eu"). Undefined when absent or empty.
 */
export function hdrHashKey(value: string | undefined, useDomainOnly: boolean): string | undefined {
  if (value === undefined) return undefined;
  let a = 0;
  while (a < value.length && isLws(value.charCodeAt(a))) a++;
  // The first element ends at a comma outside a quoted string.
  let b = a;
  let quoted = false;
  for (; b < value.length; b++) {
    const c = value.charCodeAt(b);
    if (quoted) {
      if (c === 0x5c) b++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x2c) {
      break;
    }
  }
  if (b > value.length) b = value.length;
  while (b > a && isLws(value.charCodeAt(b - 1))) b--;
  if (b === a) return undefined;
  if (!useDomainOnly) return a === 0 && b === value.length ? value : value.slice(a, b);

  // Walk back from the end: the last dot ends the domain, the dot before it starts it. As in
  // HAProxy, the first character is never examined as an ending dot, and once the ending dot
  // is found the scan looks at the character before the current one.
  let p = b;
  let end = b;
  let inDomain = false;
  while (p > a) {
    if (inDomain) {
      if (value.charCodeAt(p - 1) === 0x2e) break;
    } else if (p < b && value.charCodeAt(p) === 0x2e) {
      end = p;
      inDomain = true;
    }
    p--;
  }
  return value.slice(p, end);
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isLws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

// RFC 9110 tchar.
const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

function isToken(c: number): boolean {
  return c < 256 && TOKEN[c] === 1;
}
