// One run of a server's check ruleset, as haproxy 2.6's tcpcheck_main: connect, send and expect
// rules in order, each connect opening a new connection, and the outcome HAProxy reports (status,
// code, info) whether the run passes, fails or times out.
//
// Time limits (check.c, tcpcheck_eval_connect): a connection (TCP, PROXY line, TLS) gets `inter`,
// or min(inter, timeout connect) when `timeout check` is set; once it is up, `timeout check`
// (when set) bounds the rest, else what is left of `inter`. A limit that expires while the
// event loop is busy is only acted on after the loop has read what already arrived (the
// verdict waits one setImmediate, which runs after the poll phase): a response the server sent
// in time is never taken for a timeout.

import * as os from 'node:os';
import type { CheckConnectRule, CheckRuleset, CheckStatusName } from '../config/model.js';
import { serverConnectOptions, serverTls, type ServerTls } from '../net/tls.js';
import type { RuleString } from '../http/actions/lf.js';
import { SrvState, type Backend, type Server } from '../backend/index.js';
import { CheckConn, type CheckTarget } from './conn.js';
import { CompiledExpect } from './expect.js';
import { H1CheckReader, H2CheckExchange, h1RequestBytes, type CheckRequest, type CheckResponse } from './http.js';
import type { CheckOutcome } from './status.js';

/** A send rule ready to run: the bytes (tcp-check) or the request (http-check). */
interface PlannedSend {
  kind: 'send';
  step: number;
  bytes?: () => Buffer;
  http?: () => CheckRequest;
  comment?: string;
}

type PlannedStep =
  | { kind: 'connect'; step: number; rule: CheckConnectRule }
  | PlannedSend
  | { kind: 'expect'; step: number; exp: CompiledExpect };

/** Renders a log-format string of the configuration in the check's context. */
export type Render = (rs: RuleString) => string;

/** A ruleset compiled for one server. */
export class CheckPlan {
  readonly steps: PlannedStep[] = [];
  readonly type: 'none' | 'tcp' | 'http';
  readonly disableOn404: boolean;
  readonly sendState: boolean;

  constructor(rules: CheckRuleset | undefined, compile: (text: string) => RuleString, render: Render) {
    this.type = rules?.type ?? 'none';
    this.disableOn404 = rules?.disableOn404 ?? false;
    this.sendState = rules?.sendState ?? false;
    const list = rules?.rules ?? [IMPLICIT_CONNECT];
    // HAProxy numbers steps from the written rules: an implicit connect is step 0.
    const base = list[0]?.kind === 'connect' && list[0].implicit ? 0 : 1;
    list.forEach((r, i) => {
      const step = r.kind !== 'comment' && r.step !== undefined ? r.step : i + base;
      if (r.kind === 'connect') this.steps.push({ kind: 'connect', step, rule: r });
      else if (r.kind === 'expect') {
        const lf = r.type === 'string-lf' || r.type === 'binary-lf' ? compile(r.pattern) : null;
        const onError = r.onError !== undefined ? compile(r.onError) : null;
        const onSuccess = r.onSuccess !== undefined ? compile(r.onSuccess) : null;
        const fn = (rs: RuleString | null): (() => string) | null => (rs === null ? null : () => render(rs));
        this.steps.push({ kind: 'expect', step, exp: new CompiledExpect(r, step, fn(lf), fn(onError), fn(onSuccess)) });
      } else if (r.kind === 'send' && r.data !== undefined) {
        const d = r.data;
        const rs = d.lf ? compile(d.text) : null;
        const fixed = Buffer.from(d.text, d.binary ? 'hex' : 'latin1');
        const bytes = rs === null ? () => fixed : () => Buffer.from(render(rs), d.binary ? 'hex' : 'latin1');
        this.steps.push({ kind: 'send', step, bytes, ...(r.comment !== undefined ? { comment: r.comment } : {}) });
      } else if (r.kind === 'send' && r.http !== undefined) {
        const h = r.http;
        const uri = h.uriLf && h.uri !== undefined ? compile(h.uri) : null;
        const body = h.bodyLf && h.body !== undefined ? compile(h.body) : null;
        const hdrs = h.hdrs.map((x) => ({ name: x.name.toLowerCase(), value: compile(x.value) }));
        const http = (): CheckRequest => ({
          meth: h.meth ?? 'OPTIONS',
          uri: uri !== null ? render(uri) : (h.uri ?? '/'),
          ver: h.ver ?? 'HTTP/1.0',
          hdrs: hdrs.map((x): [string, string] => [x.name, render(x.value)]),
          body: body !== null ? render(body) : (h.body ?? ''),
        });
        this.steps.push({ kind: 'send', step, http, ...(r.comment !== undefined ? { comment: r.comment } : {}) });
      }
    });
  }
}

const IMPLICIT_CONNECT: CheckConnectRule = {
  kind: 'connect',
  useDefault: true,
  implicit: true,
  sendProxy: false,
  ssl: false,
  linger: false,
  loc: { file: '', line: 0 },
};

const NODE = os.hostname();

/** Runs a plan once against a server. */
export class CheckRun {
  private conn: CheckConn | null = null;
  private h2: H2CheckExchange | null = null;
  private timer: NodeJS.Timeout | null = null;
  private expiry: Promise<'timeout'> = new Promise(() => {});
  private ended = false;
  private serverTls: ServerTls | null;

  constructor(
    private readonly plan: CheckPlan,
    private readonly server: Server,
    private readonly backend: Backend,
    private readonly bufsize: number,
  ) {
    this.serverTls = server.tls;
  }

  /** Stops the run now (the check was stopped); the promise of run() then never resolves. */
  abort(): void {
    this.ended = true;
    this.finish();
  }

  async run(): Promise<CheckOutcome> {
    const t0 = Date.now();
    try {
      const o = await this.steps();
      return { ...o, durationMs: Date.now() - t0 };
    } finally {
      this.finish();
    }
  }

  private finish(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.conn;
    this.conn = null;
    if (this.h2 !== null) {
      // With linger the session says GOAWAY and ends with a FIN; otherwise the reset below.
      this.h2.close(c?.target.linger === true);
      this.h2 = null;
    }
    c?.close();
  }

  /** Sets the time limit from now on. */
  private arm(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.expiry = new Promise((resolve) => {
      this.timer = setTimeout(() => setImmediate(() => resolve('timeout')), ms);
      this.timer.unref();
    });
  }

  private async steps(): Promise<Omit<CheckOutcome, 'durationMs'>> {
    const plan = this.plan;
    const cfg = this.backend.config;
    const inter = this.server.config.checkInter;
    const tCheck = cfg.timeouts.check;
    const tConnect = cfg.timeouts.connect;
    let current: PlannedStep | null = null;
    let code = 0;
    let res: CheckResponse | null = null;
    let reader: H1CheckReader | null = null;
    let useH2 = false;
    let tls = false;
    for (const st of plan.steps) {
      if (this.ended) return { status: 'SOCKERR' };
      if (st.kind === 'connect') {
        current = st;
        this.h2?.close(false);
        this.h2 = null;
        this.conn?.close();
        const target = this.targetOf(st.rule);
        if (target === null) return { status: 'SOCKERR', info: this.tcpStepInfo('', st) };
        tls = target.tls !== null;
        this.arm(tCheck !== undefined && tConnect !== undefined ? Math.min(inter, tConnect) : inter);
        const conn = new CheckConn(target, this.bufsize);
        this.conn = conn;
        const r = await Promise.race([conn.establish(), this.expiry]);
        if (r === 'timeout') {
          const status: CheckStatusName = conn.stage === 4 ? 'L4TOUT' : 'L6TOUT';
          return { status, info: this.tcpStepInfo('', st) };
        }
        if (r !== null) return { ...r, info: this.tcpStepInfo(r.info ?? '', st) };
        if (tCheck !== undefined) this.arm(tCheck);
        useH2 = target.proto === 'h2' || (target.proto === undefined && conn.alpn === 'h2');
        res = null;
        reader = null;
        continue;
      }
      const conn = this.conn!;
      if (st.kind === 'send') {
        current = st;
        conn.consume(conn.data.length);
        if (st.bytes !== undefined) {
          conn.write(st.bytes());
          continue;
        }
        const req = st.http!();
        const state = plan.sendState ? this.stateHeader() : null;
        if (useH2) {
          const t = conn.target;
          const authority = t.family === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
          this.h2 = new H2CheckExchange(conn.release(), req, state, tls, authority, this.bufsize, () => conn.poke());
          res = this.h2.res;
        } else {
          conn.write(h1RequestBytes(req, state));
          reader = new H1CheckReader(req.meth, this.bufsize);
          res = reader.res;
        }
        continue;
      }
      current = st;
      // Expect: evaluate what arrived, wait for more while the rule says so.
      for (;;) {
        let v;
        if (plan.type === 'http') {
          const lastRead = conn.ended || (this.h2?.ended ?? false);
          if (reader !== null) reader.update(conn.data, conn.ended);
          const r = res ?? { status: 0, reason: '', headers: [], body: Buffer.alloc(0), complete: false, invalid: false };
          if (this.h2?.sessionError === true) return { status: 'SOCKERR' };
          if (conn.error !== null && r.status === 0 && conn.data.length === 0 && this.h2 === null) {
            return { status: 'SOCKERR', info: conn.error.code === 'ECONNRESET' ? 'Connection reset by peer' : '' };
          }
          v = st.exp.evalHttp(r, lastRead, this.bufsize, plan.disableOn404 && this.server.state !== SrvState.Down);
          code = r.status;
        } else {
          if (conn.ended && conn.data.length === 0) {
            if (conn.error !== null) return { status: 'SOCKERR', info: this.tcpStepInfo('Connection reset by peer', st) };
            const c = st.exp.rule.comment;
            return { status: 'L7RSP', info: `TCPCHK got an empty response at step ${st.step}${c !== undefined ? ` comment: '${c}'` : ''}` };
          }
          v = st.exp.evalTcp(conn.data, conn.ended, this.bufsize);
        }
        if (v.kind === 'pass') break;
        if (v.kind === 'fail') {
          const o: Omit<CheckOutcome, 'durationMs'> = { status: v.status, info: v.info };
          if (v.code !== undefined) o.code = v.code;
          return o;
        }
        const w = await Promise.race([conn.next(), this.expiry]);
        if (w === 'timeout') return { status: st.exp.rule.toutStatus, info: this.tcpStepInfo('', st) };
      }
    }
    // Every rule passed: the last one that ran says how (tcpcheck_main).
    if (current === null) return { status: 'L7OK', code: 0, info: '(tcp-check)' };
    if (current.kind === 'expect') {
      if (plan.disableOn404 && code === 404 && this.server.state !== SrvState.Down) return { status: 'L7OKC', code };
      const onSuccess = current.exp.onSuccess;
      const info = onSuccess !== null ? onSuccess() : plan.type === 'tcp' ? '(tcp-check)' : '';
      return { status: current.exp.rule.okStatus, code: plan.type === 'http' ? code : 0, info };
    }
    if (current.kind === 'connect') {
      const status: CheckStatusName = this.conn?.target.tls ? 'L6OK' : 'L4OK';
      return current.rule.implicit ? { status } : { status, info: '(tcp-check)' };
    }
    return { status: 'L7OK', code: 0, info: '(tcp-check)' };
  }

  /**
   * The info of a connection problem or timeout: `what` (an error text), and for `option
   * tcp-check` rulesets the step it happened at, as HAProxy words it.
   */
  private tcpStepInfo(what: string, st: PlannedStep): string {
    if (this.plan.type !== 'tcp') return what;
    if (st.step === 0) return `${what} at initial connection step of tcp-check`;
    let out = `${what} at step ${st.step} of tcp-check`;
    if (st.kind === 'connect') out += st.rule.port !== undefined ? ` (connect port ${st.rule.port})` : ' (connect)';
    else if (st.kind === 'expect') out += st.exp.timeoutWhat();
    else out += ' (send)';
    const comment = st.kind === 'connect' ? st.rule.comment : st.kind === 'expect' ? st.exp.rule.comment : st.comment;
    if (comment !== undefined) out += ` comment: '${comment}'`;
    return out;
  }

  /** Where and how a connect rule connects (null: no port to connect to). */
  private targetOf(rule: CheckConnectRule): CheckTarget | null {
    const srv = this.server;
    const c = srv.config;
    const def = rule.useDefault;
    const port = rule.port ?? c.checkPort ?? srv.port;
    if (port === 0) return null;
    const addr = rule.addr ?? c.checkAddr ?? { host: srv.host, family: srv.family };
    // `ssl` and `send-proxy` on the server carry over to checks unless they go to another port or
    // address.
    const elsewhere = c.checkPort !== undefined || c.checkAddr !== undefined;
    const inherit = srv.tls !== null && !elsewhere;
    const useTls = rule.ssl || (def && (c.checkSsl ?? inherit));
    const t: CheckTarget = {
      host: addr.host,
      port,
      family: addr.family,
      tls: null,
      sendProxy: rule.sendProxy || (def && (c.checkSendProxy || (c.sendProxy !== undefined && elsewhere === false))) ? (c.sendProxy ?? 1) : 0,
      linger: rule.linger,
    };
    const proto = rule.proto ?? (def ? (c.checkProto ?? c.proto) : undefined);
    if (proto !== undefined) t.proto = proto;
    if (useTls) {
      this.serverTls ??= serverTls(c.ssl ?? { enabled: true, noVersions: [] });
      const sni = rule.sni ?? (def ? c.checkSni : undefined);
      // Without check-alpn the server's own list is offered, and the mux follows the server's
      // choice (HAProxy 2.6 offered it but spoke HTTP/1 whatever was chosen, fixed in 3.3).
      const alpn = rule.alpn ?? (def ? (c.checkAlpn ?? c.ssl?.alpn) : undefined);
      const o = serverConnectOptions(this.serverTls, addr.host, port, sni, alpn ?? []);
      delete o.host;
      delete o.port;
      t.tls = o;
    }
    return t;
  }

  /** `x-haproxy-server-state` as httpchk_build_status_header writes it. */
  private stateHeader(): string {
    const s = this.server;
    const be = this.backend;
    const hc = s.check;
    const rise = s.config.checkRise;
    const fall = s.config.checkFall;
    const health = hc?.healthValue ?? rise;
    let state: string;
    if (s.state === SrvState.Down || s.state === SrvState.Maint) state = health > 0 ? `DOWN ${health}/${rise}` : 'DOWN';
    else {
      const full = health === rise + fall - 1;
      const word = s.state === SrvState.Nolb ? 'NOLB' : 'UP';
      state = full ? word : `${word} ${health - rise + 1}/${fall}`;
    }
    let total = 0;
    for (const x of be.servers) if (x.usable && x.backup === s.backup) total += x.eweight;
    const throttle = s.warmingSince !== 0 ? `; throttle=${Math.max(1, s.warmupRatio())}%` : '';
    return (
      `${state}; address=${s.host}; port=${s.port}; name=${be.name}/${s.name}; node=${NODE}; ` +
      `weight=${s.eweight}/${total}; scur=${s.served}/${be.beconn - be.queue.length}; qcur=${s.queue.length}${throttle}`
    );
  }
}
