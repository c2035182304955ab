// TLS settings of the global section (HAProxy's cfgparse-ssl.c): `crt-base` and `ca-base`, the
// directories relative certificate and CA paths are read from, and the defaults every `bind ...
// ssl` and `server ... ssl` starts from: `ssl-default-bind-options|ciphers|ciphersuites|curves`,
// `ssl-default-server-options|ciphers|ciphersuites`, `ssl-server-verify`.

import type { BindSsl, ServerSsl, TlsVersion } from './model.js';
import { registerGlobalKeywords, type GlobalKeyword, type KeywordContext } from './registry.js';
import { checkCiphers, TLS_VERSIONS, tlsVersionFlags, type TlsVersionSettings } from './ssl.js';
import { tooManyArgs } from './helpers.js';

/** What the global section says about TLS; binds and servers read it while they are parsed. */
export interface GlobalSsl {
  crtBase?: string;
  caBase?: string;
  /** Settings a bind's TLS starts from, and a server's. */
  bind: BindSsl;
  server: ServerSsl;
}

export function newGlobalSsl(): GlobalSsl {
  return {
    bind: { enabled: false, certs: [], verify: 'none', strictSni: false, tlsTickets: true, preferClientCiphers: false, noVersions: [] },
    server: { enabled: false, noVersions: [] },
  };
}

type VersionOptionApply = (s: TlsVersionSettings & { tlsTickets?: boolean; preferClientCiphers?: boolean }) => void;

/** The options `ssl-default-*-options` accept, with what each does; version ones take a value. */
function defaultOptions(bind: boolean): Map<string, VersionOptionApply | 'min' | 'max'> {
  const m = new Map<string, VersionOptionApply | 'min' | 'max'>([
    ['ssl-min-ver', 'min'],
    ['ssl-max-ver', 'max'],
    ['no-sslv3', () => {}],
    ['no-tls-tickets', (s) => (s.tlsTickets = false)],
  ]);
  for (const [name, apply] of tlsVersionFlags((n, f) => [n, f] as const)) m.set(name, apply);
  if (bind) m.set('prefer-client-ciphers', (s) => (s.preferClientCiphers = true));
  return m;
}

function optionsKeyword(name: string, bind: boolean): GlobalKeyword {
  const known = defaultOptions(bind);
  return {
    name,
    parse(ctx) {
      const target = bind ? ctx.state.global.ssl.bind : ctx.state.global.ssl.server;
      const args = ctx.args;
      for (let i = 1; i < args.length; i++) {
        const o = args[i]!;
        const what = known.get(o);
        if (what === undefined) {
          ctx.report.alert(`unknown option '${o}' on global statement '${name}'.`);
          return;
        }
        if (typeof what === 'function') {
          what(target as TlsVersionSettings);
          continue;
        }
        const v = args[++i];
        if (v === undefined) {
          ctx.report.alert(`'${o}' : missing the ssl/tls version on global statement '${name}'.`);
          return;
        }
        const ver: TlsVersion | undefined = TLS_VERSIONS[v];
        if (ver === undefined) {
          ctx.report.alert(`'${v}' : unknown ssl/tls version on global statement '${name}'.`);
          return;
        }
        if (what === 'min') target.minVersion = ver;
        else target.maxVersion = ver;
      }
    },
  };
}

function oneArg(name: string, what: string, apply: (ctx: KeywordContext, v: string) => void): GlobalKeyword {
  return {
    name,
    parse(ctx) {
      const v = ctx.args[1];
      if (v === undefined) {
        ctx.report.alert(`global statement '${name}' expects ${what} as an argument.`);
        return;
      }
      if (tooManyArgs(ctx, 1)) return;
      apply(ctx, v);
    },
  };
}

/** Cipher lists are checked here (HAProxy checks them on each bind that uses them). */
function cipherKeyword(name: string, kind: 'ciphers' | 'ciphersuites' | 'curves', side: 'bind' | 'server'): GlobalKeyword {
  return oneArg(name, 'a cipher suite', (ctx, v) => {
    const err = checkCiphers(kind, v);
    if (err !== undefined) {
      ctx.report.alert(`'${name}' : ${err}.`);
      return;
    }
    const t = ctx.state.global.ssl[side] as { ciphers?: string; ciphersuites?: string; curves?: string };
    t[kind] = v;
  });
}

registerGlobalKeywords([
  oneArg('crt-base', 'a directory path', (ctx, v) => (ctx.state.global.ssl.crtBase = v)),
  oneArg('ca-base', 'a directory path', (ctx, v) => (ctx.state.global.ssl.caBase = v)),
  optionsKeyword('ssl-default-bind-options', true),
  optionsKeyword('ssl-default-server-options', false),
  cipherKeyword('ssl-default-bind-ciphers', 'ciphers', 'bind'),
  cipherKeyword('ssl-default-bind-ciphersuites', 'ciphersuites', 'bind'),
  cipherKeyword('ssl-default-bind-curves', 'curves', 'bind'),
  cipherKeyword('ssl-default-server-ciphers', 'ciphers', 'server'),
  cipherKeyword('ssl-default-server-ciphersuites', 'ciphersuites', 'server'),
  oneArg('ssl-server-verify', "'none' or 'required'", (ctx, v) => {
    if (v !== 'none' && v !== 'required') {
      ctx.report.alert(`global statement 'ssl-server-verify' expects 'none' or 'required' as argument.`);
      return;
    }
    ctx.state.global.ssl.server.verify = v;
  }),
]);
