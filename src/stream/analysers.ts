// The HTTP analysers of a stream (HAProxy's http_process_req_common, http_process_res_common and
// their replies): the request rules, routing to a backend, the response rules, the
// http-after-response rules, and the replies sluice builds itself (rule answers, error
// messages). HttpStream extends this with the server connection, forwarding and the end of the
// exchange; what the analysers need from it is declared abstract here.

import { BodyKind, HTX_BLK, HTX_HDR, htxDataSize, htxRequestSize, type HtxRequest, type HtxResponse } from '../htx/index.js';
import { serializeResponseHead, type H1Hop } from '../proto/h1/index.js';
import { Cause, errorPage, Phase } from '../core/errors.js';
import type { Backend } from '../backend/index.js';
import { errorReply, lastRuleIndex, runHttpRules, VerdictKind, type AnswerVerdict, type HttpReply, type HttpRule, type Verdict } from '../http/actions/index.js';
import type { ReplyTemplate } from '../http/actions/reply.js';
import { applyForwardFor } from '../http/index.js';
import type { ClientSide } from './sides.js';
import { Txn } from './txn.js';

export const enum St {
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
export const enum Stage {
  FrontRequest = 0,
  BackRequest = 1,
  BackResponse = 2,
  FrontResponse = 3,
}

export type TimerFor = 'queue' | 'connect' | 'server' | 'retry' | 'tunnel' | 'tarpit' | 'reqbody' | 'resbody' | 'none';

const CONTINUE: HtxResponse = { status: 100, reason: 'Continue', version: 11, headers: [], bodyKind: BodyKind.None, contentLength: -1, wantClose: false };

export abstract class HttpAnalysers extends Txn {
  abstract override readonly front: ClientSide;
  abstract override readonly req: HtxRequest;
  st = St.Init;
  be: Backend | null = null;
  res: HtxResponse | null = null;
  status = -1;
  /** Request body bytes received so far (req.body_size). */
  reqBodyBytes = 0;
  reqEnded = false;
  /** The request head went to a server. */
  protected reqHeadSent = false;
  /** Close the client connection after this response. */
  closeClient = false;
  /** Close the server connection after this response. */
  protected closeServer = false;
  protected timerFor: TimerFor = 'none';
  /** The rule list being run and the rule to resume from (after wait-for-body). */
  protected stage = Stage.FrontRequest;
  protected ruleFrom = 0;
  /** Waiting for the request body for `option http-buffer-request`. */
  private buffering = false;
  /** The reply a tarpit sends when its time is over (null: the proxy's error message). */
  protected tarpitReply: HttpReply | null = null;
  protected tarpitStatus = 500;
  /** When the tarpit (or the queue) started: HAProxy logs the time held as Tw. */
  protected tHold = 0;
  /** Response body held while response rules wait for it. */
  protected resBuf: Buffer[] = [];
  resBodyBytes = 0;
  protected resEnded = false;

  /** Routing is done and the request rules passed: pick a server and connect. */
  protected abstract routed(): void;
  /** The response head, after every rule, to the client. */
  protected abstract sendResponseHead(): void;
  protected abstract forwardServerData(data: Buffer): void;
  protected abstract endResponse(): void;
  /** Sends a complete response produced by the proxy itself and ends the stream. */
  protected abstract answerLocal(raw: Buffer, status: number, cause: Cause, phase: Phase, close?: boolean): void;
  protected abstract armTimer(what: TimerFor, ms: number | undefined): void;
  protected abstract disarmTimer(): void;

  get reqComplete(): boolean {
    return this.reqEnded;
  }

  get resComplete(): boolean {
    return this.resEnded;
  }

  /** The response body held while response rules wait for it. */
  resBody(): string | null {
    if (this.resBuf.length === 0) return null;
    if (this.resBuf.length > 1) this.resBuf = [Buffer.concat(this.resBuf)];
    return this.resBuf[0]!.toString('latin1');
  }

  /**
   * The frontend's http-request rules, then use_backend (first match wins), then the backend's
   * own rules when it is another section; resumes where a wait-for-body verdict stopped.
   */
  protected requestRules(): void {
    const fe = this.front.fe;
    if (this.stage === Stage.FrontRequest) {
      if (this.ruleFrom === 0 && fe.config.options.httpBufferRequest && this.holdForBody()) return;
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
    if (this.ruleFrom === 0 && be.config.options.httpBufferRequest && this.holdForBody()) return;
    const rules = be.rules?.request;
    if (be.config !== fe.config && rules !== undefined && rules.length > 0 && !this.requestVerdict(runHttpRules(rules, this, this.ruleFrom))) return;
    this.ruleFrom = 0;
    this.routed();
  }

  /**
   * `option forwardfor`, once every request rule ran. A header that does not fit in the buffer
   * is a failed rewrite, whatever the strict mode (haproxy 2.6.x: 500, "PR"): answered here,
   * and false returned.
   */
  protected addForwardFor(): boolean {
    const cfg = this.front.fe.config.options.forwardfor || this.be!.config.options.forwardfor;
    if (!cfg) return true;
    const req = this.req;
    const h = req.headers;
    const n = h.length;
    // Measured only when no rule did and the request may be near the limit (an address takes
    // 39 bytes at most); taken first, to measure the body against the head as received.
    const room = this.reqRoom !== null || this.nearLimit(req, cfg.header.length + 39 + HTX_BLK) ? this.htxRoom(false) : null;
    applyForwardFor(h, cfg, this.front.clientIp);
    if (h.length === n || room === null || room.added()) return true;
    h.length = n;
    this.rewriteFailed();
    this.answerError(500, Cause.Proxy, Phase.Request);
    return false;
  }

  /** Whether `grow` more bytes could overflow the buffer of a request no rule rewrote (see HtxRoom). */
  private nearLimit(req: HtxRequest, grow: number): boolean {
    const ctx = this.front.fe.ctx;
    const body = Math.max(req.bodyWithHead ?? 0, htxDataSize(this.reqBodyBytes));
    return htxRequestSize(req) + body + grow > ctx.bufsize - HTX_HDR;
  }

  /** The backend chosen by use_backend rules (a dynamic name not found falls back), or the default. */
  protected route(): Backend | null {
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
  protected requestVerdict(v: Verdict): boolean {
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
        this.answerError(500, Cause.Proxy, Phase.Request);
        return false;
    }
  }

  /** A request rule's answer: a body still incomplete then closes the connection. */
  protected ruleAnswer(v: AnswerVerdict): void {
    const cause = v.cause === 'P' ? Cause.Proxy : Cause.Local;
    // v.close: the action's own reason (a redirect of a request with a body always closes).
    const close = v.close || this.bodyIncomplete();
    if (v.errmsg === true) this.answerError(v.status, cause, Phase.Request, true, close);
    else this.answerReply(v.reply, cause, Phase.Request, close);
  }

  protected bodyIncomplete(): boolean {
    const req = this.req;
    return !this.reqEnded && req.bodyKind !== BodyKind.None && !(req.bodyKind === BodyKind.Length && req.contentLength === 0);
  }

  /** A client waiting for "100 Continue" before sending the body that rules wait for gets it now. */
  protected sendContinue(): void {
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
  /**
   * `option http-buffer-request`: before the rules, wait for the whole body or a full buffer
   * (bufsize - maxrewrite), under `timeout http-request`. True while waiting.
   */
  private holdForBody(): boolean {
    if (!this.bodyIncomplete() || this.reqBodyBytes >= this.bodyLimit) return false;
    this.st = St.Hold;
    this.buffering = true;
    this.sendContinue();
    const t = this.front.fe.config.timeouts;
    this.armTimer('reqbody', t.httpRequest ?? t.client);
    return true;
  }

  protected requestBodyProgress(): void {
    if (this.st !== St.Hold || this.timerFor !== 'reqbody') return;
    if (this.buffering) {
      if (this.bodyIncomplete() && this.reqBodyBytes < this.bodyLimit) return;
      this.buffering = false;
      this.disarmTimer();
      this.st = St.Init;
      this.requestRules();
      return;
    }
    const v = runHttpRules(this.stage === Stage.FrontRequest ? this.front.fe.rules!.request : this.be!.rules!.request, this, this.ruleFrom);
    if (v.kind === VerdictKind.WaitForBody) {
      this.ruleFrom = lastRuleIndex;
      return;
    }
    this.disarmTimer();
    if (!this.requestVerdict(v)) return;
    this.ruleFrom = this.stage === Stage.FrontRequest ? (this.front.fe.rules?.request.length ?? 0) : (this.be?.rules?.request.length ?? 0);
    this.requestRules();
  }

  /**
   * http-response rules, the backend's then the frontend's (HAProxy's order), resumed where a
   * wait-for-body verdict stopped; then the head goes to the client.
   */
  protected responseRules(): void {
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
  protected responseVerdict(v: Verdict): boolean {
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
        this.closeServer = true;
        this.res = null;
        this.answerError(500, Cause.Proxy, Phase.Headers);
        return false;
    }
  }

  /** Response body arrived while response rules wait for it. */
  protected responseBodyProgress(): void {
    this.responseRules();
    if (this.st !== St.Response) return;
    // The rules are done: the held body follows the head.
    const held = this.resBuf;
    this.resBuf = [];
    for (const b of held) this.forwardServerData(b);
    if (this.resEnded) this.endResponse();
  }

  /** Runs the http-after-response rules on `res`; false when one failed (the caller answers 500). */
  protected afterResponseRules(res: HtxResponse): boolean {
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

  /**
   * Answers with the error message for `status` and ends the stream: the proxy's `http-error`
   * reply, else its errorfile, else HAProxy's page. http-after-response rules apply to it unless
   * `after` is false (they failed on the response being replaced).
   */
  protected answerError(status: number, cause: Cause, phase: Phase, after = true, close = false): void {
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
  protected bodyStillComing(): boolean {
    return !this.reqEnded && this.reqHeadSent;
  }

  protected hasAfterResponseRules(): boolean {
    const fe = this.front.fe.rules?.afterResponse.length ?? 0;
    const be = this.be !== null && this.be.config !== this.front.fe.config ? (this.be.rules?.afterResponse.length ?? 0) : 0;
    return fe + be > 0;
  }

  /** Sends a reply built by sluice (rules, errors), through the http-after-response rules. */
  protected answerReply(reply: HttpReply, cause: Cause, phase: Phase, close: boolean, after = true): void {
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
    // The reply's body is in the buffer with its head when the rules rewrite it.
    res.bodyWithHead = htxDataSize(reply.body.length);
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
}

/** Runs after-response rules; false when one failed. Only their effects on the message count. */
function runAfter(rules: readonly HttpRule[] | undefined, ctx: HttpAnalysers): boolean {
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
