// Checking the proxies and servers that fetch arguments name (nbsrv(be), srv_is_up(be/srv),
// be_conn(be), fe_conn(fe)) once the whole configuration is known, with HAProxy's messages
// (sample.c smp_resolve_args).

import type { SampleRef } from './types.js';

/** What the configuration knows about proxies and servers. */
export interface RefLookup {
  /** Capabilities of the proxy called `name`, or undefined when there is none. */
  proxy(name: string): { frontend: boolean; backend: boolean; defaults?: boolean } | undefined;
  hasServer(backend: string, server: string): boolean;
}

/** One unresolved reference: where, and HAProxy's text (to print after "parsing [file:line]: "). */
export interface RefError {
  file: string;
  line: number;
  message: string;
}

/**
 * Checks references made from rules of proxy `current`. `where` names the context as HAProxy
 * does: "in" for ACLs, "in http-request expression in", "in log-format string in",
 * "in use_backend expression in"...
 */
export function checkRefs(refs: readonly SampleRef[], lookup: RefLookup, current: string, where = 'in'): RefError[] {
  const out: RefError[] = [];
  for (const r of refs) {
    const conv = r.conv ? `conversion keyword '${r.conv}' for ` : '';
    const ctx = r.fromAcl ? 'ACL keyword' : 'sample fetch keyword';
    const tail = `arg ${r.argPos + 1} of ${conv}${ctx} '${r.kw}' ${r.fromAcl ? 'in' : where} proxy '${current}'`;
    const err = (message: string): void => {
      out.push({ file: r.file, line: r.line, message });
    };
    const pname = r.proxy || current;
    if (r.kind === 'server') {
      if (!r.server) {
        err(`missing server name in ${tail}.`);
        continue;
      }
      if (r.proxy) {
        const caps = lookup.proxy(r.proxy);
        if (!caps || !caps.backend) {
          err(`unable to find proxy '${r.proxy}' referenced in ${tail}.`);
          continue;
        }
      } else if (lookup.proxy(current)?.defaults) {
        err(`backend name must be set in ${tail}.`);
        continue;
      }
      if (!lookup.hasServer(pname, r.server)) err(`unable to find server '${r.server}' in proxy '${pname}', referenced in ${tail}.`);
      continue;
    }
    const caps = lookup.proxy(pname);
    const what = r.kind === 'frontend' ? 'frontend' : 'backend';
    if (!caps) {
      err(`unable to find ${what} '${pname}' referenced in ${tail}.`);
      continue;
    }
    if (r.kind === 'frontend' ? !caps.frontend : !caps.backend) {
      err(`proxy '${pname}', referenced in ${tail}, has not ${what} capability.`);
    }
  }
  return out;
}
