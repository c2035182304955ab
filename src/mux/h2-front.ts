// The client side of HTTP/2: one client connection (h2c, a node:http2 server session on a socket
// we accepted) and its streams (h2s), each carrying one Stream. nghttp2 does the framing, flow
// control and HPACK; this file maps its streams to htx and back, applies HAProxy's settings
// (tune.h2.fe.*), its timeouts, and ends every stream cleanly: END_STREAM on the last DATA (or an
// empty DATA, or trailers), RST_STREAM when a response cannot be completed.

import type { TlsInfo } from '../net/tls.js';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import type { SampleValue } from '../acl/index.js';
import { newTimer, wheel, type Timer } from '../core/timer.js';
import { BodyKind, type HtxHeaders, type HtxRequest, type HtxResponse } from '../htx/index.js';
import { parseLocalResponse, responseHeadLength } from '../proto/h1/index.js';
import { headBytesOf, requestFromH2, responseToH2, trailersFromH2 } from '../proto/h2/index.js';
import { endWithTrailers, onEndStream } from './h2-stream-util.js';
import type { Frontend, FrontConn } from '../proxy/frontend.js';
import type { ClientSide, ServerSide } from '../stream/sides.js';
import { HttpStream } from '../stream/http-stream.js';
import { stripV4Mapped } from './h1-front.js';

const {
  NGHTTP2_NO_ERROR,
  NGHTTP2_PROTOCOL_ERROR,
  NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_FLAG_END_STREAM,
} = http2.constants;

/** The largest value SETTINGS_MAX_CONCURRENT_STREAMS can carry: "unlimited" (tune value 0). */
const UNLIMITED_STREAMS = 0xffffffff;

export class H2FrontConn implements FrontConn {
  readonly session: http2.ServerHttp2Session;
  readonly streams = new Set<H2FrontStream>();
  /** Streams started on this connection. */
  reqCount = 0;
  sessVars: Map<string, SampleValue> | null = null;
  privateConn: ServerSide | null = null;
  readonly acceptDate: number;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly localIp: string;
  readonly localPort: number;
  /** Idle timeout of the connection (no stream open). */
  private readonly timer: Timer;
  /** GOAWAY sent (graceful stop or idle): no new stream, close when the last one ends. */
  private goingAway = false;
  closed = false;

  /**
   * Starts HTTP/2 on `socket`. `initial` holds bytes already read from it (the preface seen by
   * the HTTP/1 side); they are given back to the session first.
   */
  constructor(
    readonly fe: Frontend,
    readonly socket: net.Socket,
    initial: Buffer | null,
    acceptDate = Date.now(),
    addrs?: { clientIp: string; clientPort: number; localIp: string; localPort: number },
    readonly tls: TlsInfo | null = null,
  ) {
    this.acceptDate = acceptDate;
    this.clientIp = addrs?.clientIp ?? stripV4Mapped(socket.remoteAddress ?? '');
    this.clientPort = addrs?.clientPort ?? socket.remotePort ?? 0;
    this.localIp = addrs?.localIp ?? stripV4Mapped(socket.localAddress ?? '');
    this.localPort = addrs?.localPort ?? socket.localPort ?? 0;
    if (initial !== null && initial.length > 0) socket.unshift(initial);
    const t = fe.ctx.h2;
    const mcs = t.fe.maxConcurrentStreams;
    this.session = http2.performServerHandshake(socket, {
      settings: {
        headerTableSize: t.headerTableSize,
        initialWindowSize: t.fe.initialWindowSize,
        maxConcurrentStreams: mcs === 0 ? UNLIMITED_STREAMS : mcs,
        maxFrameSize: t.maxFrameSize,
        enablePush: false,
      },
      // Header fields beyond tune.http.maxhdr make the request invalid, as on HTTP/1.
      maxHeaderListPairs: fe.ctx.h1Limits.maxHeaders + 4,
    });
    this.timer = newTimer(() => this.onIdleTimeout());
    const s = this.session;
    s.on('stream', (st: http2.ServerHttp2Stream, _h: http2.IncomingHttpHeaders, flags: number, raw: string[]) => this.onStream(st, flags, raw));
    s.on('error', () => {});
    s.on('goaway', () => {
      // The client goes away: the streams it started finish, then the connection closes.
      this.goingAway = true;
      this.closeIfDone();
    });
    s.on('close', () => this.onClosed());
    this.armIdle();
  }

  private onStream(st: http2.ServerHttp2Stream, flags: number, raw: string[]): void {
    if (this.goingAway || this.closed) {
      st.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.reqCount++;
    const fe = this.fe;
    fe.counters.reqTot++;
    fe.ctx.counters.cumReq++;
    const req = requestFromH2(raw, (flags & NGHTTP2_FLAG_END_STREAM) !== 0);
    if (typeof req === 'string') {
      // A malformed request (RFC 9113 8.1.1): a stream error, as HAProxy.
      fe.counters.ereq++;
      st.close(NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    wheel.disarm(this.timer);
    const h2s = new H2FrontStream(this, st, req, headBytesOf(raw));
    this.streams.add(h2s);
    h2s.start();
  }

  /** A stream finished: the connection waits for the next one, or closes after a GOAWAY. */
  streamGone(h2s: H2FrontStream): void {
    if (!this.streams.delete(h2s)) return;
    if (this.streams.size === 0) {
      if (this.fe.ctx.stopping) this.goingAway = true;
      if (!this.closeIfDone()) this.armIdle();
    }
  }

  private armIdle(): void {
    if (this.closed) return;
    const t = this.fe.config.timeouts;
    // Waiting for the first stream is waiting for a request; between streams, keep-alive.
    wheel.arm(this.timer, this.reqCount === 0 ? (t.httpRequest ?? t.client) : (t.httpKeepAlive ?? t.httpRequest ?? t.client));
  }

  private onIdleTimeout(): void {
    if (this.closed || this.streams.size > 0) return;
    this.goAway();
  }

  /** Sends GOAWAY: streams in progress finish, no new one starts, then the connection closes. */
  private goAway(): void {
    if (this.closed) return;
    this.goingAway = true;
    if (!this.session.closed && !this.session.destroyed) this.session.close();
    this.closeIfDone();
  }

  private closeIfDone(): boolean {
    if (!this.goingAway || this.streams.size > 0) return false;
    this.close(true);
    return true;
  }

  private onClosed(): void {
    for (const h2s of [...this.streams]) h2s.gone();
    this.close(false);
  }

  /** Closes the connection: after a GOAWAY when `graceful`, otherwise at once. */
  close(graceful: boolean): void {
    if (this.closed) return;
    this.closed = true;
    wheel.disarm(this.timer);
    if (this.privateConn) {
      this.privateConn.close(true);
      this.privateConn = null;
    }
    const s = this.session;
    if (graceful && !s.destroyed) {
      s.close();
      // A client that never reads must not keep the connection forever.
      const t = this.fe.config.timeouts;
      const linger = setTimeout(() => s.destroy(), t.clientFin ?? t.client ?? 5000);
      linger.unref();
      s.once('close', () => clearTimeout(linger));
    } else if (!s.destroyed) {
      s.destroy();
    }
    this.fe.closed(this);
  }

  softStop(): void {
    this.goAway();
  }

  kill(): void {
    for (const h2s of [...this.streams]) h2s.gone();
    this.close(false);
  }
}

/** One HTTP/2 stream of a client connection, the client side of one Stream. */
export class H2FrontStream implements ClientSide {
  /** A reset stream ends its exchange at once: never gone while the exchange goes on. */
  readonly clientGone = false;
  readonly hs: HttpStream;
  readonly reqStart = Date.now();
  readonly idleSince = this.reqStart;
  bytesOut = 0;
  closeAfter = false;
  private readonly timer: Timer;
  /** The response head went out; its end (END_STREAM) went out. */
  private headSent = false;
  private ended = false;
  private trailers: HtxHeaders | undefined;
  /** The response was sent with waitForTrailers: its end goes out as trailers or an empty DATA frame. */
  private waitsTrailers = false;
  private done = false;
  /** END_STREAM was handed to nghttp2 (with the HEADERS, or as trailers / an empty DATA frame). */
  private endSubmitted = false;
  /** Answered before the request ended: the rest is refused once END_STREAM is out. */
  private refuseRestAfterEnd = false;

  constructor(
    readonly conn: H2FrontConn,
    readonly st: http2.ServerHttp2Stream,
    req: HtxRequest,
    readonly headBytes: number,
  ) {
    this.hs = new HttpStream(this, req);
    this.timer = newTimer(() => {
      if (!this.done) this.hs.onClientTimeout();
    });
  }

  start(): void {
    const st = this.st;
    const hs = this.hs;
    st.on('data', (d: Buffer) => hs.onRequestData(d));
    st.on('trailers', (_h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => {
      if (raw !== undefined) hs.onRequestTrailers(trailersFromH2(raw));
    });
    onEndStream(st, () => hs.onRequestEnd());
    st.on('drain', () => hs.onClientDrain());
    st.on('wantTrailers', () => {
      endWithTrailers(st, this.trailers, NGHTTP2_INTERNAL_ERROR);
      this.endSubmitted = true;
      if (this.refuseRestAfterEnd) this.refuseRest();
    });
    st.on('error', () => {});
    st.on('close', () => this.gone());
    hs.start();
  }

  // ---- what the stream reads of its client connection ----
  get fe(): Frontend {
    return this.conn.fe;
  }
  get clientIp(): string {
    return this.conn.clientIp;
  }
  get clientPort(): number {
    return this.conn.clientPort;
  }
  get localIp(): string {
    return this.conn.localIp;
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get acceptDate(): number {
    return this.conn.acceptDate;
  }
  get clientConn(): object {
    return this.conn;
  }
  get reqCount(): number {
    return this.conn.reqCount;
  }
  get sessVars(): Map<string, SampleValue> | null {
    return this.conn.sessVars;
  }
  set sessVars(v: Map<string, SampleValue> | null) {
    this.conn.sessVars = v;
  }
  get tls(): TlsInfo | null {
    return this.conn.tls;
  }
  get privateConn(): ServerSide | null {
    return this.conn.privateConn;
  }
  set privateConn(c: ServerSide | null) {
    this.conn.privateConn = c;
  }

  // ---- the response ----

  sendInterim(res: HtxResponse): void {
    if (this.headSent || res.status === 101 || this.st.destroyed) return;
    try {
      this.st.additionalHeaders(responseToH2(res));
    } catch {
      // An interim response that cannot be encoded is dropped; the final one still comes.
    }
  }

  sendHead(res: HtxResponse, _close: boolean): boolean {
    const st = this.st;
    if (st.destroyed || this.headSent) return false;
    this.headSent = true;
    this.bytesOut += responseHeadLength(res);
    const bodyless = res.bodyKind === BodyKind.None || this.hs.req.method === 'HEAD';
    // Trailers can follow a chunked body or an HTTP/2 one; a body of known length from HTTP/1
    // ends with its last DATA frame, without the round trip of waiting for trailers.
    this.waitsTrailers = !bodyless && (res.bodyKind === BodyKind.Chunked || res.version === 20);
    try {
      // sendDate (not in Node's typings): the response keeps the server's Date, or has none, as HAProxy.
      st.respond(responseToH2(res), { endStream: bodyless, waitForTrailers: this.waitsTrailers, sendDate: false } as http2.ServerStreamResponseOptions);
    } catch {
      st.close(NGHTTP2_INTERNAL_ERROR);
      return false;
    }
    if (bodyless) this.ended = this.endSubmitted = true;
    return false;
  }

  sendData(data: Buffer): boolean {
    this.bytesOut += data.length;
    if (this.ended || this.st.destroyed) return true;
    return this.st.write(data);
  }

  sendEnd(trailers: HtxHeaders | undefined): void {
    if (this.ended || this.st.destroyed) return;
    this.ended = true;
    this.trailers = trailers;
    this.st.end();
    if (!this.waitsTrailers && this.headSent) this.endedWithoutTrailers();
  }

  /** END_STREAM goes with the last DATA frame: what 'wantTrailers' does otherwise. */
  private endedWithoutTrailers(): void {
    this.endSubmitted = true;
    if (this.refuseRestAfterEnd) this.refuseRest();
  }

  flush(): void {}

  sendLocal(raw: Buffer): void {
    // Counted as the bytes of the reply as written (an errorfile's own head and body), as on HTTP/1.
    const counted = this.bytesOut + raw.length;
    const m = parseLocalResponse(raw, this.hs.req.method);
    if (m === null) {
      this.st.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const body = m.res.bodyKind === BodyKind.None ? null : m.body;
    if (body !== null && body.length === 0) m.res.bodyKind = BodyKind.None;
    this.sendHead(m.res, false);
    this.bytesOut = counted;
    if (body !== null && body.length > 0 && !this.ended && !this.st.destroyed) this.st.write(body);
    this.sendEnd(undefined);
  }

  pauseReading(): void {
    if (!this.st.destroyed) this.st.pause();
  }

  resumeReading(): void {
    if (!this.st.destroyed) this.st.resume();
  }

  armClient(): void {
    wheel.arm(this.timer, this.conn.fe.config.timeouts.client);
  }

  disarm(): void {
    wheel.disarm(this.timer);
  }

  /** Ends the stream abruptly: RST_STREAM (the connection and its other streams go on). */
  close(graceful = true): void {
    if (!this.st.destroyed && !this.st.closed) this.st.close(graceful ? NGHTTP2_NO_ERROR : NGHTTP2_INTERNAL_ERROR);
  }

  streamDone(_s: object, _close: boolean): void {
    if (this.done) return;
    this.done = true;
    wheel.disarm(this.timer);
    const st = this.st;
    if (!st.destroyed && !st.closed) {
      if (!this.ended) {
        // The response cannot be completed (server gone, timeout): the client must not wait.
        st.close(NGHTTP2_INTERNAL_ERROR);
      } else if (!st.readableEnded) {
        // Answered before the request body ended: once the answer's END_STREAM is out, the rest
        // is refused with NO_ERROR (RFC 9113 8.1); node sends what is queued before the reset.
        st.resume();
        if (this.endSubmitted) this.refuseRest();
        else this.refuseRestAfterEnd = true;
      }
    }
    this.conn.streamGone(this);
  }

  private refuseRest(): void {
    const st = this.st;
    setImmediate(() => {
      if (!st.destroyed && !st.closed) st.close(NGHTTP2_NO_ERROR);
    });
  }

  /** The stream or the whole connection went away (reset, close). */
  gone(): void {
    if (!this.done) this.hs.onClientGone();
    this.done = true;
    wheel.disarm(this.timer);
    this.conn.streamGone(this);
  }
}

