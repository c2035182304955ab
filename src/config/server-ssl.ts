// TLS towards servers (HAProxy's server keywords in ssl_sock.c): `ssl`, `verify none|required`,
// `ca-file`, `crt` (client certificate), `sni EXPR`, `alpn`, `verifyhost`, versions and
// ciphers. As HAProxy, `ssl` verifies the server's certificate unless `verify none` is said.

import { loadCaFile, loadCert, TLS_VERSIONS, tlsVersionFlags, underBase } from './ssl.js';
import type { ServerSsl } from './model.js';
import { Place } from '../acl/index.js';
import { getSampleChecks, registerPostCheck, registerServerOptions, type ServerOptionContext, type ServerOptionDef } from './registry.js';


function sslOf(ctx: ServerOptionContext): ServerSsl {
  // A server starts from its default-server settings: its own TLS settings are a copy.
  const cur = ctx.target.ssl;
  // The first TLS keyword of a server starts from the global ssl-default-server-* settings.
  const from = cur ?? ctx.state.global.ssl.server;
  const s: ServerSsl = { ...from, noVersions: [...from.noVersions] };
  ctx.target.ssl = s;
  return s;
}

function flag(name: string, apply: (s: ServerSsl) => void): ServerOptionDef {
  return {
    name,
    args: 0,
    defaultOk: true,
    parse(ctx) {
      apply(sslOf(ctx));
      return undefined;
    },
  };
}

function arg(name: string, missing: string, apply: (s: ServerSsl, v: string, ctx: ServerOptionContext) => string | undefined): ServerOptionDef {
  return {
    name,
    args: 1,
    defaultOk: true,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return missing;
      return apply(sslOf(ctx), v, ctx);
    },
  };
}

registerServerOptions([
  flag('ssl', (s) => (s.enabled = true)),
  flag('no-ssl', (s) => (s.enabled = false)),
  arg('verify', "'verify' : missing verify method", (s, v) => {
    if (v !== 'none' && v !== 'required') return `'verify' : unknown verify method '${v}', only 'none' and 'required' are supported`;
    s.verify = v;
    return undefined;
  }),
  arg('ca-file', "'ca-file' : missing CAfile path", (s, v, ctx) => {
    const path = underBase(ctx.state.global.ssl.caBase, v);
    const ca = loadCaFile(path);
    if (typeof ca !== 'string') return `Couldn't open the ca-file '${path}' (${ca.why})\n'ca-file' : unable to load ${path}.`;
    s.caFile = ca;
    return undefined;
  }),
  arg('crt', "'crt' : missing certificate file path", (s, v, ctx) => {
    const c = loadCert(underBase(ctx.state.global.ssl.crtBase, v));
    if (typeof c === 'string') return c.replace(/\.$/, '');
    s.crt = { cert: c.cert, key: c.key };
    return undefined;
  }),
  arg('sni', "'sni' : missing sni expression", (s, v) => {
    // A sample expression evaluated when the server connection is set up.
    const r = getSampleChecks()?.expr(v, Place.BeSrvCon);
    if (r !== undefined) {
      const why = 'needs' in r ? ` fetch method '${v}' extracts information from '${r.needs}', none of which is available here` : r.error;
      return `error detected while parsing sni expression : ${why}`;
    }
    s.sni = v;
    return undefined;
  }),
  arg('alpn', "'alpn' : missing the comma-delimited ALPN protocol suite", (s, v) => {
    if (v === '') return "'alpn' : missing the comma-delimited ALPN protocol suite";
    // A list of commas only is accepted, as HAProxy does: no protocol is offered.
    s.alpn = v.split(',').filter((p) => p !== '');
    return undefined;
  }),
  arg('verifyhost', "'verifyhost' : missing hostname", (s, v) => {
    s.verifyhost = v;
    return undefined;
  }),
  arg('ciphers', "'ciphers' : missing cipher suite", (s, v) => {
    s.ciphers = v;
    return undefined;
  }),
  arg('ciphersuites', "'ciphersuites' : missing cipher suite", (s, v) => {
    s.ciphersuites = v;
    return undefined;
  }),
  ...(['ssl-min-ver', 'ssl-max-ver'] as const).map((name) =>
    arg(name, `'${name}' : missing the ssl/tls version`, (s, v) => {
      // SSLv3 is known to HAProxy but offered by neither OpenSSL build: as a minimum it means
      // TLSv1.0 (as a maximum it would leave nothing, which HAProxy refuses too).
      const ver = name === 'ssl-min-ver' && v === 'SSLv3' ? 'TLSv1' : TLS_VERSIONS[v];
      if (ver === undefined) return `'${v}' : unknown ssl/tls version`;
      if (name === 'ssl-min-ver') s.minVersion = ver;
      else s.maxVersion = ver;
      return undefined;
    }),
  ),
  ...tlsVersionFlags(flag),
  flag('no-sslv3', () => {}),
]);

// `ssl` verifies the server unless told not to, and verifying needs CAs (HAProxy's check and wording).
registerPostCheck((state) => {
  for (const p of state.proxies) {
    for (const s of p.servers) {
      const ssl = s.ssl;
      // ssl-min-ver/ssl-max-ver win over the no-tlsv1x flags (versionRange ignores them then).
      if (ssl?.enabled && ssl.noVersions.length > 0 && (ssl.minVersion !== undefined || ssl.maxVersion !== undefined)) {
        state.diags.warning(`[${s.loc.file}:${s.loc.line}] : 'server ${p.name}/${s.name}' : no-sslv3/no-tlsv1x are ignored for this server. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.`);
      }
      if (ssl?.enabled && ssl.verify !== 'none' && ssl.caFile === undefined) {
        state.diags.alert(
          `[${s.loc.file}:${s.loc.line}] : 'server ${p.name}/${s.name}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.`,
        );
      }
    }
  }
});
