// HTTP/2 header blocks to and from htx messages (sans-IO). The framing itself is nghttp2's, under
// node:http2; this is the part that decides what a message means on the other version:
// pseudo-headers and Host, cookies joined and split, connection-specific fields removed,
// `te: trailers` kept, and how the body is delimited (RFC 9113 section 8, HAProxy's h2.c).

import { BodyKind, type HtxHeaders, type HtxRequest, type HtxResponse } from '../../htx/index.js';

/** A header block as node:http2 takes it: lower-case names, repeated fields as arrays. */
export type H2Headers = Record<string, string | string[] | number>;

/** Why a request header block was refused (the stream gets RST_STREAM PROTOCOL_ERROR, as HAProxy). */
export type H2Refusal = string;

/**
 * Builds the htx request of an HTTP/2 header block (`raw`: [name, value, ...] as received,
 * pseudo-headers first). As HAProxy: the URI is absolute (scheme://authority/path) whenever
 * :authority is given, and marked so that HTTP/1 servers get the origin form; the Host field is
 * made from :authority when there is one; cookie crumbs are joined into one field, last.
 */
export function requestFromH2(raw: readonly string[], endStream: boolean): HtxRequest | H2Refusal {
  let method = '';
  let scheme = '';
  let authority: string | undefined;
  let path = '';
  const headers: HtxHeaders = [];
  let cookie: string | undefined;
  let hasHost = false;
  let contentLength = -1;
  let expectContinue = false;
  let protocol = '';
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    const v = raw[i + 1]!;
    if (n.charCodeAt(0) === 58 /* : */) {
      switch (n) {
        case ':method': method = v; break;
        case ':scheme': scheme = v; break;
        case ':authority': authority = v; break;
        case ':path': path = v; break;
        case ':protocol': protocol = v; break;
        default: return `unknown pseudo-header ${n}`;
      }
      continue;
    }
    switch (n) {
      case 'cookie':
        cookie = cookie === undefined ? v : cookie + '; ' + v;
        continue;
      case 'host':
        hasHost = true;
        break;
      case 'content-length': {
        const cl = parseContentLength(v);
        if (cl < 0 || (contentLength >= 0 && cl !== contentLength)) return 'invalid content-length';
        contentLength = cl;
        break;
      }
      case 'te':
        if (v.toLowerCase() !== 'trailers') return 'te other than trailers';
        break;
      case 'connection': case 'proxy-connection': case 'keep-alive': case 'upgrade': case 'transfer-encoding':
        return `connection-specific header ${n}`;
      case 'expect':
        if (v.toLowerCase() === '100-continue') expectContinue = true;
        break;
    }
    headers.push(n, v);
  }
  if (method === '') return 'missing :method';
  if (protocol !== '') return 'extended CONNECT is not supported';
  let uri: string;
  let normalizedUri = false;
  if (method === 'CONNECT') {
    if (authority === undefined || path !== '' || scheme !== '') return 'malformed CONNECT';
    uri = authority;
  } else {
    if (path === '' || scheme === '') return 'missing :path or :scheme';
    if (authority !== undefined && path !== '*') {
      uri = scheme + '://' + authority + path;
      normalizedUri = true;
    } else {
      uri = path;
    }
  }
  if (authority !== undefined) {
    // :authority wins over a Host field (RFC 9113 8.3.1), as HAProxy: the field is replaced.
    if (hasHost) {
      for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === 'host') headers.splice(i, 2);
    }
    headers.unshift('host', authority);
  }
  if (cookie !== undefined) headers.push('cookie', cookie);
  let bodyKind: BodyKind;
  if (endStream) bodyKind = BodyKind.None;
  else if (method === 'CONNECT') bodyKind = BodyKind.Tunnel;
  else if (contentLength >= 0) bodyKind = BodyKind.Length;
  else bodyKind = BodyKind.Chunked;
  return {
    method,
    uri,
    version: 20,
    headers,
    bodyKind,
    contentLength: bodyKind === BodyKind.Length ? contentLength : -1,
    wantClose: false,
    expectContinue,
    upgrade: '',
    normalizedUri,
  };
}

/** A decimal content-length, or -1. */
function parseContentLength(v: string): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** Fields that mean something for one HTTP/1 connection only (RFC 9113 8.2.2): never sent on h2. */
function connectionSpecific(lname: string): boolean {
  switch (lname) {
    case 'connection':
    case 'proxy-connection':
    case 'keep-alive':
    case 'upgrade':
    case 'transfer-encoding':
      return true;
    default:
      return false;
  }
}

/** Adds one field; a repeated name becomes an array of values. */
function addField(out: H2Headers, n: string, v: string): void {
  const prev = out[n];
  if (prev === undefined) out[n] = v;
  else if (Array.isArray(prev)) prev.push(v);
  else out[n] = [prev as string, v];
}

/** Adds the fields of `h` to `out` with lower-case names, repeated ones as arrays. */
function addFields(out: H2Headers, h: HtxHeaders, isRequest: boolean): void {
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!.toLowerCase();
    let v = h[i + 1]!;
    if (connectionSpecific(n)) continue;
    if (n === 'te') {
      // Only "trailers" may be sent on HTTP/2.
      if (!/(^|,)\s*trailers\s*(;|,|$)/i.test(v)) continue;
      v = 'trailers';
    }
    if (isRequest && n === 'host') continue;
    addField(out, n, v);
  }
}

/** The HTTP/2 header block of a response (connection-specific fields removed). */
export function responseToH2(res: HtxResponse): H2Headers {
  const out: H2Headers = { ':status': res.status };
  addFields(out, res.headers, false);
  return out;
}

/** Trailer fields for HTTP/2 (pseudo-headers and connection-specific fields never go there). */
export function trailersToH2(t: HtxHeaders): H2Headers {
  const out: H2Headers = {};
  for (let i = 0; i < t.length; i += 2) {
    const n = t[i]!.toLowerCase();
    if (connectionSpecific(n) || n === 'te' || n.charCodeAt(0) === 58) continue;
    addField(out, n, t[i + 1]!);
  }
  return out;
}

/** Trailers received on HTTP/2 (`raw`: [name, value, ...]) as htx fields. */
export function trailersFromH2(raw: readonly string[]): HtxHeaders {
  const out: HtxHeaders = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.charCodeAt(0) !== 58) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** The size of a header block as HAProxy counts request bytes: name, value and separators. */
export function headBytesOf(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n + raw.length * 2;
}

/**
 * The HTTP/2 header block of a request going to an HTTP/2 server. :authority comes from the
 * absolute URI, else from Host (which is then not sent); :path is the origin form; CONNECT
 * carries only :authority.
 */
export function requestToH2(req: HtxRequest, scheme: string): H2Headers {
  const out: H2Headers = { ':method': req.method };
  const uri = req.uri;
  let authority: string | undefined;
  let path = uri;
  const s = uri.indexOf('://');
  if (s > 0 && uri.charCodeAt(0) !== 47) {
    scheme = uri.slice(0, s).toLowerCase();
    let end = uri.length;
    for (let i = s + 3; i < uri.length; i++) {
      const c = uri.charCodeAt(i);
      if (c === 47 || c === 63) {
        end = i;
        break;
      }
    }
    authority = uri.slice(s + 3, end);
    path = end < uri.length ? (uri.charCodeAt(end) === 63 ? '/' + uri.slice(end) : uri.slice(end)) : '/';
  }
  if (authority === undefined) {
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i]!.length === 4 && h[i]!.toLowerCase() === 'host') {
        authority = h[i + 1]!;
        break;
      }
    }
  }
  if (req.method === 'CONNECT') {
    out[':authority'] = authority ?? uri;
  } else {
    out[':scheme'] = scheme;
    if (authority !== undefined) out[':authority'] = authority;
    out[':path'] = path === '' ? '/' : path;
  }
  addFields(out, req.headers, true);
  return out;
}

/**
 * The htx response of an HTTP/2 response header block (`raw`: [name, value, ...]). `endStream`:
 * END_STREAM was on the HEADERS frame; `head`: it answers a HEAD request (no body whatever the
 * fields say).
 */
export function responseFromH2(raw: readonly string[], head: boolean): HtxResponse | H2Refusal {
  let status = -1;
  const headers: HtxHeaders = [];
  let contentLength = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    const v = raw[i + 1]!;
    if (n.charCodeAt(0) === 58) {
      if (n !== ':status') return `unexpected pseudo-header ${n}`;
      status = parseContentLength(v);
      continue;
    }
    if (n === 'content-length') {
      const cl = parseContentLength(v);
      if (cl < 0 || (contentLength >= 0 && cl !== contentLength)) return 'invalid content-length';
      contentLength = cl;
    }
    headers.push(n, v);
  }
  if (status < 100 || status > 999) return 'invalid :status';
  let bodyKind: BodyKind;
  // A response ended by its HEADERS frame still has a body, an empty one: an HTTP/1.1 client
  // needs it framed (chunked, as HAProxy), or it would wait for a close.
  if (head || status === 204 || status === 304 || status < 200) bodyKind = BodyKind.None;
  else if (contentLength >= 0) bodyKind = BodyKind.Length;
  else bodyKind = BodyKind.Chunked;
  return {
    status,
    reason: '',
    version: 20,
    headers,
    bodyKind,
    contentLength: bodyKind === BodyKind.Length ? contentLength : -1,
    wantClose: false,
  };
}
