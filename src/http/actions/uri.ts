// Request-target surgery as HAProxy performs it (http.c http_parse_path/authority, http_htx.c
// http_replace_req_path/query/uri, http_update_host, http_update_authority). A target is
// origin-form ("/p?q"), absolute-form ("http://h/p"), authority-form ("h:443") or "*".

import type { HtxRequest } from '../../htx/index.js';

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 48 && c <= 57);
}

/** Length of the "scheme://" prefix of `uri`, or 0 when it has none. */
function schemeEnd(uri: string): number {
  if (uri.length === 0 || !isAlpha(uri.charCodeAt(0))) return 0;
  let i = 1;
  while (i < uri.length) {
    const c = uri.charCodeAt(i);
    if (!isAlnum(c) && c !== 43 && c !== 45 && c !== 46) break;
    i++;
  }
  if (uri.charCodeAt(i) !== 58 || uri.charCodeAt(i + 1) !== 47 || uri.charCodeAt(i + 2) !== 47) return 0;
  return i + 3;
}

/** The target is neither origin-form nor "*" (HTX_SL_F_HAS_AUTHORITY). */
export function hasAuthority(uri: string): boolean {
  if (uri.length === 0) return false;
  const c = uri.charCodeAt(0);
  return c !== 47 && c !== 42;
}

/**
 * Where the path starts in `uri` (with its query), or -1 when there is none: "*", empty,
 * authority-form, or an absolute URI without a '/' after its authority.
 */
export function pathStart(uri: string): number {
  if (uri.length === 0) return -1;
  const c = uri.charCodeAt(0);
  if (c === 47) return 0;
  if (c === 42) return -1;
  const s = schemeEnd(uri);
  if (s === 0) return -1;
  const slash = uri.indexOf('/', s);
  return slash < 0 ? -1 : slash;
}

/**
 * The authority of an absolute-form or authority-form target, without user info, as
 * [start, end) in `uri`; empty ([x, x]) when there is none.
 */
export function authorityBounds(uri: string): [number, number] {
  if (!hasAuthority(uri)) return [0, 0];
  let start = schemeEnd(uri);
  let i = start;
  while (i < uri.length && uri.charCodeAt(i) !== 47) {
    if (uri.charCodeAt(i++) === 64) start = i;
  }
  return [start, i];
}

/** Index of the first '?' at or after `from`, or `uri.length`. */
function queryMark(uri: string, from: number): number {
  const q = uri.indexOf('?', from);
  return q < 0 ? uri.length : q;
}

/** `set-path` / `set-pathq` (with `withQuery`): replaces the path, keeping scheme, authority (and query). */
export function replacePath(uri: string, path: string, withQuery: boolean): string {
  let start = pathStart(uri);
  // Without a path HAProxy takes the whole target as the part to replace.
  if (start < 0) start = 0;
  const end = withQuery ? uri.length : queryMark(uri, start);
  return uri.slice(0, start) + path + uri.slice(end);
}

/**
 * `set-query`: `query` starts with the '?' the action adds. With no '?' in the target, a query
 * is only appended when it is not empty; with one, everything after it is replaced.
 */
export function replaceQuery(uri: string, query: string): string {
  const q = uri.indexOf('?');
  if (q >= 0) return uri.slice(0, q + 1) + query.slice(1);
  return query.length > 1 ? uri + query : uri;
}

/** The path with its query (replace-pathq subject), "" when there is none. */
export function pathAndQuery(uri: string): string {
  const s = pathStart(uri);
  return s < 0 ? '' : uri.slice(s);
}

/** The path alone (replace-path subject), "" when there is none. */
export function pathOnly(uri: string): string {
  const s = pathStart(uri);
  return s < 0 ? '' : uri.slice(s, queryMark(uri, s));
}

/**
 * `set-uri` (http_replace_req_uri): sets the target and, when it carries an authority, every
 * Host header to it. Returns false (a failed rewrite) for an absolute URI without authority.
 */
export function setUri(req: HtxRequest, uri: string): boolean {
  req.uri = uri;
  if (!hasAuthority(uri)) return true;
  let authority: string;
  if (req.method === 'CONNECT') {
    authority = uri;
  } else {
    const [a, b] = authorityBounds(uri);
    if (a === b) return false;
    authority = uri.slice(a, b);
  }
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    if (n.length === 4 && n.toLowerCase() === 'host') h[i + 1] = authority;
  }
  return true;
}

/**
 * After a Host header was set or rewritten on a request whose target has an authority, the
 * target follows (http_update_authority). Returns false when the target has no authority.
 */
export function syncAuthority(req: HtxRequest, host: string): boolean {
  if (!hasAuthority(req.uri)) return true;
  const [a, b] = authorityBounds(req.uri);
  if (a === b) return false;
  if (req.uri.slice(a, b) !== host) req.uri = req.uri.slice(0, a) + host + req.uri.slice(b);
  return true;
}
