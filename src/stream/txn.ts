// What the rules of an HTTP exchange see (the ACL engine's SampleCtx): the messages, the
// addresses, the proxies and servers by name, and the variables of each scope. HttpStream
// extends it; every accessor reads existing state and allocates nothing.

import type { SampleCtx, SampleValue, VarScope } from '../acl/index.js';
import type { Backend } from '../backend/index.js';
import type { HtxRequest, HtxResponse } from '../htx/index.js';
import type { H1FrontConn } from '../mux/h1-front.js';

/** `proc.*` variables live as long as the process. */
const procVars = new Map<string, SampleValue>();

export abstract class Txn implements SampleCtx {
  abstract readonly req: HtxRequest;
  abstract res: HtxResponse | null;
  abstract status: number;
  abstract readonly front: H1FrontConn;
  abstract be: Backend | null;
  abstract readonly reqBodyBytes: number;
  /** Variables of the scopes txn, req and res, created on first use. */
  private txnVars: Map<string, SampleValue> | null = null;
  private reqVars: Map<string, SampleValue> | null = null;
  private resVars: Map<string, SampleValue> | null = null;

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
    return false;
  }
  get sslSni(): string {
    return '';
  }
  get feName(): string {
    return this.front.fe.name;
  }
  get beName(): string {
    return this.be === null ? '' : this.be.name;
  }

  feConn(frontend: string): number {
    if (frontend === '') return this.front.fe.feconn;
    return this.front.fe.ctx.frontends.get(frontend)?.feconn ?? 0;
  }

  private backendNamed(name: string): Backend | null {
    return name === '' ? this.be : (this.front.fe.ctx.backends.get(name) ?? null);
  }

  beConn(backend: string): number {
    return this.backendNamed(backend)?.beconn ?? 0;
  }

  nbsrv(backend: string): number {
    const be = this.backendNamed(backend);
    return be === null ? 0 : be.activeCount + be.backupCount;
  }

  srvIsUp(backend: string, server: string): boolean {
    return this.backendNamed(backend)?.server(server)?.usable ?? false;
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
