// The client side of HTTP/1: one client connection (h1c) and the request in progress on it
// (h1s, a Stream). Requests are parsed one at a time; pipelined bytes wait until the current
// response is complete, so responses always go out in order.

import type * as net from 'node:net';
import type { TlsInfo } from '../net/tls.js';
import { BodyKind, type HtxHeaders, type HtxRequest, type HtxResponse } from '../htx/index.js';
import {
  chunkEnd,
  chunkHeader,
  H1ErrorKind,
  H1Parser,
  H1State,
  lastChunk,
  serializeResponseHead,
  type H1Hop,
  type H1ParserEvents,
} from '../proto/h1/index.js';
import { newTimer, wheel, type Timer } from '../core/timer.js';
import { Cause, errorPage, Phase, termState } from '../core/errors.js';
import type { Frontend, FrontConn } from '../proxy/frontend.js';
import { HttpStream } from '../stream/http-stream.js';
import { buildHttpLogRecord } from '../stream/log-record.js';
import type { SampleValue } from '../acl/index.js';
import type { ClientSide, ServerSide } from '../stream/sides.js';
import { H2FrontConn } from './h2-front.js';

const EMPTY = Buffer.alloc(0);

/** Body pieces up to this size are copied next to their head rather than written apart. */
const COALESCE_MAX = 8192;

const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** The client connection preface of HTTP/2 (RFC 9113 3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export class H1FrontConn implements FrontConn, H1ParserEvents, ClientSide {
  readonly parser: H1Parser;
  stream: HttpStream | null = null;
  /** Requests started on this connection. */
  reqCount = 0;
  /** Bytes received after a complete request, waiting for the current response to finish. */
  private pending: Buffer = EMPTY;
  private processing = false;
  /** Close after the current exchange (graceful stop, Connection: close, errors). */
  closeAfter = false;
  closed = false;
  /** The client reset while a stream goes on with the server (ClientSide.clientGone). */
  clientGone = false;
  /** The client sent its FIN. */
  clientEnded = false;
  /** The connection is a tunnel now (after 101 or CONNECT). */
  tunnel = false;
  /** Reading and dropping the end of a request already answered. */
  draining = false;
  /** Bytes arrived since the connection was accepted or last became idle (even empty lines). */
  private sawBytes = false;
  readonly timer: Timer;
  /** What the timer is waiting for, to choose the right reaction. */
  private waitingFor: 'head' | 'keepalive' | 'client' | 'none' = 'none';
  readonly acceptDate = Date.now();
  /** When the connection last became idle (accept, or end of the previous response). */
  idleSince = this.acceptDate;
  /** When the first byte of the current request arrived. */
  reqStart = 0;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly localIp: string;
  readonly localPort: number;
  /** `sess.*` variables, created on first use. */
  sessVars: Map<string, SampleValue> | null = null;
  /** Server connection kept for this client alone (http-reuse never). */
  privateConn: ServerSide | null = null;
  /** Bytes written for the current request's response (%B). */
  bytesOut = 0;
  /** Framing of the current response on this connection. */
  private resFraming: BodyKind = BodyKind.None;
  /** The response head, held until the body bytes of the same server read join it. */
  private pendingHead: string | null = null;

  /** The first bytes are checked for the HTTP/2 preface (cleartext HTTP/1 and HTTP/2 on one port). */
  private sniff: boolean;
  /** Bytes of a preface not complete yet. */
  private sniffed: Buffer = EMPTY;

  constructor(
    readonly fe: Frontend,
    readonly socket: net.Socket,
    sniffH2 = false,
    readonly tls: TlsInfo | null = null,
  ) {
    this.sniff = sniffH2;
    this.parser = new H1Parser(true, this, fe.ctx.h1Limits);
    this.clientIp = stripV4Mapped(socket.remoteAddress ?? '');
    this.clientPort = socket.remotePort ?? 0;
    this.localIp = stripV4Mapped(socket.localAddress ?? '');
    this.localPort = socket.localPort ?? 0;
    this.timer = newTimer(() => this.onTimeout());
    socket.on('data', (d: Buffer) => this.onSocketData(d));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', () => this.onSocketGone());
    socket.on('close', () => this.onSocketGone());
    socket.on('drain', () => this.stream?.onClientDrain());
    const t = fe.config.timeouts;
    this.arm('head', t.httpRequest ?? t.client);
  }

  private arm(what: 'head' | 'keepalive' | 'client' | 'none', ms: number | undefined): void {
    this.waitingFor = what;
    if (what === 'none') wheel.disarm(this.timer);
    else wheel.arm(this.timer, ms);
  }

  /** Arms `timeout client` while the stream expects the client to send or read. */
  armClient(): void {
    const t = this.fe.config.timeouts;
    this.arm('client', this.tunnel ? (t.tunnel ?? t.client) : t.client);
  }

  disarm(): void {
    this.arm('none', undefined);
  }

  // ---- socket events ----

  private onSocketData(d: Buffer): void {
    if (this.sniff && this.sniffPreface(d)) return;
    this.sawBytes = true;
    if (this.stream === null && this.parser.state === H1State.Head && !this.parser.inMessage) {
      // First byte of a new request: the request timer starts now (keep-alive idle ends).
      this.reqStart = Date.now();
      const t = this.fe.config.timeouts;
      if (this.waitingFor === 'keepalive') this.arm('head', t.httpRequest ?? t.client);
    } else if (this.waitingFor === 'client') {
      this.armClient();
    }
    if (this.pending.length > 0 || (this.stream !== null && this.parser.state === H1State.Done)) {
      this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
      // Pipelined requests beyond one buffer wait in the kernel, not in memory.
      if (this.pending.length >= this.fe.ctx.bufsize) this.socket.pause();
      return;
    }
    this.process(d);
  }

  /**
   * Looks for the HTTP/2 preface at the start of the connection; a client sending it gets the
   * connection handed over to HTTP/2, as HAProxy's implicit upgrade. Returns true when the bytes
   * were taken (kept while the preface is incomplete, or given to HTTP/2).
   */
  private sniffPreface(d: Buffer): boolean {
    const buf = this.sniffed.length > 0 ? Buffer.concat([this.sniffed, d]) : d;
    const n = Math.min(buf.length, H2_PREFACE.length);
    if (buf.compare(H2_PREFACE, 0, n, 0, n) !== 0) {
      this.sniff = false;
      if (this.sniffed.length === 0) return false;
      this.sniffed = EMPTY;
      this.onSocketData(buf);
      return true;
    }
    if (n < H2_PREFACE.length) {
      this.sniffed = buf;
      return true;
    }
    this.sniff = false;
    this.sniffed = EMPTY;
    // The connection changes hands: nothing of the HTTP/1 side may act on it any more.
    this.closed = true;
    wheel.disarm(this.timer);
    const s = this.socket;
    for (const ev of ['data', 'end', 'error', 'close', 'drain']) s.removeAllListeners(ev);
    s.pause();
    const h2 = new H2FrontConn(this.fe, s, buf, this.acceptDate, {
      clientIp: this.clientIp,
      clientPort: this.clientPort,
      localIp: this.localIp,
      localPort: this.localPort,
    });
    this.fe.replaced(this, h2);
    return true;
  }

  /** Feeds bytes to the parser, one message at a time. */
  private process(buf: Buffer): void {
    this.processing = true;
    let off = 0;
    while (off < buf.length && !this.closed) {
      if (this.parser.state === H1State.Done) {
        if (this.stream !== null) {
          // The previous response is still going out: keep the rest for later.
          this.pending = buf.subarray(off);
          if (this.pending.length >= this.fe.ctx.bufsize) this.socket.pause();
          break;
        }
        if (this.closeAfter) break;
        this.parser.reset();
        this.reqStart = Date.now();
      }
      off = this.parser.feed(buf, off);
      if (this.parser.state === H1State.Error) break;
    }
    this.processing = false;
  }

  private onSocketEnd(): void {
    if (this.closed) return;
    this.clientEnded = true;
    if (this.draining) {
      this.close();
      return;
    }
    if (this.stream !== null) {
      this.stream.onClientEnd();
      return;
    }
    this.logAbandoned();
    this.close();
  }

  private onSocketGone(): void {
    if (this.closed || this.clientGone) return;
    const s = this.stream;
    if (s !== null && s.outlivesClient()) {
      // The exchange goes on without the client; the connection ends with the stream.
      this.clientGone = true;
      wheel.disarm(this.timer);
      return;
    }
    if (s !== null) s.onClientGone();
    else this.logAbandoned();
    this.close(false);
  }

  /**
   * The client left without a complete request: HAProxy logs it as a 400 `CR--`, both in the
   * middle of a head and on a connection that never sent a byte (unless `dontlognull`); a
   * kept-alive connection closed between requests is not logged.
   */
  private logAbandoned(): void {
    if (this.parser.inMessage || this.reqCount === 0) this.logBadRequest(400, Cause.ClientAbort, Phase.Request);
  }

  private onTimeout(): void {
    if (this.closed) return;
    switch (this.waitingFor) {
      case 'keepalive':
        this.close();
        return;
      case 'head': {
        const started = this.parser.inMessage || this.sawBytes || this.reqCount === 0;
        if (started && !(this.fe.config.options.httpIgnoreProbes && !this.parser.inMessage)) {
          this.sendRaw(errorPage(408).raw);
          this.logBadRequest(408, Cause.ClientTimeout, Phase.Request);
        }
        this.close();
        return;
      }
      case 'client':
        if (this.stream !== null) this.stream.onClientTimeout();
        else this.close();
        return;
    }
  }

  // ---- parser events ----

  onRequest(req: HtxRequest): void {
    this.reqCount++;
    this.fe.counters.reqTot++;
    this.fe.ctx.counters.cumReq++;
    if (this.reqStart === 0) this.reqStart = Date.now();
    this.bytesOut = 0;
    this.resFraming = BodyKind.None;
    this.pendingHead = null;
    const s = new HttpStream(this, req);
    this.stream = s;
    this.disarm();
    s.start();
  }

  onResponse(_res: HtxResponse): void {}

  onData(data: Buffer): void {
    if (this.stream !== null) this.stream.onRequestData(data);
    else if (this.draining) this.armClient();
  }

  onTrailers(t: HtxHeaders): void {
    this.stream?.onRequestTrailers(t);
  }

  onEnd(): void {
    if (this.stream !== null) {
      this.stream.onRequestEnd();
    } else if (this.draining) {
      this.draining = false;
      // Leave the parser's callback before starting on what follows.
      queueMicrotask(() => {
        if (!this.closed && this.stream === null) this.goIdle();
      });
    }
  }

  onError(kind: H1ErrorKind, _reason: string): void {
    if (this.stream !== null) {
      this.stream.onRequestError(kind);
      return;
    }
    this.fe.counters.ereq++;
    this.sendRaw(errorPage(400).raw);
    this.logBadRequest(400, Cause.Proxy, Phase.Request);
    this.closeAfter = true;
    this.close();
  }

  // ---- called by the stream ----

  get clientConn(): object {
    return this;
  }

  get headBytes(): number {
    return this.parser.headBytes;
  }

  sendInterim(res: HtxResponse): void {
    // HTTP/1.0 clients do not know interim responses.
    if (this.stream === null || this.stream.req.version < 11) return;
    if (res.status === 100 && res.headers.length === 0) {
      this.bytesOut += CONTINUE_100.length;
      this.write(CONTINUE_100);
      return;
    }
    const head = serializeResponseHead(res, { close: false, keepAlive: false, framing: BodyKind.None, contentLength: -1 });
    this.bytesOut += head.length;
    this.write(head);
  }

  sendHead(res: HtxResponse, close: boolean): boolean {
    const clientV = this.stream!.req.version;
    let framing = res.bodyKind;
    if (framing === BodyKind.UntilClose) close = true;
    if (framing === BodyKind.Chunked && clientV < 11) {
      // An HTTP/1.0 client cannot read chunks: send the payload raw and close to delimit it.
      framing = BodyKind.UntilClose;
      close = true;
    }
    if (this.fe.ctx.stopping || this.closeAfter) close = true;
    this.resFraming = framing;
    const hop: H1Hop = {
      close: close && framing !== BodyKind.Tunnel,
      keepAlive: !close && clientV < 11,
      framing,
      contentLength: res.contentLength,
    };
    const head = serializeResponseHead(res, hop);
    this.bytesOut += head.length;
    if (framing === BodyKind.Tunnel) {
      this.write(head);
      this.startTunnel();
    } else {
      // The head waits for the body bytes of the same read, to leave with them in one write.
      this.pendingHead = head;
    }
    return close;
  }

  sendData(data: Buffer): boolean {
    const n = data.length;
    this.bytesOut += n;
    const chunked = this.resFraming === BodyKind.Chunked;
    const head = this.pendingHead;
    if (head === null && !chunked) return this.write(data);
    this.pendingHead = null;
    let prefix = head === null ? '' : head;
    if (chunked) prefix += chunkHeader(n);
    if (n <= COALESCE_MAX) {
      // Small payload: head, chunk framing and data in one buffer, one write, one system call.
      const suffix = chunked ? 2 : 0;
      const buf = Buffer.allocUnsafe(prefix.length + n + suffix);
      const at = prefix.length > 0 ? buf.write(prefix, 0, 'latin1') : 0;
      data.copy(buf, at);
      if (chunked) {
        buf[at + n] = 13;
        buf[at + n + 1] = 10;
      }
      return this.write(buf);
    }
    // Large payload: not worth a copy; the socket gathers the parts in one writev.
    this.socket.cork();
    if (prefix.length > 0) this.write(prefix);
    let ok = this.write(data);
    if (chunked) ok = this.write(chunkEnd());
    this.socket.uncork();
    return ok;
  }

  sendEnd(trailers: HtxHeaders | undefined): void {
    this.flush();
    if (this.resFraming !== BodyKind.Chunked) return;
    const last = lastChunk(trailers);
    this.bytesOut += last.length;
    this.write(last);
  }

  flush(): void {
    const head = this.pendingHead;
    if (head === null) return;
    this.pendingHead = null;
    if (!this.write(head)) this.stream?.onClientFull();
  }

  sendLocal(raw: Buffer): void {
    this.bytesOut += raw.length;
    this.write(raw);
  }

  /** Writes to the client; returns false when the socket buffer is full (wait for drain). */
  write(data: Buffer | string): boolean {
    if (this.closed || this.clientGone) return true;
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  private sendRaw(b: Buffer): void {
    if (!this.closed) this.socket.write(b);
  }

  /** Stops reading from the client (backpressure towards the client). */
  pauseReading(): void {
    if (!this.closed) this.socket.pause();
  }

  resumeReading(): void {
    if (!this.closed && this.pending.length < this.fe.ctx.bufsize) this.socket.resume();
  }

  /** Switches the connection to a tunnel: every later client byte goes to the stream as data. */
  startTunnel(): void {
    this.tunnel = true;
    this.parser.startTunnel();
    const rest = this.pending;
    this.pending = EMPTY;
    if (rest.length) this.stream?.onRequestData(rest);
    this.armClient();
  }

  /**
   * The stream finished its exchange. The connection then waits for the next request, or
   * closes when `close` is set or the client may not send more.
   */
  streamDone(s: HttpStream, close: boolean): void {
    if (this.stream !== s) return;
    this.stream = null;
    if (close || this.closeAfter || this.clientEnded || this.clientGone || this.tunnel || this.fe.ctx.stopping ||
        this.parser.state === H1State.Error) {
      this.close();
      return;
    }
    if (this.parser.state !== H1State.Done && this.parser.state !== H1State.Head) {
      // The response went out before the request ended (a local answer, an early response):
      // the rest of the request body is read and dropped, then the connection goes on.
      this.draining = true;
      this.armClient();
      return;
    }
    this.goIdle();
  }

  /** Waits for the next request (keep-alive), running a pipelined one if it already arrived. */
  private goIdle(): void {
    this.idleSince = Date.now();
    this.sawBytes = false;
    this.reqStart = 0;
    const t = this.fe.config.timeouts;
    this.arm('keepalive', t.httpKeepAlive ?? t.httpRequest ?? t.client);
    if (this.parser.state === H1State.Done) this.parser.reset();
    this.socket.resume();
    if (this.pending.length > 0 && !this.processing) {
      const rest = this.pending;
      this.pending = EMPTY;
      this.reqStart = Date.now();
      const t2 = this.fe.config.timeouts;
      this.arm('head', t2.httpRequest ?? t2.client);
      // Run the next pipelined request after the current call stack unwinds.
      queueMicrotask(() => {
        if (!this.closed) this.process(rest);
      });
    }
  }

  /** Closes the client connection: FIN after pending writes, or a reset when `graceful` is false. */
  close(graceful = true): void {
    if (this.closed) return;
    this.closed = true;
    wheel.disarm(this.timer);
    if (this.privateConn) {
      this.privateConn.close(true);
      this.privateConn = null;
    }
    if (this.clientGone) graceful = false;
    if (graceful) this.socket.end();
    else this.socket.destroy();
    // A client that never reads must not keep the socket forever after our FIN.
    if (graceful) {
      const t = this.fe.config.timeouts;
      const linger = t.clientFin ?? t.client ?? 5000;
      const timer = setTimeout(() => this.socket.destroy(), linger);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
    }
    this.fe.closed(this);
  }

  softStop(): void {
    if (this.stream === null && !this.parser.inMessage) this.close();
    else this.closeAfter = true;
  }

  kill(): void {
    this.stream?.onClientGone();
    this.close(false);
  }

  /** Logs a request that never became a stream (bad request, timeout, abort). */
  private logBadRequest(status: number, cause: Cause, phase: Phase): void {
    const fe = this.fe;
    if (status >= 400) fe.counters.hrsp[Math.floor(status / 100) - 1]!++;
    if (!fe.logger) return;
    // dontlognull: a connection that never sent a byte is not logged.
    if (fe.config.options.dontlognull && this.reqCount === 0 && !this.parser.inMessage) return;
    fe.logger.traffic(buildHttpLogRecord(null, this, status, termState(cause, phase)));
  }
}

/** "::ffff:127.0.0.1" -> "127.0.0.1", as HAProxy prints IPv4 clients of dual-stack sockets. */
export function stripV4Mapped(a: string): string {
  return a.startsWith('::ffff:') && a.indexOf('.') > 0 ? a.slice(7) : a;
}
