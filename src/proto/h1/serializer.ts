// Sans-IO HTTP/1.1 serializer: htx messages to wire strings (latin1). Callers write the result
// with `socket.write(str, 'latin1')`.
//
// Connection management headers are regenerated here rather than copied: the `Connection`
// header loses its `close` / `keep-alive` tokens (the muxes decide those per hop) and keeps the
// others (`upgrade`); `Proxy-Connection` and `Keep-Alive` are hop-by-hop and never forwarded.

import { BodyKind, originForm, type HtxHeaders, type HtxRequest, type HtxResponse } from '../../htx/index.js';

/** Per-hop decisions the mux takes for one message. */
export interface H1Hop {
  /** Announce `Connection: close` (we close after this exchange). */
  close: boolean;
  /** Announce `Connection: keep-alive` (needed for an HTTP/1.0 peer that keeps the connection). */
  keepAlive: boolean;
  /**
   * The framing used on this hop: Length keeps/sets Content-Length, Chunked keeps/sets
   * `Transfer-Encoding: chunked`, None/UntilClose/Tunnel send neither. Framing headers that do not
   * match are dropped.
   */
  framing: BodyKind;
  contentLength: number;
}

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  407: 'Proxy Authentication Required', 408: 'Request Time-out', 409: 'Conflict', 410: 'Gone',
  411: 'Length Required', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  421: 'Misdirected Request', 422: 'Unprocessable Content', 425: 'Too Early', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Time-out', 505: 'HTTP Version Not Supported',
};

/** HAProxy's reason phrase for a status code ("Unknown" when it has none). */
export function reasonPhrase(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}

/** The request head for an HTTP/1.x server; the request keeps its version (1.0 stays 1.0, as HAProxy). */
export function serializeRequestHead(req: HtxRequest, hop: H1Hop): string {
  const v = req.version === 10 ? ' HTTP/1.0\r\n' : ' HTTP/1.1\r\n';
  return req.method + ' ' + (req.normalizedUri === true ? originForm(req.uri) : req.uri) + v + serializeFields(req.headers, hop) + '\r\n';
}

/** The response head for an HTTP/1.x client: always an HTTP/1.1 status line, as HAProxy. */
export function serializeResponseHead(res: HtxResponse, hop: H1Hop): string {
  return 'HTTP/1.1 ' + res.status + ' ' + (res.reason || reasonPhrase(res.status)) + '\r\n' + serializeFields(res.headers, hop) + '\r\n';
}

/**
 * The size of `res`'s head written as HTTP/1.1, without writing it: what a response head counts
 * in %B whatever the client's protocol (HAProxy counts the message, not its encoding).
 */
export function responseHeadLength(res: HtxResponse): number {
  let n = 9 + String(res.status).length + 1 + (res.reason || reasonPhrase(res.status)).length + 2 + 2;
  const h = res.headers;
  for (let i = 0; i < h.length; i += 2) n += h[i]!.length + 2 + h[i + 1]!.length + 2;
  return n;
}

function serializeFields(h: HtxHeaders, hop: H1Hop): string {
  let out = '';
  let connExtra = '';
  let hasCl = false;
  let hasTe = false;
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i]!;
    const v = h[i + 1]!;
    switch (n.length) {
      case 10:
        if (n.toLowerCase() === 'connection') {
          connExtra = keepOtherTokens(v, connExtra);
          continue;
        }
        if (n.toLowerCase() === 'keep-alive') continue;
        break;
      case 14:
        if (n.toLowerCase() === 'content-length') {
          // A bodyless message (HEAD answer, 304) keeps the length it announces.
          if (hop.framing === BodyKind.None) break;
          if (hop.framing !== BodyKind.Length || hasCl) continue;
          hasCl = true;
          // The parsed length, never a list such as "3, 3" that the next hop could read otherwise.
          out += n + ': ' + hop.contentLength + '\r\n';
          continue;
        }
        break;
      case 16:
        if (n.toLowerCase() === 'proxy-connection') continue;
        break;
      case 17:
        if (n.toLowerCase() === 'transfer-encoding') {
          if (hop.framing === BodyKind.None) break;
          if (hop.framing !== BodyKind.Chunked) continue;
          hasTe = true;
        }
        break;
    }
    out += n + ': ' + v + '\r\n';
  }
  if (hop.framing === BodyKind.Length && !hasCl) out += 'content-length: ' + hop.contentLength + '\r\n';
  else if (hop.framing === BodyKind.Chunked && !hasTe) out += 'transfer-encoding: chunked\r\n';
  let conn = connExtra;
  if (hop.close) conn = conn ? conn + ', close' : 'close';
  else if (hop.keepAlive) conn = conn ? conn + ', keep-alive' : 'keep-alive';
  if (conn) out += 'connection: ' + conn + '\r\n';
  return out;
}

/** The tokens of a Connection value other than close/keep-alive, appended to `acc`. */
function keepOtherTokens(v: string, acc: string): string {
  if (v.indexOf(',') < 0) {
    const t = v.trim();
    const l = t.toLowerCase();
    if (l === 'close' || l === 'keep-alive' || l === '') return acc;
    return acc ? acc + ', ' + t : t;
  }
  for (const part of v.split(',')) acc = keepOtherTokens(part, acc);
  return acc;
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The chunk-size line that precedes `len` bytes of chunk data. */
export function chunkHeader(len: number): string {
  return len.toString(16) + '\r\n';
}

/** The CRLF that ends a chunk's data. */
export function chunkEnd(): Buffer {
  return CRLF;
}

/** The last chunk with optional trailer fields. */
export function lastChunk(trailers?: HtxHeaders): Buffer | string {
  if (!trailers || trailers.length === 0) return LAST_CHUNK;
  let out = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) out += trailers[i] + ': ' + trailers[i + 1] + '\r\n';
  return out + '\r\n';
}
