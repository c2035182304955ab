// The version-neutral HTTP message (HAProxy's HTX). Muxes translate HTTP/1 and HTTP/2 to and from
// it; rules, routing and balancing only ever see these shapes, never wire syntax.
//
// A message is a head (start line + ordered header fields), then body data chunks, then optional
// trailers, then an explicit end of message. The head says how the body is framed on the side it
// came from (`bodyKind`) so that a serializer can choose its own framing for the side it goes to.

/** How the body of a message is delimited where it was received. */
export const enum BodyKind {
  /** No body at all (GET without length, 204, 304, response to HEAD, END_STREAM on HEADERS). */
  None = 0,
  /** Content-Length known in advance (`contentLength`). */
  Length = 1,
  /** Chunked transfer coding (HTTP/1) or DATA frames without a content-length (HTTP/2). */
  Chunked = 2,
  /** Response delimited by the close of the connection (HTTP/1 only). */
  UntilClose = 3,
  /** The connection becomes a tunnel after this message (101 Switching Protocols, 2xx to CONNECT). */
  Tunnel = 4,
}

/**
 * Header fields in order, as a flat array: [name0, value0, name1, value1, ...]. Names keep the
 * case they were received with (HTTP/1); lookups are case-insensitive.
 */
export type HtxHeaders = string[];

export interface HtxRequest {
  method: string;
  /** Request target as received: origin-form, absolute-form, authority-form (CONNECT) or `*`. */
  uri: string;
  /** Major*10+minor: 10 for HTTP/1.0, 11 for HTTP/1.1, 20 for HTTP/2. */
  version: number;
  headers: HtxHeaders;
  bodyKind: BodyKind;
  /** Valid when bodyKind is Length; -1 otherwise. */
  contentLength: number;
  /** The client asked to close after this exchange (HTTP/1.0 without keep-alive, `Connection: close`). */
  wantClose: boolean;
  /** `Expect: 100-continue` was present. */
  expectContinue: boolean;
  /** `Upgrade` requested (with `Connection: upgrade`); the value of the Upgrade header, else "". */
  upgrade: string;
  /**
   * The URI is absolute only because it was built from HTTP/2's :scheme and :authority: an
   * HTTP/1 server gets its origin form (HAProxy's HTX_SL_F_NORMALIZED_URI).
   */
  normalizedUri?: boolean;
  /**
   * HTTP/1: the room HAProxy's buffer gives the body that came in the same read as the head
   * (htx/size.ts), there when the rules first run.
   */
  bodyWithHead?: number;
}

/** The origin form (path and query) of an absolute URI; "/" when it has no path. */
export function originForm(uri: string): string {
  const s = uri.indexOf('://');
  if (s < 0) return uri;
  for (let i = s + 3; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 47 /* / */) return uri.slice(i);
    if (c === 63 /* ? */) return '/' + uri.slice(i);
  }
  return '/';
}

export interface HtxResponse {
  status: number;
  reason: string;
  version: number;
  headers: HtxHeaders;
  bodyKind: BodyKind;
  contentLength: number;
  wantClose: boolean;
  /**
   * HTTP/1: the room HAProxy's buffer gives the body that came in the same read as the head
   * (htx/size.ts), there when the rules first run.
   */
  bodyWithHead?: number;
}

/** Case-insensitive lookup of the first value of a header, or undefined. `lname` must be lower case. */
export function headerGet(h: HtxHeaders, lname: string): string | undefined {
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    if (n.length === lname.length && n.toLowerCase() === lname) return h[i + 1];
  }
  return undefined;
}

/** Every value of a header, in order. `lname` must be lower case. */
export function headerGetAll(h: HtxHeaders, lname: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    if (n.length === lname.length && n.toLowerCase() === lname) out.push(h[i + 1]!);
  }
  return out;
}

/** Removes every occurrence of a header; returns how many were removed. `lname` lower case. */
export function headerDel(h: HtxHeaders, lname: string): number {
  let w = 0;
  let removed = 0;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    if (n.length === lname.length && n.toLowerCase() === lname) {
      removed++;
      continue;
    }
    h[w++] = n;
    h[w++] = h[i + 1]!;
  }
  h.length = w;
  return removed;
}

/** Appends a header field at the end. */
export function headerAdd(h: HtxHeaders, name: string, value: string): void {
  h.push(name, value);
}

/** Replaces every occurrence of a header by one field with `value` (added if absent). */
export function headerSet(h: HtxHeaders, name: string, value: string): void {
  headerDel(h, name.toLowerCase());
  h.push(name, value);
}

/** True when a comma-separated header value contains `token` (case-insensitive). `token` lower case. */
export function hasToken(value: string, token: string): boolean {
  const v = value.toLowerCase();
  let start = 0;
  while (start <= v.length) {
    let end = v.indexOf(',', start);
    if (end < 0) end = v.length;
    let a = start;
    let b = end;
    while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
    while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
    if (b - a === token.length && v.startsWith(token, a)) return true;
    start = end + 1;
  }
  return false;
}

export { HTX_BLK, HTX_HDR, htxAdjust, htxDataSize, htxFieldsSize, htxRequestData, htxRequestLine, htxRequestSize, htxResponseSize, htxStatusLine } from './size.js';
export { HtxRoom } from './room.js';
