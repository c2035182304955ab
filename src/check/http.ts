// HTTP health checks on the wire: the request HAProxy sends for `option httpchk` / `http-check
// send` (in HTTP/1.x, or HTTP/2 with its preface and SETTINGS), and the response read back into
// one view that the expect rules evaluate, whichever version carried it.
//
// HTTP/1 request as haproxy 2.6 writes it: the request line (`ver HTTP/2.0` is written
// HTTP/1.1), header names in lower case, the user's headers, `x-haproxy-server-state` with
// send-state, `content-length` when there is a body or the method is not OPTIONS/GET/HEAD/DELETE
// (a user's content-length or transfer-encoding is dropped), then `connection: close` for
// HTTP/1.1 unless the user gave a Connection header (HTTP/1.0 closes by default). No Host is
// added; an absolute URI is sent as written.

import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { H1Parser, type H1ErrorKind, type H1ParserEvents } from '../proto/h1/index.js';
import type { HtxHeaders, HtxRequest, HtxResponse } from '../htx/index.js';

/** A check request, rendered (log-format parts evaluated). */
export interface CheckRequest {
  meth: string;
  uri: string;
  ver: string;
  /** Lower-case names, values as given, in order. */
  hdrs: Array<[string, string]>;
  body: string;
}

/** Connection-specific fields HTTP/2 drops (RFC 9113 §8.2.2). */
const H2_DROPPED = new Set(['connection', 'proxy-connection', 'keep-alive', 'upgrade', 'transfer-encoding', 'host']);

/** The header fields of the request as HAProxy builds them, before the version is chosen. */
export function requestFields(r: CheckRequest, stateHeader: string | null): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [n, v] of r.hdrs) if (n !== 'content-length' && n !== 'transfer-encoding') out.push([n, v]);
  if (stateHeader !== null) out.push(['x-haproxy-server-state', stateHeader]);
  const m = r.meth.toUpperCase();
  if (r.body.length > 0 || (m !== 'OPTIONS' && m !== 'GET' && m !== 'HEAD' && m !== 'DELETE')) {
    out.push(['content-length', String(Buffer.byteLength(r.body, 'latin1'))]);
  }
  return out;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/;

/** The request target: a Host header replaces the authority of an absolute URI (http_update_authority). */
function target(r: CheckRequest): string {
  const m = ABSOLUTE.exec(r.uri);
  const host = r.hdrs.find(([n]) => n === 'host');
  return m !== null && host !== undefined ? m[1]! + host[1] + m[3]! : r.uri;
}

/** The HTTP/1 bytes of a check request. */
export function h1RequestBytes(r: CheckRequest, stateHeader: string | null): Buffer {
  const ver = r.ver.toUpperCase() === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  const fields = requestFields(r, stateHeader);
  let head = `${r.meth} ${target(r)} ${ver}\r\n`;
  let hasConnection = false;
  for (const [n, v] of fields) {
    if (n === 'connection') {
      hasConnection = true;
      // HTX keeps only what the HTTP/1 mux would write: close on 1.1 is explicit, keep-alive is not.
      const close = /(^|,)\s*close\s*(,|$)/i.test(v);
      if (ver === 'HTTP/1.1' ? close : !close) head += `connection: ${close ? 'close' : 'keep-alive'}\r\n`;
      continue;
    }
    head += `${n}: ${v}\r\n`;
  }
  if (!hasConnection && ver === 'HTTP/1.1') head += 'connection: close\r\n';
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), Buffer.from(r.body, 'latin1')]);
}

/** What the expect rules read of a response, whichever version carried it. */
export interface CheckResponse {
  /** 0 until the head of a final response arrived. */
  status: number;
  reason: string;
  /** Name/value pairs, names as received. */
  headers: HtxHeaders;
  body: Buffer;
  /** The whole message arrived. */
  complete: boolean;
  /** The response could not be parsed (or the HTTP/2 session failed). */
  invalid: boolean;
}

function emptyResponse(): CheckResponse {
  return { status: 0, reason: '', headers: [], body: Buffer.alloc(0), complete: false, invalid: false };
}

/** Appends to `body` within `limit` bytes (the check buffer). */
function appendBody(r: CheckResponse, d: Buffer, limit: number): void {
  const room = limit - r.body.length;
  if (room <= 0) return;
  const part = d.length > room ? d.subarray(0, room) : d;
  r.body = r.body.length === 0 ? Buffer.from(part) : Buffer.concat([r.body, part]);
}

/** Parses an HTTP/1 response from the bytes of a check connection. */
export class H1CheckReader implements H1ParserEvents {
  readonly res: CheckResponse = emptyResponse();
  private readonly parser: H1Parser;
  private fed = 0;

  constructor(
    method: string,
    private readonly limit: number,
  ) {
    this.parser = new H1Parser(false, this, { maxHead: limit, maxHeaders: 101 });
    this.parser.requestMethod = method.toUpperCase();
  }

  /** Feeds the bytes received so far (the whole buffer each time; only new bytes are parsed). */
  update(data: Buffer, ended: boolean): void {
    if (data.length > this.fed && !this.res.complete && !this.res.invalid) {
      this.parser.feed(data, this.fed);
      this.fed = data.length;
    }
    if (ended && !this.res.complete && !this.res.invalid) this.parser.finish();
  }

  onRequest(_req: HtxRequest): void {}
  onResponse(res: HtxResponse): void {
    // Interim responses are skipped (the parser goes on to the final one).
    if (res.status < 200) return;
    this.res.status = res.status;
    this.res.reason = res.reason;
    this.res.headers = res.headers;
  }
  onData(d: Buffer): void {
    appendBody(this.res, d, this.limit);
  }
  onTrailers(): void {}
  onEnd(): void {
    this.res.complete = true;
  }
  onError(_kind: H1ErrorKind, _reason: string): void {
    this.res.invalid = true;
  }
}

/**
 * One HTTP/2 exchange over a check connection: preface and SETTINGS (node:http2, push
 * disabled), HEADERS with END_STREAM when there is no body, the response collected as for
 * HTTP/1. `wake` is called at every step so that the caller re-evaluates.
 */
export class H2CheckExchange {
  readonly res: CheckResponse = emptyResponse();
  readonly session: http2.ClientHttp2Session;
  /** The session or the stream failed or closed. */
  ended = false;
  /**
   * The exchange failed (a protocol error, a reset, a close) before any response: HAProxy's
   * HTTP/2 mux reports it as an error of the connection (SOCKERR).
   */
  sessionError = false;

  constructor(
    socket: net.Socket,
    r: CheckRequest,
    stateHeader: string | null,
    tls: boolean,
    defaultAuthority: string,
    private readonly limit: number,
    private readonly wake: () => void,
  ) {
    const { path, authority } = splitTarget(r);
    // Without a Host nor an absolute URI HAProxy sends no :authority (and servers such as nghttpd
    // refuse the stream); node's client always sends one: the server's address, then.
    const origin = `${tls ? 'https' : 'http'}://${authority ?? defaultAuthority}`;
    // HAProxy's backend SETTINGS (push off, 100 streams) and its connection window opened wide.
    this.session = http2.connect(origin, { createConnection: () => socket, settings: { enablePush: false, maxConcurrentStreams: 100 } });
    this.session.once('connect', () => {
      if (!this.session.destroyed) this.session.setLocalWindowSize(2 ** 31 - 1);
    });
    this.session.on('error', () => this.fail());
    this.session.on('close', () => this.fail());
    const headers: http2.OutgoingHttpHeaders = { ':method': r.meth, ':scheme': tls ? 'https' : 'http', ':path': path };
    if (authority !== undefined) headers[':authority'] = authority;
    for (const [n, v] of requestFields(r, stateHeader)) {
      if (H2_DROPPED.has(n)) continue;
      const prev = headers[n];
      headers[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    const body = Buffer.from(r.body, 'latin1');
    const stream = this.session.request(headers, { endStream: body.length === 0 });
    if (body.length > 0) stream.end(body);
    stream.on('response', (h) => {
      const status = Number(h[':status']);
      if (status < 200) return;
      this.res.status = status;
      const list: HtxHeaders = [];
      for (const [n, v] of Object.entries(h)) {
        if (n.startsWith(':')) continue;
        for (const x of Array.isArray(v) ? v : [v]) list.push(n, String(x));
      }
      this.res.headers = list;
      this.wake();
    });
    stream.on('data', (d: Buffer) => {
      appendBody(this.res, d, this.limit);
      this.wake();
    });
    stream.on('end', () => {
      this.res.complete = true;
      this.wake();
    });
    stream.on('error', () => this.fail());
    stream.on('close', () => {
      if (!this.res.complete) this.fail();
    });
  }

  private fail(): void {
    if (!this.res.complete && this.res.status === 0) this.sessionError = true;
    this.ended = true;
    this.wake();
  }

  /** Ends the session: GOAWAY and FIN with `linger`, else the caller resets the socket. */
  close(linger: boolean): void {
    if (linger) this.session.close();
    else this.session.destroy();
  }
}

/** `:path` and `:authority` of a request: an absolute URI gives both, else Host gives the authority. */
function splitTarget(r: CheckRequest): { path: string; authority: string | undefined } {
  const host = r.hdrs.find(([n]) => n === 'host')?.[1];
  const m = ABSOLUTE.exec(r.uri);
  if (m !== null) return { path: m[3] === '' ? '/' : m[3]!, authority: host ?? m[2] };
  return { path: r.uri, authority: host };
}
