// What a log-format string of a check rule sees (an `http-check send hdr` value, `uri-lf`,
// `string-lf`, `on-error`...): no client, no HTTP message, the proxies and servers by name, the
// process variables and the environment. One context serves all the checks of a backend (the
// configuration refuses check variables, which would need one per run).

import type { Backend } from '../backend/index.js';
import type { RuleContext } from '../http/actions/index.js';
import type { ProcessContext } from '../proxy/context.js';
import { MessagelessRuleCtx } from '../stream/tcp-ctx.js';

export class CheckRuleCtx extends MessagelessRuleCtx implements RuleContext {
  readonly srcAddr = '';
  readonly srcPort = 0;
  readonly dstAddr = '';
  readonly dstPort = 0;
  readonly sslFc = false;
  readonly sslSni = '';
  readonly feName = '';

  constructor(
    private readonly proc: ProcessContext,
    readonly be: Backend,
  ) {
    super();
  }

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
}
