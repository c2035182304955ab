// What a log-format string of a check rule sees (an `http-check send hdr` value, `uri-lf`,
// `string-lf`, `on-error`...): no client, no HTTP message, the proxies and servers by name, the
// process variables and the environment; variables of the check itself live for one run.

import type { SampleValue, VarScope } from '../acl/index.js';
import type { Backend } from '../backend/index.js';
import type { RuleContext } from '../http/actions/index.js';
import type { ProcessContext } from '../proxy/context.js';
import { procVars } from '../stream/txn.js';

export class CheckRuleCtx implements RuleContext {
  readonly req = null;
  readonly res = null;
  readonly status = 0;
  readonly srcAddr = '';
  readonly srcPort = 0;
  readonly dstAddr = '';
  readonly dstPort = 0;
  readonly sslFc = false;
  readonly sslSni = '';
  readonly feName = '';
  readonly reqBodyBytes = 0;
  readonly reqComplete = false;
  readonly resComplete = false;
  readonly resBodyBytes = 0;
  readonly bodyLimit = 0;
  readonly useProxyAuth = false;
  private readonly vars = new Map<string, SampleValue>();

  constructor(
    private readonly proc: ProcessContext,
    readonly be: Backend,
  ) {}

  get beName(): string {
    return this.be.name;
  }

  private backend(name: string): Backend | null {
    return name === '' ? this.be : (this.proc.backends.get(name) ?? null);
  }

  feConn(frontend: string): number {
    return this.proc.frontends.get(frontend)?.feconn ?? 0;
  }
  beConn(backend: string): number {
    return this.backend(backend)?.beconn ?? 0;
  }
  nbsrv(backend: string): number {
    const b = this.backend(backend);
    return b === null ? 0 : b.activeCount + b.backupCount;
  }
  srvIsUp(backend: string, server: string): boolean {
    return this.backend(backend)?.server(server)?.usable ?? false;
  }

  getVar(scope: VarScope, name: string): SampleValue | undefined {
    return scope === 'proc' ? procVars.get(name) : this.vars.get(name);
  }
  setVar(scope: VarScope, name: string, value: SampleValue): void {
    if (scope === 'proc') procVars.set(name, value);
    else this.vars.set(name, value);
  }
  unsetVar(scope: VarScope, name: string): void {
    if (scope === 'proc') procVars.delete(name);
    else this.vars.delete(name);
  }
  env(name: string): string | undefined {
    return process.env[name];
  }

  setLogLevel(): void {}
  disableL7Retry(): void {}
  setCapture(): void {}
}
