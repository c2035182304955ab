// Start-up name resolution: host names written on bind, server, log and nameserver lines are
// resolved once, the way HAProxy resolves them with the libc when it starts (init-addr libc).

import { lookup } from 'node:dns/promises';
import type { InetAddress } from './address.js';
import type { LogTargetDraft } from './logs.js';
import type { ParserState } from './state.js';

/** Resolves one name; `family` 0 means any. Rejects when the name does not resolve. */
export type HostResolver = (name: string, family: 0 | 4 | 6) => Promise<{ address: string; family: 4 | 6 }>;

export const systemResolver: HostResolver = async (name, family) => {
  const r = await lookup(name, { family });
  return { address: r.address, family: r.family === 6 ? 6 : 4 };
};

interface Pending {
  name: string;
  family: 0 | 4 | 6;
  apply(address: string, family: 4 | 6): void;
  fail(): void;
}

/**
 * A name HAProxy resolves while it parses (check addresses: `addr`, `agent-addr`, `tcp-check
 * connect addr`): looked up with the others, a failure is a parsing error of its file.
 */
export interface LateName extends Pending {
  /** Reports the failure (the file is marked as having errors by the resolver). */
  fail(): void;
}

const lateNames = new WeakMap<ParserState, Array<{ n: LateName; file: string }>>();

/** Registers a name to resolve once every file was read. */
export function resolveLater(state: ParserState, n: LateName): void {
  let list = lateNames.get(state);
  if (!list) lateNames.set(state, (list = []));
  list.push({ n, file: state.file });
}

/**
 * Resolves every pending host name. Returns which kinds of failures happened: failures on
 * bind/log/nameserver lines are parsing errors for HAProxy (it resolves them while reading the
 * file, listed here by file), failures on servers happen when it initialises server addresses.
 */
export async function resolveHostNames(
  state: ParserState,
  resolver: HostResolver,
): Promise<{ parseErrorFiles: Set<string>; serverErrors: boolean }> {
  const diags = state.diags;
  const parseErrorFiles = new Set<string>();
  let serverErrors = false;
  const pending: Pending[] = [];
  const inet = (a: InetAddress, onFail: () => void): void => {
    if (a.fqdn === undefined || a.host !== '') return;
    pending.push({
      name: a.fqdn,
      family: a.family,
      apply(address, family) {
        a.host = address;
        a.family = family;
      },
      fail: onFail,
    });
  };

  for (const p of state.proxies) {
    for (const b of p.binds) {
      inet(b.addr, () => {
        parseErrorFiles.add(b.loc.file);
        diags.alert(`'bind' : invalid address: '${b.addr.fqdn}' in '${b.text}'`, b.loc);
      });
    }
    for (const s of p.servers) {
      inet(s.addr, () => {
        serverErrors = true;
        diags.alert(`'server ${p.name}/${s.name}' : could not resolve address '${s.addr.fqdn}'.`, s.loc, 'context');
      });
    }
  }
  for (const r of state.resolvers) {
    for (const ns of r.nameservers) {
      inet(ns.addr, () => {
        parseErrorFiles.add(ns.loc.file);
        diags.alert(`'nameserver ${ns.name}' : invalid address: '${ns.addr.fqdn}' in '${ns.addr.fqdn}:${ns.addr.port}'`, ns.loc);
      });
    }
  }
  const logLists: LogTargetDraft[][] = [state.global.logs, ...state.proxies.map((p) => p.logs)];
  // The same target may be shared by copies (defaults, "log global"): report each line once.
  const reported = new Set<string>();
  for (const list of logLists) {
    for (const l of list) {
      if (l.fqdn === undefined || l.host !== '') continue;
      const target = l;
      const name = l.fqdn;
      pending.push({
        name,
        family: l.fqdnFamily ?? 0,
        apply(address, family) {
          target.host = address;
          target.family = family;
        },
        fail() {
          parseErrorFiles.add(target.loc.file);
          const key = `${target.loc.file}:${target.loc.line}`;
          if (reported.has(key)) return;
          reported.add(key);
          diags.alert(`log : invalid address: '${name}' in '${name}:${target.port ?? 514}'`, target.loc);
        },
      });
    }
  }

  for (const { n, file } of lateNames.get(state) ?? []) {
    pending.push({
      name: n.name,
      family: n.family,
      apply: (address, family) => n.apply(address, family),
      fail() {
        parseErrorFiles.add(file);
        n.fail();
      },
    });
  }

  // Each distinct name is looked up once.
  const cache = new Map<string, Promise<{ address: string; family: 4 | 6 } | undefined>>();
  const results = pending.map((p) => {
    const key = `${p.family}/${p.name}`;
    let r = cache.get(key);
    if (!r) {
      r = resolver(p.name, p.family).catch(() => undefined);
      cache.set(key, r);
    }
    return r;
  });
  const answers = await Promise.all(results);
  answers.forEach((a, i) => {
    if (a) pending[i].apply(a.address, a.family);
    else pending[i].fail();
  });
  return { parseErrorFiles, serverErrors };
}
