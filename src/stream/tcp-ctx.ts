// What a sample expression sees of a TCP session (`mode tcp`): its addresses, its TLS session,
// the proxies and servers by name and the variables of the session. No HTTP message: the
// request and response fetches find nothing. Used for what a TCP backend evaluates per
// connection (a server's `sni`).

import type { SampleValue, VarScope } from '../acl/index.js';
import type { Backend } from '../backend/index.js';
import type { RuleContext } from '../http/actions/index.js';
import type { TlsInfo } from '../net/tls.js';
import type { Frontend } from '../proxy/frontend.js';
import { procVars, proxyLookups } from './txn.js';

/**
 * What every rule context without an HTTP message shares (a TCP session, a health check): no
 * request nor response, variables of its own (one session is one transaction: sess and txn
 * share them), the process variables and the environment, and no HTTP-only action.
 */
export abstract class MessagelessRuleCtx {
  readonly req = null;
  readonly res = null;
  readonly status = 0;
  readonly reqBodyBytes = 0;
  readonly reqComplete = false;
  readonly resComplete = false;
  readonly resBodyBytes = 0;
  readonly bodyLimit = 0;
  readonly useProxyAuth = false;
  private vars: Map<string, SampleValue> | null = null;

  getVar(scope: VarScope, name: string): SampleValue | undefined {
    return scope === 'proc' ? procVars.get(name) : this.vars?.get(name);
  }
  setVar(scope: VarScope, name: string, value: SampleValue): void {
    if (scope === 'proc') procVars.set(name, value);
    else (this.vars ??= new Map()).set(name, value);
  }
  unsetVar(scope: VarScope, name: string): void {
    if (scope === 'proc') procVars.delete(name);
    else this.vars?.delete(name);
  }
  env(name: string): string | undefined {
    return process.env[name];
  }

  setLogLevel(): void {}
  disableL7Retry(): void {}
  setCapture(): void {}
}

export class TcpRuleCtx extends MessagelessRuleCtx implements RuleContext {
  constructor(
    readonly fe: Frontend,
    readonly be: Backend | null,
    readonly srcAddr: string,
    readonly srcPort: number,
    readonly dstAddr: string,
    readonly dstPort: number,
    readonly tls: TlsInfo | null,
  ) {
    super();
  }

  get sslFc(): boolean {
    return this.tls !== null;
  }
  get sslSni(): string {
    return this.tls?.sni ?? '';
  }
  get feName(): string {
    return this.fe.name;
  }
  get beName(): string {
    return this.be?.name ?? '';
  }

  feConn(frontend: string): number {
    return proxyLookups.feConn(this.fe, frontend);
  }
  beConn(backend: string): number {
    return proxyLookups.backend(this.fe, this.be, backend)?.beconn ?? 0;
  }
  nbsrv(backend: string): number {
    return proxyLookups.nbsrv(proxyLookups.backend(this.fe, this.be, backend));
  }
  srvIsUp(backend: string, server: string): boolean {
    return proxyLookups.backend(this.fe, this.be, backend)?.server(server)?.usable ?? false;
  }
}
