// One HTTP request/response exchange between a client-side endpoint and a server-side endpoint
// (HAProxy's stream). It runs the request rules, picks the backend and the server (or queues),
// connects with retries, forwards both messages with backpressure, and ends through a single
// path that records the termination state, updates counters and logs.

import { BodyKind, headerGet, type HtxHeaders, type HtxRequest, type HtxResponse } from '../htx/index.js';
import { H1ErrorKind, serializeResponseHead, type H1Hop } from '../proto/h1/index.js';
import { Cause, errorPage, Phase } from '../core/errors.js';
import { wheel, type Timer } from '../core/timer.js';
import { AssignResult, type Backend, type BalanceInput, type Pending, type PendingQueue, type Server } from '../backend/index.js';
import { H1BackConn, type H1BackOwner } from '../mux/h1-back.js';
import type { ClientSide } from './sides.js';
import { applyForwardFor } from '../http/index.js';
import { errorReply, lastRuleIndex, runHttpRules, VerdictKind, type AnswerVerdict, type HttpReply, type HttpRule, type Verdict } from '../http/actions/index.js';
import type { ReplyTemplate } from '../http/actions/reply.js';
import { Txn } from './txn.js';
import { buildHttpLogRecord, nextRequestCounter } from './log-record.js';
import type { LogRecord } from '../log/index.js';
import { afterConnectFailure, RetryDecision, turnAroundDelay } from './retry.js';

const enum St {
  /** Request rules, routing. */
  Init = 0,
  Queued = 1,
  Connecting = 2,
  /** Request head sent, waiting for the response head. */
  WaitResponse = 3,
  /** Response head sent to the client, body flowing. */
  Response = 4,
  Tunnel = 5,
  Done = 6,
  /** Held by a rule before routing: tarpit, or waiting for the request body. */
  Hold = 7,
  /** Response head received, its rules waiting for the response body. */
  WaitResBody = 8,
}

/** Where the rules of the exchange stand (HAProxy runs backend response rules first). */
const enum Stage {
  FrontRequest = 0,
  BackRequest = 1,
  BackResponse = 2,
  FrontResponse = 3,
}

type TimerFor = 'queue' | 'connect' | 'server' | 'retry' | 'tunnel' | 'tarpit' | 'reqbody' | 'resbody' | 'none';

const CONTINUE: HtxResponse = { status: 100, reason: 'Continue', version: 11, headers: [], bodyKind: BodyKind.None, contentLength: -1, wantClose: false };

function isWebsocketUpgrade(req: HtxRequest): boolean {
  return req.upgrade.length === 9 && req.upgrade.toLowerCase() === 'websocket';
}

/** Methods a reused connection's silent close may be retried with on a fresh connection. */
function isSafeMethod(m: string): boolean {
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || m === 'TRACE';
}

export class HttpStream extends Txn implements H1BackOwner, Pending, BalanceInput, Timer {
  st = St.Init;
  be: Backend | null = null;
  srv: Server | null = null;
  conn: H1BackConn | null = null;
  res: HtxResponse | null = null;
  /** Request body received before the server connection could take it. */
  private reqBuf: Buffer[] = [];
  private reqBufBytes = 0;
  /** Request body bytes received so far (req.body_size). */
  reqBodyBytes = 0;
  /** Body sent so far is kept whole (for a retry on a fresh connection) while under bufsize. */
  private reqKeptWhole = true;
  reqEnded = false;
  private reqTrailers: HtxHeaders | undefined;
  private reqHeadSent = false;
  /** Framing of the request body on the server hop. */
  private reqFraming: BodyKind = BodyKind.None;
  private resTrailers: HtxHeaders | undefined;
  /** The response became a tunnel (101, CONNECT). */
  private tunnel = false;
  /** Close the client connection after this response. */
  closeClient = false;
  /** Close the server connection after this response. */
  private closeServer = false;
  private retriesLeft = 0;
  retriesDone = 0;
  redispatched = false;
  private prevSrv: Server | null = null;
  /** A retry on a fresh connection after a reused one was found closed was already used. */
  private freshRetryDone = false;
  // Timer: the stream's own deadline on the server side (connect, response, queue, turn-around).
  expire = 0;
  slot = -1;
  pos = -1;
  private readonly timer: Timer = this;
  private timerFor: TimerFor = 'none';
  /** The rule list being run and the rule to resume from (after wait-for-body). */
  private stage = Stage.FrontRequest;
  private ruleFrom = 0;
  /** The reply a tarpit sends when its time is over (null: the proxy's error message). */
  private tarpitReply: HttpReply | null = null;
  private tarpitStatus = 500;
  /** When the tarpit started: HAProxy logs the time held as Tw. */
  private tHold = 0;
  /** Response body held while response rules wait for it. */
  private resBuf: Buffer[] = [];
  resBodyBytes = 0;
  private resEnded = false;
  // Termination state and timing, for the log.
  cause: Cause = Cause.None;
  phase: Phase = Phase.None;
  status = -1;
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

  /** The response body held while response rules wait for it. */
  resBody(): string | null {
    if (this.resBuf.length === 0) return null;
    if (this.resBuf.length > 1) this.resBuf = [Buffer.concat(this.resBuf)];
    return this.resBuf[0]!.toString('latin1');
  }

  get reqComplete(): boolean {
    return this.reqEnded;
  }

  get resComplete(): boolean {
    return this.resEnded;
  }

  /**
   * The frontend's http-request rules, then use_backend (first match wins), then the backend's
   * own rules when it is another section; resumes where a wait-for-body verdict stopped.
   */
  private requestRules(): void {
    const fe = this.front.fe;
    if (this.stage === Stage.FrontRequest) {
      const rules = fe.rules?.request;
      if (rules !== undefined && rules.length > 0 && !this.requestVerdict(runHttpRules(rules, this, this.ruleFrom))) return;
      this.ruleFrom = 0;
      const be = this.route();
      if (be === null) {
        this.answerError(503, Cause.ServerAbort, Phase.Connect);
        return;
      }
      this.be = be;
      be.beconn++;
      be.counters.cur++;
      be.counters.stot++;
      this.stage = Stage.BackRequest;
    }
    const be = this.be!;
    const rules = be.rules?.request;
    if (be.config !== fe.config && rules !== undefined && rules.length > 0 && !this.requestVerdict(runHttpRules(rules, this, this.ruleFrom))) return;
    this.ruleFrom = 0;
    this.st = St.Init;
    const req = this.req;
    if (fe.config.options.forwardfor) applyForwardFor(req.headers, fe.config.options.forwardfor, this.front.clientIp);
    else if (be.config.options.forwardfor) applyForwardFor(req.headers, be.config.options.forwardfor, this.front.clientIp);
    const feo = fe.config.options;
    const beo = be.config.options;
    this.closeServer = feo.httpServerClose || beo.httpServerClose || feo.httpClose || beo.httpClose;
    this.closeClient = req.wantClose || feo.httpClose || beo.httpClose;
    this.retriesLeft = be.config.retries;
    this.reqFraming = req.bodyKind === BodyKind.Length ? BodyKind.Length : req.bodyKind === BodyKind.Chunked ? BodyKind.Chunked : BodyKind.None;
    this.assign();
  }

  /** The backend chosen by use_backend rules (a dynamic name not found falls back), or the default. */
  private route(): Backend | null {
    const fe = this.front.fe;
    const ub = fe.useBackendRules;
    for (let i = 0; i < ub.length; i++) {
      const r = ub[i]!;
      if (r.cond !== null && !r.cond.test(this)) continue;
      if (r.be !== null) return r.be;
      const be = fe.ctx.backends.get(r.name!.render(this));
      return be !== undefined && be.config.mode === 'http' ? be : fe.defaultBackend;
    }
    return fe.defaultBackend;
  }

  /** Acts on a request rule's verdict; true to go on with the request. */
  private requestVerdict(v: Verdict): boolean {
    switch (v.kind) {
      case VerdictKind.Continue:
      case VerdictKind.Stop:
        return true;
      case VerdictKind.Answer:
        if (v.denied) this.front.fe.counters.denied++;
        else this.front.fe.counters.intercepted++;
        if (this.bodyIncomplete()) {
          // The rest of a body already read arrives in this same turn: answer once it is parsed,
          // then close only if the body is still incomplete, as HAProxy (which sees its buffer).
          this.st = St.Hold;
          queueMicrotask(() => {
            if (this.st === St.Hold) this.ruleAnswer(v);
          });
          return false;
        }
        this.ruleAnswer(v);
        return false;
      case VerdictKind.Tarpit: {
        // The request is held, then denied: a client that goes away meanwhile is logged "CT".
        this.front.fe.counters.denied++;
        this.st = St.Hold;
        this.tarpitReply = v.errmsg === true ? null : v.reply;
        this.tarpitStatus = v.status;
        // The timeout of the proxy whose rule tarpitted: the backend's for a backend rule.
        const t = this.stage === Stage.BackRequest ? this.be!.config.timeouts.tarpit : this.front.fe.config.timeouts.tarpit;
        this.tHold = Date.now();
        this.armTimer('tarpit', t);
        return false;
      }
      case VerdictKind.WaitForBody:
        this.st = St.Hold;
        this.ruleFrom = lastRuleIndex;
        this.sendContinue();
        this.armTimer('reqbody', v.time);
        return false;
      case VerdictKind.Error:
        this.front.fe.counters.failedRewrites++;
        this.answerError(500, Cause.Proxy, Phase.Request);
        return false;
    }
  }

  /** A request rule's answer: a body still incomplete then closes the connection. */
  private ruleAnswer(v: AnswerVerdict): void {
    const cause = v.cause === 'P' ? Cause.Proxy : Cause.Local;
    // v.close: the action's own reason (a redirect of a request with a body always closes).
    const close = v.close || this.bodyIncomplete();
    if (v.errmsg === true) this.answerError(v.status, cause, Phase.Request, true, close);
    else this.answerReply(v.reply, cause, Phase.Request, close);
  }

  private bodyIncomplete(): boolean {
    const req = this.req;
    return !this.reqEnded && req.bodyKind !== BodyKind.None && !(req.bodyKind === BodyKind.Length && req.contentLength === 0);
  }

  /** A client waiting for "100 Continue" before sending the body that rules wait for gets it now. */
  private sendContinue(): void {
    const req = this.req;
    if (req.version < 11 || this.reqBodyBytes > 0 || this.reqEnded) return;
    const h = req.headers;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i]!.length === 6 && h[i]!.toLowerCase() === 'expect' && h[i + 1]!.toLowerCase() === '100-continue') {
        h.splice(i, 2);
        this.front.sendInterim(CONTINUE);
        return;
      }
    }
  }

  /** Request body arrived while rules wait for it: run them again from the waiting rule. */
  private requestBodyProgress(): void {
    if (this.st !== St.Hold || this.timerFor !== 'reqbody') return;
    const v = runHttpRules(this.stage === Stage.FrontRequest ? this.front.fe.rules!.request : this.be!.rules!.request, this, this.ruleFrom);
    if (v.kind === VerdictKind.WaitForBody) {
      this.ruleFrom = lastRuleIndex;
      return;
    }
    wheel.disarm(this.timer);
    this.timerFor = 'none';
    if (!this.requestVerdict(v)) return;
    this.ruleFrom = this.stage === Stage.FrontRequest ? (this.front.fe.rules?.request.length ?? 0) : (this.be?.rules?.request.length ?? 0);
    this.requestRules();
  }

  private assign(): void {
    const be = this.be!;
    const avoid = this.prevSrv;
    const forced = avoid === null ? this.useServer(be) : null;
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

  /** Pending: a queue gave us a slot on `srv`. */
  dequeued(srv: Server): void {
    if (this.st !== St.Queued) {
      // Should not happen; give the slot back rather than leak it.
      srv.release();
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
    let conn: H1BackConn | null = null;
    if (!this.freshRetryDone) {
      const priv = front.privateConn;
      if (priv !== null && priv.server === srv && priv.reusable) {
        front.privateConn = null;
        conn = priv;
      } else {
        conn = srv.pool.take(be.config.httpReuse, front.reqCount === 1);
      }
    }
    if (conn !== null) {
      this.conn = conn;
      this.tc = 0;
      this.tConnected = Date.now();
      this.sendRequest();
      return;
    }
    const port = srv.port || front.localPort;
    conn = H1BackConn.connect(srv, srv.host, port, front.fe.ctx.h1Limits);
    this.conn = conn;
    conn.owner = this;
    conn.socket.once('connect', () => {
      if (this.conn !== conn) return;
      conn.connected = true;
      this.tConnected = Date.now();
      this.tc = this.tConnected - this.tConnStart;
      this.sendRequest();
    });
    this.armTimer('connect', be.config.timeouts.connect);
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
    const close = this.closeServer || !srv.pool.wouldKeep(conn);
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
      if (!this.conn!.socket.write(data)) this.front.pauseReading();
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

  /**
   * http-response rules, the backend's then the frontend's (HAProxy's order), resumed where a
   * wait-for-body verdict stopped; then the head goes to the client.
   */
  private responseRules(): void {
    const fe = this.front.fe;
    const be = this.be!;
    if (this.stage === Stage.BackResponse) {
      const rules = be.rules?.response;
      if (rules !== undefined && rules.length > 0 && !this.responseVerdict(runHttpRules(rules, this, this.ruleFrom))) return;
      this.ruleFrom = 0;
      this.stage = Stage.FrontResponse;
    }
    const rules = fe.rules?.response;
    if (be.config !== fe.config && rules !== undefined && rules.length > 0 && !this.responseVerdict(runHttpRules(rules, this, this.ruleFrom))) return;
    this.sendResponseHead();
  }

  /** Acts on a response rule's verdict; true to go on with the response. */
  private responseVerdict(v: Verdict): boolean {
    switch (v.kind) {
      case VerdictKind.Continue:
      case VerdictKind.Stop:
        return true;
      case VerdictKind.Answer:
      case VerdictKind.Tarpit:
        // The server's response is dropped, and its connection with it.
        if (v.kind === VerdictKind.Answer && !v.denied) this.front.fe.counters.intercepted++;
        else this.be!.counters.deniedResp++;
        this.closeServer = true;
        this.res = null;
        const cause = v.kind === VerdictKind.Answer && v.cause === 'L' ? Cause.Local : Cause.Proxy;
        if (v.errmsg === true) this.answerError(v.status, cause, Phase.Headers);
        else this.answerReply(v.reply, cause, Phase.Headers, v.kind === VerdictKind.Answer && v.close);
        return false;
      case VerdictKind.WaitForBody:
        if (this.st !== St.WaitResBody) {
          this.st = St.WaitResBody;
          this.armTimer('resbody', v.time);
        }
        this.ruleFrom = lastRuleIndex;
        return false;
      case VerdictKind.Error:
        this.be!.counters.failedRewrites++;
        this.closeServer = true;
        this.res = null;
        this.answerError(500, Cause.Proxy, Phase.Headers);
        return false;
    }
  }

  /** Response body arrived while response rules wait for it. */
  private responseBodyProgress(): void {
    this.responseRules();
    if (this.st !== St.Response) return;
    // The rules are done: the held body follows the head.
    const held = this.resBuf;
    this.resBuf = [];
    for (const b of held) this.forwardServerData(b);
    if (this.resEnded) this.endResponse();
  }

  /** Runs the http-after-response rules on `res`; false when one failed (the caller answers 500). */
  private afterResponseRules(res: HtxResponse): boolean {
    const fe = this.front.fe;
    const be = this.be;
    const saved = this.res;
    this.res = res;
    let ok = true;
    if (be !== null && be.config !== fe.config) ok = runAfter(be.rules?.afterResponse, this);
    if (ok) ok = runAfter(fe.rules?.afterResponse, this);
    if (saved !== null) this.res = saved;
    return ok;
  }

  /** The response head, after every rule, to the client. */
  private sendResponseHead(): void {
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
    this.conn?.socket.pause();
    this.front.armClient();
  }

  onServerData(data: Buffer): void {
    if (this.st === St.WaitResBody) {
      this.resBuf.push(data);
      this.resBodyBytes += data.length;
      // Beyond what rules may wait for, TCP holds the rest.
      if (this.resBodyBytes >= this.bodyLimit) this.conn?.socket.pause();
      this.responseBodyProgress();
      return;
    }
    this.forwardServerData(data);
  }

  private forwardServerData(data: Buffer): void {
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

  private endResponse(): void {
    if (this.st !== St.Response) return;
    this.front.sendEnd(this.resTrailers);
    this.finish(Cause.None, Phase.None);
  }

  onServerParseError(_kind: H1ErrorKind, _reason: string): void {
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
        if (conn.uses > 1 && conn.parser.headBytes === 0 && !this.freshRetryDone) {
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
    if (this.conn !== null && (this.st === St.Response || this.st === St.Tunnel)) this.conn.socket.resume();
    if (this.st === St.Response) this.front.disarm();
  }

  // ---- client side events ----

  /** The client sent its FIN. */
  onClientEnd(): void {
    if (this.st === St.Tunnel) {
      this.conn?.socket.end();
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

  /** The client connection is gone (reset or closed). */
  onClientGone(): void {
    if (this.st === St.Done) return;
    if (this.st === St.Tunnel) {
      this.finish(Cause.None, Phase.None);
      return;
    }
    this.clientAbort();
  }

  private clientAbort(): void {
    if (this.st === St.Hold && this.timerFor === 'tarpit') {
      // HAProxy 2.6 logs a client leaving a tarpit as the tarpit itself.
      this.tw = Date.now() - this.tHold;
      this.abort(Cause.Proxy, Phase.Tarpit, true);
      return;
    }
    if (this.srv) this.srv.counters.cliAbrt++;
    const phase =
      this.st === St.Queued ? Phase.Queue
      : this.st === St.Connecting ? Phase.Connect
      : this.st === St.WaitResponse ? Phase.Headers
      : this.st === St.Init ? Phase.Request
      : this.st === St.Hold ? Phase.Request
      : this.st === St.WaitResBody ? Phase.Headers
      : Phase.Data;
    this.abort(Cause.ClientAbort, phase, true);
  }

  onClientTimeout(): void {
    this.abort(Cause.ClientTimeout, this.reqEnded ? Phase.Data : Phase.Request, true);
  }

  // ---- timeouts and retries ----

  private tunnelTimeout(): number | undefined {
    const bt = this.be!.config.timeouts;
    return bt.tunnel ?? this.front.fe.config.timeouts.tunnel ?? bt.server;
  }

  private armTimer(what: TimerFor, ms: number | undefined): void {
    this.timerFor = what;
    wheel.arm(this.timer, ms);
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
    const d = afterConnectFailure(srv, be, this.retriesLeft);
    if (d === RetryDecision.GiveUp) {
      this.answerError(503, cause, Phase.Connect);
      return;
    }
    this.retriesLeft--;
    this.retriesDone++;
    if (d === RetryDecision.Redispatch) {
      this.redispatched = true;
      this.prevSrv = srv;
      this.srv = null;
      srv.release();
      this.st = St.Init;
      this.assign();
      return;
    }
    this.st = St.Connecting;
    this.armTimer('retry', turnAroundDelay(be));
  }

  // ---- the one way out ----

  private countStatus(status: number): void {
    const cls = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
    this.front.fe.counters.hrsp[cls]!++;
    if (this.srv) this.srv.counters.hrsp[cls]!++;
    if (this.be) this.be.counters.hrsp[cls]!++;
  }

  /**
   * Answers with the error message for `status` and ends the stream: the proxy's `http-error`
   * reply, else its errorfile, else HAProxy's page. http-after-response rules apply to it unless
   * `after` is false (they failed on the response being replaced).
   */
  private answerError(status: number, cause: Cause, phase: Phase, after = true, close = false): void {
    // HAProxy's http_error_message: the backend's message (http-error, errorfile), then the
    // frontend's, then the default page.
    let template: ReplyTemplate | undefined;
    let custom: Buffer | undefined;
    // The errorfiles of the proxy whose message is used.
    let files: ReadonlyMap<number, Buffer> | undefined;
    const be = this.be;
    const fe = this.front.fe;
    if (be !== null) {
      template = be.rules?.errors.get(status);
      if (template === undefined && (custom = be.config.errorfiles.get(status)) !== undefined) files = be.config.errorfiles;
    }
    if (template === undefined && custom === undefined) {
      template = fe.rules?.errors.get(status);
      if (template === undefined && (custom = fe.config.errorfiles.get(status)) !== undefined) files = fe.config.errorfiles;
    }
    // HAProxy's pages as bytes, for HTTP/1.1 clients; others need their connection header.
    if (template !== undefined || (after && this.hasAfterResponseRules()) || this.req.version < 11 || close) {
      const reply = template !== undefined ? template.build(this) : errorReply(status, files);
      this.answerReply(reply, cause, phase, errorPage(status).close || close, after);
      return;
    }
    if (custom !== undefined) {
      // An errorfile without Content-Length is delimited by the close of the connection.
      const unframed = closeDelimited(custom);
      this.answerLocal(unframed ?? custom, status, cause, phase, errorPage(status).close || unframed !== null);
      return;
    }
    const page = errorPage(status);
    const mustClose = page.close || this.bodyStillComing();
    if (this.req.method === 'HEAD') this.answerLocal(page.head, status, cause, phase, mustClose);
    else this.answerLocal(mustClose ? page.rawClose : page.raw, status, cause, phase, mustClose);
  }

  /**
   * Once part of the request went to a server, the rest of its body cannot be told apart from a
   * next request: the connection closes after the answer, and the answer says so.
   */
  private bodyStillComing(): boolean {
    return !this.reqEnded && this.reqHeadSent;
  }

  private hasAfterResponseRules(): boolean {
    const fe = this.front.fe.rules?.afterResponse.length ?? 0;
    const be = this.be !== null && this.be.config !== this.front.fe.config ? (this.be.rules?.afterResponse.length ?? 0) : 0;
    return fe + be > 0;
  }

  /** Sends a reply built by sluice (rules, errors), through the http-after-response rules. */
  private answerReply(reply: HttpReply, cause: Cause, phase: Phase, close: boolean, after = true): void {
    const req = this.req;
    const headOnly = req.method === 'HEAD';
    const mustClose =
      close || reply.unframed || reply.silent || req.wantClose || this.closeClient || this.front.closeAfter || this.front.fe.ctx.stopping || this.bodyStillComing();
    // An HTTP/1.0 client kept alive is told so.
    const keepAlive10 = !mustClose && req.version < 11;
    const rules = after && this.hasAfterResponseRules();
    if (reply.silent || (!rules && !keepAlive10)) {
      this.answerLocal(reply.bytes(mustClose, headOnly), reply.status, cause, phase, mustClose);
      return;
    }
    const res = reply.toHtx();
    if (rules && !this.afterResponseRules(res)) {
      // As HAProxy: the rules failed on sluice's own reply, which goes out as it was built.
      this.answerLocal(reply.bytes(mustClose, headOnly), reply.status, cause, phase, mustClose);
      return;
    }
    const hop: H1Hop = {
      close: mustClose,
      keepAlive: keepAlive10,
      framing: res.bodyKind === BodyKind.UntilClose ? BodyKind.UntilClose : res.bodyKind === BodyKind.None && !headOnly ? BodyKind.Length : res.bodyKind,
      contentLength: reply.body.length,
    };
    const head = Buffer.from(serializeResponseHead(res, hop), 'latin1');
    this.answerLocal(headOnly || reply.body.length === 0 ? head : Buffer.concat([head, reply.body]), res.status, cause, phase, mustClose);
  }

  /** Sends a complete response produced by the proxy itself and ends the stream. */
  private answerLocal(raw: Buffer, status: number, cause: Cause, phase: Phase, close = false): void {
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
      if (clean && be !== null && be.config.httpReuse === 'never' && !this.closeClient && conn.reusable) {
        this.front.privateConn?.close(true);
        this.front.privateConn = conn;
      } else if (!clean || !srv.pool.put(conn)) {
        conn.close(cause === Cause.None);
      }
    }
    if (this.srv !== null) {
      const srv = this.srv;
      srv.counters.bin += this.bytesIn;
      this.srv = null;
      srv.release();
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

/** Runs after-response rules; false when one failed. Only their effects on the message count. */
function runAfter(rules: readonly HttpRule[] | undefined, ctx: HttpStream): boolean {
  if (rules === undefined || rules.length === 0) return true;
  return runHttpRules(rules, ctx).kind !== VerdictKind.Error;
}

const unframedErrorfiles = new WeakMap<Buffer, Buffer | null>();

/**
 * For an errorfile without Content-Length: the same response announcing `connection: close`,
 * as HAProxy sends it; null when the file has a length. Computed once per file.
 */
function closeDelimited(raw: Buffer): Buffer | null {
  let v = unframedErrorfiles.get(raw);
  if (v === undefined) {
    const end = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
    v = /\ncontent-length:/i.test(head) || end < 0
      ? null
      : Buffer.concat([raw.subarray(0, end), Buffer.from('\r\nconnection: close'), raw.subarray(end)]);
    unframedErrorfiles.set(raw, v);
  }
  return v;
}
