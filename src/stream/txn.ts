// What the rules of an HTTP exchange see and change: the ACL engine's SampleCtx (the messages,
// the addresses, the proxies and servers by name, the variables of each scope) and the HTTP
// actions' RuleContext (log level, captures, retry policy, body limits). HttpStream extends it;
// every accessor reads existing state and allocates nothing.

import type { SampleCtx, SampleValue, VarScope } from '../acl/index.js';
import type { Backend } from '../backend/index.js';
import { HTX_HDR, HtxRoom, type HtxRequest, type HtxResponse } from '../htx/index.js';
import type { RuleContext } from '../http/actions/index.js';
import type { CaptureSlot } from '../config/model.js';
import type { ClientSide } from './sides.js';
import type { Frontend } from '../proxy/frontend.js';

/** `proc.*` variables live as long as the process. */
export const procVars = new Map<string, SampleValue>();

/** What `fe_conn`, `be_conn`, `nbsrv` and `srv_is_up` read: proxies by name ("" = the current one). */
export const proxyLookups = {
  feConn(fe: Frontend, name: string): number {
    if (name === '') return fe.feconn;
    return fe.ctx.frontends.get(name)?.feconn ?? 0;
  },
  backend(fe: Frontend, be: Backend | null, name: string): Backend | null {
    return name === '' ? be : (fe.ctx.backends.get(name) ?? null);
  },
  nbsrv(be: Backend | null): number {
    return be === null ? 0 : be.activeCount + be.backupCount;
  },
};

export abstract class Txn implements SampleCtx, RuleContext {
  abstract readonly req: HtxRequest;
  abstract res: HtxResponse | null;
  abstract status: number;
  abstract readonly front: ClientSide;
  abstract be: Backend | null;
  abstract readonly reqBodyBytes: number;
  /** Variables of the scopes txn, req and res, created on first use. */
  private txnVars: Map<string, SampleValue> | null = null;
  private reqVars: Map<string, SampleValue> | null = null;
  private resVars: Map<string, SampleValue> | null = null;
  abstract readonly reqComplete: boolean;
  abstract readonly resComplete: boolean;
  abstract readonly resBodyBytes: number;
  /** `set-log-level`: -1 silent, 0..7 a syslog level; undefined until a rule sets it. */
  logLevel: number | undefined = undefined;
  /** `disable-l7-retry` was applied. */
  l7RetryDisabled = false;
  softRewrites = false;
  /** The rewrite accounting of each message, made when a rule first rewrites it. */
  protected reqRoom: HtxRoom | null = null;
  private resRoom: HtxRoom | null = null;
  /** Values of the frontend's capture slots (null: nothing captured); null before the first capture. */
  reqCaps: Array<string | null> | null = null;
  resCaps: Array<string | null> | null = null;

  get bodyLimit(): number {
    const ctx = this.front.fe.ctx;
    return ctx.bufsize - ctx.maxrewrite;
  }

  htxRoom(response: boolean): HtxRoom | null {
    const msg = response ? this.res : this.req;
    if (msg === null) return null;
    let room = response ? this.resRoom : this.reqRoom;
    if (room === null || room.msg !== msg) {
      const ctx = this.front.fe.ctx;
      const size = ctx.bufsize - HTX_HDR;
      room = new HtxRoom(msg, response, size, size - ctx.maxrewrite);
      if (response) this.resRoom = room;
      else this.reqRoom = room;
    }
    // Nothing leaves before the rules are done: every body byte received is still buffered.
    room.body = response ? this.resBodyBytes : this.reqBodyBytes;
    return room;
  }

  rewriteFailed(): void {
    // As HAProxy: the frontend's counter, and the backend's once there is one.
    this.front.fe.counters.failedRewrites++;
    if (this.be !== null) this.be.counters.failedRewrites++;
  }

  /** `option http-use-proxy-header` is not implemented: authentication is always the origin's. */
  get useProxyAuth(): boolean {
    return false;
  }

  setLogLevel(level: number): void {
    this.logLevel = level;
  }

  disableL7Retry(): void {
    this.l7RetryDisabled = true;
  }

  withoutResponse<T>(build: () => T): T {
    const { res, status } = this;
    this.res = null;
    this.status = 0;
    try {
      return build();
    } finally {
      this.res = res;
      this.status = status;
    }
  }

  setCapture(slot: number, value: string): void {
    const slots = this.front.fe.config.reqCaptures;
    const def = slots[slot];
    if (def === undefined) return;
    this.reqCaps ??= new Array<string | null>(slots.length).fill(null);
    this.reqCaps[slot] = value.length > def.len ? value.slice(0, def.len) : value;
  }

  /** Fills the `capture request|response header` slots from the message's headers. */
  protected captureHeaders(slots: readonly CaptureSlot[], headers: readonly string[], response: boolean): void {
    let caps = response ? this.resCaps : this.reqCaps;
    for (let i = 0; i < slots.length; i++) {
      const c = slots[i]!;
      if (c.header === undefined) continue;
      // As HAProxy, the last occurrence of the header wins.
      let v: string | undefined;
      for (let j = 0; j < headers.length; j += 2) if (headers[j]!.length === c.header.length && headers[j]!.toLowerCase() === c.header) v = headers[j + 1];
      if (v === undefined) continue;
      caps ??= new Array<string | null>(slots.length).fill(null);
      caps[i] = v.length > c.len ? v.slice(0, c.len) : v;
    }
    if (response) this.resCaps = caps;
    else this.reqCaps = caps;
  }

  get srcAddr(): string {
    return this.front.clientIp;
  }
  get srcPort(): number {
    return this.front.clientPort;
  }
  get dstAddr(): string {
    return this.front.localIp;
  }
  get dstPort(): number {
    return this.front.localPort;
  }
  get sslFc(): boolean {
    return this.front.tls !== null;
  }
  get sslSni(): string {
    return this.front.tls?.sni ?? '';
  }
  get feName(): string {
    return this.front.fe.name;
  }
  get beName(): string {
    return this.be === null ? '' : this.be.name;
  }

  feConn(frontend: string): number {
    return proxyLookups.feConn(this.front.fe, frontend);
  }

  beConn(backend: string): number {
    return proxyLookups.backend(this.front.fe, this.be, backend)?.beconn ?? 0;
  }

  nbsrv(backend: string): number {
    return proxyLookups.nbsrv(proxyLookups.backend(this.front.fe, this.be, backend));
  }

  srvIsUp(backend: string, server: string): boolean {
    return proxyLookups.backend(this.front.fe, this.be, backend)?.server(server)?.usable ?? false;
  }

  private vars(scope: VarScope, create: boolean): Map<string, SampleValue> | null {
    switch (scope) {
      case 'proc':
        return procVars;
      case 'sess':
        if (this.front.sessVars === null && create) this.front.sessVars = new Map();
        return this.front.sessVars;
      case 'txn':
        if (this.txnVars === null && create) this.txnVars = new Map();
        return this.txnVars;
      case 'req':
        if (this.reqVars === null && create) this.reqVars = new Map();
        return this.reqVars;
      case 'res':
        if (this.resVars === null && create) this.resVars = new Map();
        return this.resVars;
      default:
        return null;
    }
  }

  /** The request is processed: its `req.*` variables end (response rules no longer see them). */
  protected endRequestScope(): void {
    this.reqVars = null;
  }

  getVar(scope: VarScope, name: string): SampleValue | undefined {
    return this.vars(scope, false)?.get(name);
  }

  setVar(scope: VarScope, name: string, value: SampleValue): void {
    this.vars(scope, true)?.set(name, value);
  }

  unsetVar(scope: VarScope, name: string): void {
    this.vars(scope, false)?.delete(name);
  }

  env(name: string): string | undefined {
    return process.env[name];
  }
}
