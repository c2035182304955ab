// One HTTP request/response exchange between a client-side endpoint and a server-side endpoint
// (HAProxy's stream). It runs the request rules, picks the backend and the server (or queues),
// connects with retries, forwards both messages with backpressure, and ends through a single
// path that records the termination state, updates counters and logs.

import { BodyKind, headerGet, type HtxHeaders, type HtxRequest, type HtxResponse } from '../htx/index.js';
import { H1ErrorKind, type H1Hop } from '../proto/h1/index.js';
import { Cause, Phase } from '../core/errors.js';
import { wheel, type Timer } from '../core/timer.js';
import { proxyHeader } from '../net/proxy-protocol.js';
import { AssignResult, Observed, observedStatus, type Backend, type BalanceInput, type Pending, type PendingQueue, type Server } from '../backend/index.js';
import { H1BackConn, type H1BackOwner } from '../mux/h1-back.js';
import type { ClientSide, ServerSide } from './sides.js';
import { H2Pool, type H2BackStream } from '../mux/h2-back.js';
import { serverConnectOptions } from '../net/tls.js';
import { HttpAnalysers, St, Stage, type TimerFor } from './analysers.js';
import { buildHttpLogRecord, connLogRecord, nextRequestCounter } from './log-record.js';
import type { LogRecord } from '../log/index.js';
import { afterConnectFailure, afterRetryableFailure, RetryDecision, retryPause } from './retry.js';
import { RETRY_L7_MASK, RetryOn, retryStatusFlag } from '../config/model.js';

function isWebsocketUpgrade(req: HtxRequest): boolean {
  return req.upgrade.length === 9 && req.upgrade.toLowerCase() === 'websocket';
}

/** Methods a reused connection's silent close may be retried with on a fresh connection. */
function isSafeMethod(m: string): boolean {
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || m === 'TRACE';
}

export class HttpStream extends HttpAnalysers implements H1BackOwner, Pending, BalanceInput, Timer {
  srv: Server | null = null;
  conn: ServerSide | null = null;
  /** Request body received before the server connection could take it. */
  private reqBuf: Buffer[] = [];
  private reqBufBytes = 0;
  /** Body sent so far is kept whole (for a retry on a fresh connection) while under bufsize. */
  private reqKeptWhole = true;
  private reqTrailers: HtxHeaders | undefined;
  /** Framing of the request body on the server hop. */
  private reqFraming: BodyKind = BodyKind.None;
  private resTrailers: HtxHeaders | undefined;
  /** The response became a tunnel (101, CONNECT). */
  private tunnel = false;
  private retriesLeft = 0;
  retriesDone = 0;
  redispatched = false;
  private prevSrv: Server | null = null;
  /** A retry on a fresh connection after a reused one was found closed was already used. */
  private freshRetryDone = false;
  /** The server was chosen by a use-server rule, not by balancing. */
  private direct = false;
  // Timer: the stream's own deadline on the server side (connect, response, queue, turn-around).
  expire = 0;
  slot = -1;
  pos = -1;
  private readonly timer: Timer = this;
  // Termination state and timing, for the log.
  cause: Cause = Cause.None;
  phase: Phase = Phase.None;
  bytesIn = 0;
  readonly tStart: number;
  /** %rt: the request counter, taken when the stream starts. */
  readonly reqId = nextRequestCounter();
  /** The request line as received: rules may rewrite it, the log shows the original (%r). */
  readonly origMethod: string;
  readonly origUri: string;
  tQueued = -1;
  tConnStart = -1;
  tConnected = -1;
  tResponse = -1;
  tEnd = -1;
  tw = -1;
  tc = -1;
  tr = -1;
  // Pending (queue) links.
  qPrev: Pending | null = null;
  qNext: Pending | null = null;
  qOwner: PendingQueue | null = null;
  qSince = 0;
  qServedAtPush = 0;
  qSrvPos = 0;
  qBePos = 0;

  constructor(
    readonly front: ClientSide,
    readonly req: HtxRequest,
  ) {
    super();
    this.tStart = Date.now();
    this.origMethod = req.method;
    this.origUri = req.uri;
  }

  // ---- request phase ----

  start(): void {
    const fe = this.front.fe;
    const req = this.req;
    // HAProxy's "Connect from" line (no log format) comes with each stream, not each connection:
    // one per request, none for a connection that never sent a whole request head.
    const f = this.front;
    if (fe.logger?.logsAtAccept) fe.logger.accepted(connLogRecord(fe, f.clientIp, f.clientPort, f.localIp, f.localPort, f.acceptDate, this.reqId));
    this.bytesIn += this.front.headBytes;
    if (isWebsocketUpgrade(req) && headerGet(req.headers, 'sec-websocket-key') === undefined) {
      // As HAProxy: a WebSocket handshake without its key is not forwarded.
      fe.counters.ereq++;
      this.answerError(400, Cause.Proxy, Phase.Request);
      return;
    }
    this.captureHeaders(fe.config.reqCaptures, req.headers, false);
    this.requestRules();
  }

  /** The body received and still held (before it goes to the server, or kept for a retry). */
  reqBody(): string | null {
    if (this.reqBuf.length === 0) return null;
    if (this.reqBuf.length > 1) this.reqBuf = [Buffer.concat(this.reqBuf)];
    return this.reqBuf[0]!.toString('latin1');
  }

  protected routed(): void {
    const fe = this.front.fe;
    const be = this.be!;
    this.st = St.Init;
    const req = this.req;
    if (!this.addForwardFor()) return;
    const feo = fe.config.options;
    const beo = be.config.options;
    this.closeServer = feo.httpServerClose || beo.httpServerClose || feo.httpClose || beo.httpClose;
    this.closeClient = req.wantClose || feo.httpClose || beo.httpClose;
    this.retriesLeft = be.config.retries;
    this.reqFraming = req.bodyKind === BodyKind.Length ? BodyKind.Length : req.bodyKind === BodyKind.Chunked ? BodyKind.Chunked : BodyKind.None;
    this.assign();
  }

  private assign(): void {
    const be = this.be!;
    const avoid = this.prevSrv;
    const forced = avoid === null ? this.useServer(be) : null;
    this.direct = forced !== null;
    const { result, server } = forced !== null ? be.assignTo(forced, this) : be.assign(this, avoid, this);
    switch (result) {
      case AssignResult.Assigned:
        this.srv = server;
        this.tw = this.tQueued < 0 ? 0 : Date.now() - this.tQueued;
        this.connect();
        return;
      case AssignResult.Queued: {
        this.st = St.Queued;
        this.tHold = Date.now();
        // %Tw counts from the first time it waited (a redispatch may queue it again).
        if (this.tQueued < 0) this.tQueued = this.tHold;
        const t = be.config.timeouts;
        this.armTimer('queue', t.queue ?? t.connect);
        return;
      }
      case AssignResult.NoServer:
        this.answerError(503, Cause.ServerAbort, Phase.Connect);
        return;
      case AssignResult.QueueFull:
        this.answerError(503, Cause.ServerAbort, Phase.Queue);
        return;
    }
  }

  /** The server of the first `use-server` rule that applies and whose server is usable. */
  private useServer(be: Backend): Server | null {
    const rules = be.useServerRules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!r.cond.test(this)) continue;
      // A rule naming a server that is down, or a dynamic name naming none, gives way to the next.
      const srv = r.srv ?? be.server(r.name!.render(this)) ?? null;
      if (srv !== null && srv.usable) return srv;
    }
    return null;
  }

  // BalanceInput: what hashing algorithms read of the request, without allocating per request.
  get srcIp(): string {
    return this.front.clientIp;
  }
  get uri(): string {
    return this.req.uri;
  }
  header(lname: string): string | undefined {
    return headerGet(this.req.headers, lname);
  }

  /** Pending: the server we waited for went down; balanced again, logged as a redispatch ('+'). */
  requeue(): void {
    if (this.st !== St.Queued) return;
    this.redispatched = true;
    this.assign();
  }

  /** Pending: a queue gave us a slot on `srv`. */
  dequeued(srv: Server): void {
    if (this.st !== St.Queued) {
      // Should not happen; give the slot back rather than leak it.
      srv.release(this);
      return;
    }
    this.srv = srv;
    this.tw = Date.now() - this.tQueued;
    this.connect();
  }

  private connect(): void {
    const srv = this.srv!;
    const be = this.be!;
    this.st = St.Connecting;
    this.tConnStart = Date.now();
    const front = this.front;
    const policy = be.config.httpReuse;
    const port = srv.port || front.localPort;
    // Connections are kept per server name (SNI): a pooled one serves requests for its name only.
    const name = srv.sni !== null ? srv.sni.render(this) : '';
    // With `send-proxy` the header names the client: a connection serves that client only.
    const v = srv.config.sendProxy;
    const preamble = v === undefined ? null : proxyHeader(v, front.clientIp, front.clientPort, front.localIp, front.localPort);
    const key = preamble === null ? name : name + '\0' + preamble.toString('latin1');
    let conn: ServerSide | null = null;
    if (srv.useH2) {
      // Connections that failed or went away are never offered again, so a retry takes another.
      // A private connection (http-reuse never) is found again by its owner, the client connection.
      if (front.privateConn?.server === srv) front.privateConn = null;
      conn = this.h2Pool(srv).open(this, policy, front.reqCount === 1, front.clientConn, srv.host, port, name);
    } else if (!this.freshRetryDone) {
      const priv = front.privateConn;
      if (priv !== null && priv.server === srv && priv.reusable && (priv as H1BackConn).connName === key) {
        front.privateConn = null;
        conn = priv;
      } else {
        conn = srv.pool.take(policy, front.reqCount === 1, key);
      }
    }
    if (conn === null) {
      const limits = front.fe.ctx.h1Limits;
      const h1 = srv.tls !== null
        ? H1BackConn.connectTls(srv, serverConnectOptions(srv.tls, srv.host, port, name === '' ? undefined : name, srv.tls.alpn), limits)
        : H1BackConn.connect(srv, srv.host, port, limits, preamble, key);
      h1.owner = this;
      conn = h1;
    }
    if (!this.useConn(conn)) this.armTimer('connect', be.config.timeouts.connect);
  }

  /** Sends the request on `conn` once it is connected; true when sent at once. */
  private useConn(conn: ServerSide): boolean {
    this.conn = conn;
    if (conn.connected && !conn.switched) {
      this.tc = 0;
      this.tConnected = Date.now();
      this.sendRequest();
      return true;
    }
    conn.whenConnected(() => {
      if (this.conn !== conn || this.st !== St.Connecting) return;
      if (conn.switched) {
        this.switchVersion(conn);
        return;
      }
      this.tConnected = Date.now();
      this.tc = this.tConnected - this.tConnStart;
      this.srv!.observe(Observed.L4Ok);
      this.sendRequest();
    });
    return false;
  }

  private h2Pool(srv: Server): H2Pool {
    const c = srv.config;
    const h2 = this.front.fe.ctx.h2;
    return (srv.h2 ??= new H2Pool(srv, { ...h2.be, headerTableSize: h2.headerTableSize, maxFrameSize: h2.maxFrameSize }, c.poolMaxConn, c.poolPurgeDelay, c.maxReuse));
  }

  /**
   * The server chose the other HTTP version by ALPN on the connection opened for this request:
   * the request goes over that version, on the same socket when this stream gets it (the first
   * of an HTTP/2 connection's waiting streams does), else on a connection opened as usual.
   * Not a retry: nothing was sent.
   */
  private switchVersion(conn: ServerSide): void {
    const srv = this.srv!;
    const front = this.front;
    this.conn = null;
    let next: ServerSide | null = null;
    if (conn instanceof H1BackConn) {
      const sock = conn.takeSocket();
      conn.detach();
      if (sock !== null) {
        next = this.h2Pool(srv).adopt(sock, this, this.be!.config.httpReuse, front.clientConn, srv.host, srv.port || front.localPort, conn.connName);
      }
    } else {
      const h2 = conn as H2BackStream;
      const sock = h2.session.takeSocket();
      conn.detach();
      if (sock !== null) {
        const h1 = H1BackConn.adoptTls(srv, sock, front.fe.ctx.h1Limits, h2.session.name);
        h1.owner = this;
        next = h1;
      }
    }
    if (next === null) {
      // A connection opened as usual, with its own connect timer; %Tc counts from the first one.
      const t = this.tConnStart;
      this.connect();
      this.tConnStart = t;
      return;
    }
    this.useConn(next);
  }

  private sendRequest(): void {
    const conn = this.conn!;
    const srv = this.srv!;
    this.st = St.WaitResponse;
    conn.attach(this, this.req.method);
    // A chunked HTTP/1.0 request cannot be followed by another on the same server connection;
    // the 1.0 server closes after it without being told.
    const chunked10 = this.req.version === 10 && this.req.bodyKind === BodyKind.Chunked;
    if (chunked10) this.closeServer = true;
    const close = this.closeServer || (!conn.multiplexed && !srv.pool.wouldKeep(conn as H1BackConn));
    const hop: H1Hop = {
      close: close && !chunked10,
      // An HTTP/1.0 request keeps its version; it must ask for keep-alive explicitly.
      keepAlive: !close && this.req.version === 10,
      framing: this.reqFraming,
      contentLength: this.req.contentLength,
    };
    this.reqHeadSent = true;
    const ok = conn.sendRequest(this.req, hop, this.reqBuf, this.reqEnded, this.reqTrailers);
    if (!this.reqKeptWhole || this.reqBufBytes > this.front.fe.ctx.bufsize) this.dropKeptRequest();
    this.armTimer('server', this.be!.config.timeouts.server);
    if (ok) this.front.resumeReading();
  }

  onRequestData(data: Buffer): void {
    this.bytesIn += data.length;
    this.reqBodyBytes += data.length;
    if (this.st === St.Tunnel) {
      this.srv!.counters.bin += data.length;
      if (!this.conn!.sendRaw(data)) this.front.pauseReading();
      this.armTimer('tunnel', this.tunnelTimeout());
      return;
    }
    const bufsize = this.front.fe.ctx.bufsize;
    if (this.reqHeadSent && (this.st === St.WaitResponse || this.st === St.Response)) {
      if (this.reqKeptWhole) {
        this.reqBuf.push(data);
        this.reqBufBytes += data.length;
        if (this.reqBufBytes > bufsize) this.dropKeptRequest();
      }
      if (!this.conn!.sendData(data)) this.front.pauseReading();
      return;
    }
    // Not connected yet: everything must be kept to be sent; beyond a buffer, TCP holds the rest.
    this.reqBuf.push(data);
    this.reqBufBytes += data.length;
    if (this.reqBufBytes > bufsize) this.front.pauseReading();
    if (this.st === St.Hold) this.requestBodyProgress();
  }

  /** The request is too large to be sent again: stop keeping a copy of it. */
  private dropKeptRequest(): void {
    this.reqKeptWhole = false;
    this.reqBuf = [];
    this.reqBufBytes = 0;
  }

  onRequestTrailers(t: HtxHeaders): void {
    this.reqTrailers = t;
  }

  onRequestEnd(): void {
    this.reqEnded = true;
    if (this.reqHeadSent && (this.st === St.WaitResponse || this.st === St.Response)) this.conn!.sendEnd(this.reqTrailers);
    if (this.st === St.Done) return;
    // While waiting for the server the client owes nothing: only the server timeout runs.
    if (this.st !== St.Response) this.front.disarm();
    if (this.st === St.Hold) this.requestBodyProgress();
  }

  /** The request body was malformed after the head was accepted. */
  onRequestError(_kind: H1ErrorKind): void {
    this.front.fe.counters.ereq++;
    if (this.st === St.Response || this.st === St.Tunnel) {
      this.abort(Cause.Proxy, Phase.Data, true);
    } else {
      this.answerError(400, Cause.Proxy, Phase.Request);
    }
    this.front.closeAfter = true;
  }

  // ---- server side events ----

  onServerResponse(res: HtxResponse): void {
    if (this.st !== St.WaitResponse) return;
    if (res.status < 200 && res.bodyKind !== BodyKind.Tunnel) {
      // Interim responses (100 Continue, 103) go to the client as they come.
      this.front.sendInterim(res);
      return;
    }
    this.srv!.observe(observedStatus(res.status));
    if (this.be!.config.retryOn & RETRY_L7_MASK && this.l7Retry(retryStatusFlag(res.status))) return;
    if (res.status === 101 && isWebsocketUpgrade(this.req) && headerGet(res.headers, 'sec-websocket-accept') === undefined) {
      // A WebSocket switch without the server's accept key is an invalid response.
      this.srv!.counters.eresp++;
      this.answerError(502, Cause.Proxy, Phase.Headers);
      return;
    }
    this.res = res;
    this.tResponse = Date.now();
    this.tr = this.tResponse - this.tConnected;
    if (res.wantClose) this.closeServer = true;
    this.captureHeaders(this.front.fe.config.resCaptures, res.headers, true);
    this.endRequestScope();
    this.stage = Stage.BackResponse;
    this.ruleFrom = 0;
    this.responseRules();
  }

  /** The response head, after every rule, to the client. */
  protected sendResponseHead(): void {
    const res = this.res!;
    if (!this.afterResponseRules(res)) {
      this.closeServer = true;
      this.res = null;
      this.answerError(500, Cause.Proxy, Phase.Headers, false);
      return;
    }
    if (this.timerFor === 'resbody') this.armTimer('server', this.be!.config.timeouts.server);
    this.status = res.status;
    this.countStatus(res.status);
    if (this.front.clientGone) {
      // Nobody to send it to: the client left while the server worked.
      this.clientAbort(Phase.Data);
      return;
    }
    this.closeClient = this.front.sendHead(res, this.closeClient);
    if (res.bodyKind === BodyKind.Tunnel) {
      this.st = St.Tunnel;
      this.tunnel = true;
      this.armTimer('tunnel', this.tunnelTimeout());
      return;
    }
    this.st = St.Response;
  }

  /** The client's buffer is full: the server waits until it drains. */
  onClientFull(): void {
    this.conn?.pause();
    this.front.armClient();
  }

  onServerData(data: Buffer): void {
    if (this.st === St.WaitResBody) {
      this.resBuf.push(data);
      this.resBodyBytes += data.length;
      // Beyond what rules may wait for, TCP holds the rest.
      if (this.resBodyBytes >= this.bodyLimit) this.conn?.pause();
      this.responseBodyProgress();
      return;
    }
    this.forwardServerData(data);
  }

  protected forwardServerData(data: Buffer): void {
    const n = data.length;
    this.srv!.counters.bout += n;
    if (!this.front.sendData(data)) this.onClientFull();
    this.armTimer(this.st === St.Tunnel ? 'tunnel' : 'server', this.st === St.Tunnel ? this.tunnelTimeout() : this.be!.config.timeouts.server);
  }

  onServerTrailers(t: HtxHeaders): void {
    this.resTrailers = t;
  }

  onServerEnd(): void {
    this.resEnded = true;
    if (this.st === St.WaitResBody) {
      this.responseBodyProgress();
      return;
    }
    this.endResponse();
  }

  protected endResponse(): void {
    if (this.st !== St.Response) return;
    this.front.sendEnd(this.resTrailers);
    this.finish(Cause.None, Phase.None);
  }

  onServerParseError(kind: H1ErrorKind, _reason: string): void {
    // A close in the middle of the response head is no response, as HAProxy sees it (SH).
    if (kind === H1ErrorKind.Truncated && this.st === St.WaitResponse) {
      this.onServerClose(undefined);
      return;
    }
    this.srv!.observe(Observed.HttpInvalid);
    if (this.l7Retry(RetryOn.JunkResponse)) return;
    const srv = this.srv!;
    srv.counters.eresp++;
    this.be!.counters.eresp++;
    if (this.st === St.WaitResponse) {
      this.answerError(502, Cause.Proxy, Phase.Headers);
    } else {
      this.abort(Cause.Proxy, Phase.Data, false);
    }
  }

  onServerClose(err: Error | undefined): void {
    const conn = this.conn;
    if (conn === null) return;
    switch (this.st) {
      case St.Connecting:
        this.connectFailed(Cause.ServerAbort);
        return;
      case St.WaitResponse:
        if (conn.refused && this.reqKeptWhole && this.retriesLeft > 0) {
          // The server did not process the request (HTTP/2 REFUSED_STREAM, beyond its GOAWAY):
          // whatever its method, it goes again, on another connection.
          this.conn = null;
          conn.detach();
          this.srv!.counters.wretr++;
          this.be!.counters.wretr++;
          this.sendAgain(RetryDecision.SameServer);
          return;
        }
        // Nothing came back, or an incomplete head: empty-response, as HAProxy counts it.
        // `observe` leaves out reused connections (closed while idle, not a server failure).
        if (conn.uses <= 1) this.srv!.observe(err !== undefined ? Observed.HttpReadError : Observed.HttpBrokenPipe);
        if (this.l7Retry(RetryOn.EmptyResponse)) return;
        if (conn.uses > 1 && !conn.responseStarted && !this.freshRetryDone) {
          // A reused connection the server had already closed. Safe requests kept whole are
          // sent again on a fresh connection; others are dropped as HAProxy does.
          this.conn = null;
          conn.detach();
          conn.close(false);
          if (isSafeMethod(this.req.method) && this.reqKeptWhole) {
            this.freshRetryDone = true;
            this.reqHeadSent = false;
            this.connect();
            return;
          }
          if (this.front.reqCount > 1) {
            this.abort(Cause.ServerAbort, Phase.Headers, true);
            return;
          }
        }
        this.srv!.counters.eresp++;
        this.be!.counters.eresp++;
        this.answerError(502, Cause.ServerAbort, Phase.Headers);
        return;
      case St.Response:
      case St.WaitResBody:
      case St.Tunnel:
        if (this.st === St.Tunnel && !err) {
          this.finish(Cause.None, Phase.None);
          return;
        }
        this.srv!.counters.srvAbrt++;
        this.abort(Cause.ServerAbort, Phase.Data, false);
        return;
      default:
        return;
    }
  }

  beginServerBatch(): void {}

  endServerBatch(): void {
    this.front.flush();
  }

  onServerDrain(): void {
    this.front.resumeReading();
  }

  /** The client socket drained: the server may send again. */
  onClientDrain(): void {
    if (this.conn !== null && (this.st === St.Response || this.st === St.Tunnel)) this.conn.resume();
    if (this.st === St.Response) this.front.disarm();
  }

  // ---- client side events ----

  /** The client sent its FIN. */
  onClientEnd(): void {
    if (this.st === St.Tunnel) {
      this.conn?.endRaw();
      return;
    }
    if (!this.reqEnded) {
      this.front.fe.counters.ereq++;
      this.clientAbort();
      return;
    }
    // Request complete: finish the response, then close (unless abortonclose says stop now).
    this.closeClient = true;
    if (this.front.fe.config.options.abortOnClose || this.be?.config.options.abortOnClose) this.clientAbort();
  }

  /**
   * The client connection is gone (reset): whether this stream goes on without it. As HAProxy
   * without abortonclose, a whole request that is queued, connecting or waiting for its response
   * is still served: the server does its work, and the stream then ends as a client abort when
   * the response head comes (CD), or with the server timeout (sH).
   */
  outlivesClient(): boolean {
    if (!this.reqEnded || this.front.fe.config.options.abortOnClose || this.be?.config.options.abortOnClose) return false;
    if (this.st !== St.Queued && this.st !== St.Connecting && this.st !== St.WaitResponse) return false;
    this.closeClient = true;
    return true;
  }

  /** The client connection is gone (reset or closed). */
  onClientGone(): void {
    if (this.st === St.Done) return;
    if (this.st === St.Tunnel) {
      this.finish(Cause.None, Phase.None);
      return;
    }
    this.clientAbort();
  }

  private clientAbort(phase?: Phase): void {
    if (this.st === St.Hold && this.timerFor === 'tarpit') {
      // HAProxy 2.6 logs a client leaving a tarpit as the tarpit itself.
      this.tw = Date.now() - this.tHold;
      this.abort(Cause.Proxy, Phase.Tarpit, true);
      return;
    }
    if (this.srv) this.srv.counters.cliAbrt++;
    this.abort(Cause.ClientAbort, phase ?? this.phaseNow(), true);
  }

  /** The phase a stream ended from outside is logged in, by where it stands. */
  private phaseNow(): Phase {
    switch (this.st) {
      case St.Queued:
        return Phase.Queue;
      case St.Connecting:
        return Phase.Connect;
      case St.WaitResponse:
      case St.WaitResBody:
        return Phase.Headers;
      case St.Init:
      case St.Hold:
        return Phase.Request;
      default:
        return Phase.Data;
    }
  }

  /** Pending: the server's state change ends this stream (on-marked-down / on-marked-up). */
  kill(cause: Cause.Down | Cause.Up): void {
    if (this.st === St.Done) return;
    // Before the response began the client gets a 502 on a connection that stays (HAProxy's
    // "DH--"); later, the response is cut.
    if (this.st === St.Connecting || this.st === St.WaitResponse) {
      this.closeServer = true;
      this.answerError(502, cause, this.phaseNow());
    } else {
      this.abort(cause, this.phaseNow(), false);
    }
  }

    onClientTimeout(): void {
    this.abort(Cause.ClientTimeout, this.reqEnded ? Phase.Data : Phase.Request, true);
  }

  // ---- timeouts and retries ----

  private tunnelTimeout(): number | undefined {
    const bt = this.be!.config.timeouts;
    return bt.tunnel ?? this.front.fe.config.timeouts.tunnel ?? bt.server;
  }

  protected armTimer(what: TimerFor, ms: number | undefined): void {
    this.timerFor = what;
    wheel.arm(this.timer, ms);
  }

  protected disarmTimer(): void {
    wheel.disarm(this.timer);
    this.timerFor = 'none';
  }

  onTimeout(): void {
    switch (this.timerFor) {
      case 'queue':
        if (this.st !== St.Queued) return;
        this.be!.dequeueAbort(this);
        this.answerError(503, Cause.ServerTimeout, Phase.Queue);
        return;
      case 'connect':
        if (this.st !== St.Connecting) return;
        this.connectFailed(Cause.ServerTimeout);
        return;
      case 'retry':
        if (this.st === St.Connecting) this.connect();
        return;
      case 'server':
        if (this.st === St.WaitResponse) {
          this.srv!.observe(Observed.HttpReadTimeout);
          if (this.l7Retry(RetryOn.ResponseTimeout)) return;
          this.srv!.counters.eresp++;
          this.answerError(504, Cause.ServerTimeout, Phase.Headers);
        } else if (this.st === St.Response) {
          this.abort(Cause.ServerTimeout, Phase.Data, false);
        }
        return;
      case 'tunnel':
        if (this.st === St.Tunnel) this.abort(Cause.ClientTimeout, Phase.Data, false);
        return;
      case 'tarpit':
        if (this.st !== St.Hold) return;
        this.tw = Date.now() - this.tHold;
        if (this.tarpitReply === null) this.answerError(this.tarpitStatus, Cause.Proxy, Phase.Tarpit);
        else this.answerReply(this.tarpitReply, Cause.Proxy, Phase.Tarpit, false);
        return;
      case 'reqbody':
        // wait-for-body: the body did not come in time.
        if (this.st === St.Hold) this.answerError(408, Cause.ClientTimeout, Phase.Request, true, true);
        return;
      case 'resbody':
        if (this.st === St.WaitResBody) {
          this.closeServer = true;
          this.answerError(504, Cause.ServerTimeout, Phase.Request);
        }
        return;
    }
  }

  private connectFailed(cause: Cause): void {
    const conn = this.conn;
    this.conn = null;
    if (conn) {
      conn.detach();
      conn.close(false);
    }
    const srv = this.srv!;
    const be = this.be!;
    const pause = retryPause(be, cause === Cause.ServerTimeout, conn?.transportUp === true);
    const d = afterConnectFailure(srv, be, this.retriesLeft, this.direct);
    if (d === RetryDecision.GiveUp) {
      this.answerError(503, cause, Phase.Connect);
      return;
    }
    this.retriesLeft--;
    this.retriesDone++;
    if (d === RetryDecision.Redispatch) {
      this.redispatch(srv);
      return;
    }
    this.st = St.Connecting;
    if (pause === 0) this.connect();
    else this.armTimer('retry', pause);
  }

  /**
   * The request can go again: `disable-l7-retry` was not applied, and the whole request (head and
   * body, complete) is held within one buffer. HAProxy decides this at the first send; sluice when
   * the failure comes, so that a body that ended just after the head went out counts too.
   */
  private l7Replayable(): boolean {
    return !this.l7RetryDisabled && (this.reqEnded || this.req.bodyKind === BodyKind.None) && this.reqKeptWhole &&
      this.front.headBytes + this.reqBufBytes <= this.front.fe.ctx.bufsize;
  }

  /** Balancing again, avoiding `srv`. */
  private redispatch(srv: Server): void {
    this.redispatched = true;
    this.prevSrv = srv;
    this.srv = null;
    srv.release(this);
    this.st = St.Init;
    this.assign();
  }

  /**
   * A layer-7 retry, when `retry-on` names what happened (`flag`) and the request allows it: the
   * server connection (or HTTP/2 stream) is dropped, and the kept request goes again from its
   * unmodified copy, on a new connection, to the same server or another one per the redispatch
   * schedule, with no turn-around delay. Returns false when the failure must be answered.
   */
  private l7Retry(flag: number): boolean {
    const be = this.be!;
    if ((be.config.retryOn & flag) === 0 || this.st !== St.WaitResponse || !this.l7Replayable()) return false;
    const srv = this.srv!;
    const d = afterRetryableFailure(srv, be, this.retriesLeft, this.direct);
    if (d === RetryDecision.GiveUp) return false;
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) {
      conn.detach();
      conn.close(false);
    }
    this.sendAgain(d);
    return true;
  }

  /** The kept request goes again (one retry spent), to the same server or after balancing again. */
  private sendAgain(d: RetryDecision.SameServer | RetryDecision.Redispatch): void {
    this.retriesLeft--;
    this.retriesDone++;
    this.reqHeadSent = false;
    this.disarmTimer();
    if (d === RetryDecision.Redispatch) this.redispatch(this.srv!);
    else this.connect();
  }

  // ---- the one way out ----

  private countStatus(status: number): void {
    const cls = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
    this.front.fe.counters.hrsp[cls]!++;
    if (this.srv) this.srv.counters.hrsp[cls]!++;
    if (this.be) this.be.counters.hrsp[cls]!++;
  }

  /** Sends a complete response produced by the proxy itself and ends the stream. */
  protected answerLocal(raw: Buffer, status: number, cause: Cause, phase: Phase, close = false): void {
    if (this.st === St.Response || this.st === St.Tunnel) {
      this.abort(cause, phase, false);
      return;
    }
    this.status = status;
    this.countStatus(status);
    this.front.sendLocal(raw);
    // A request body still coming is read and dropped by the front connection, which then goes on.
    if (close) this.closeClient = true;
    this.finish(cause, phase);
  }

  /** Ends the stream abruptly: the client connection is closed (reset when `hard`). */
  private abort(cause: Cause, phase: Phase, hard: boolean): void {
    this.closeClient = true;
    this.closeServer = true;
    if (hard) this.front.close(false);
    this.finish(cause, phase);
  }

  private finish(cause: Cause, phase: Phase): void {
    if (this.st === St.Done) return;
    this.front.flush();
    const wasQueued = this.st === St.Queued;
    this.st = St.Done;
    this.cause = cause;
    this.phase = phase;
    this.tEnd = Date.now();
    wheel.disarm(this.timer);
    const be = this.be;
    if (wasQueued && be) be.dequeueAbort(this);
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) {
      conn.detach();
      const srv = conn.server;
      const clean = cause === Cause.None && this.reqEnded && !this.closeServer && !this.tunnel;
      if (conn.multiplexed) {
        // The stream ends; its connection stays with its pool (with its client under never).
        if (!clean) conn.close(false);
        else if (be !== null && be.config.httpReuse === 'never' && !this.closeClient) {
          const old = this.front.privateConn;
          if (old !== null && old.server !== srv) old.close(true);
          this.front.privateConn = conn;
        }
      } else if (clean && be !== null && be.config.httpReuse === 'never' && !this.closeClient && conn.reusable) {
        this.front.privateConn?.close(true);
        this.front.privateConn = conn;
      } else if (!clean || !srv.pool.put(conn as H1BackConn)) {
        conn.close(cause === Cause.None);
      }
    }
    if (this.srv !== null) {
      const srv = this.srv;
      srv.counters.bin += this.bytesIn;
      this.srv = null;
      srv.release(this);
      this.lastSrv = srv;
    }
    if (be !== null) {
      be.beconn--;
      be.counters.cur--;
      be.counters.bin += this.bytesIn;
      be.counters.bout += this.front.bytesOut;
    }
    const fe = this.front.fe;
    fe.counters.bin += this.bytesIn;
    fe.counters.bout += this.front.bytesOut;
    // `set-log-level silent` (-1) drops the line.
    if (fe.logger && this.logLevel !== -1) fe.logger.traffic(buildHttpLogRecord(this), this, this.logLevel);
    this.front.streamDone(this, this.closeClient);
  }

  /** Bytes sent to the client for this request (%B). */
  get bytesOut(): number {
    return this.front.bytesOut;
  }

  /** Rule strings that use `%` variables (%b, %s, %Tw...) read them from the stream's log record. */
  fillLogRecord(rec: LogRecord): void {
    Object.assign(rec, buildHttpLogRecord(this));
  }

  /** The server that handled the request, for the log, once finished. */
  lastSrv: Server | null = null;
}
