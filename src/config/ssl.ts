// TLS on `bind` lines (HAProxy's ssl_sock.c and cfgparse-ssl.c): `ssl`, `crt FILE|DIR`,
// `crt-list FILE`, `alpn`, `ciphers`, `ciphersuites`, `curves`, `ssl-min-ver`/`ssl-max-ver` and
// the `no-*`/`force-*` version flags, `ca-file`, `verify`, `strict-sni`; and `proto h1|h2`.
// Certificates are loaded and checked while the file is read, so that a missing file or a key
// that does not match its certificate is an alert with file and line, as in HAProxy.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as tls from 'node:tls';
import type { BindSsl, TlsCert, TlsVersion } from './model.js';
import { registerBindOptions, registerPostCheck, type BindOptionContext, type BindOptionDef } from './registry.js';
import type { BindDraft } from './state.js';

/** TLS version names as the configuration writes them. */
export const TLS_VERSIONS: Record<string, TlsVersion> = {
  'TLSv1.0': 'TLSv1',
  'TLSv1.1': 'TLSv1.1',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
};
const ORDER: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * The TLS settings of the binds of one line, created by the first TLS keyword from the global
 * ssl-default-bind-* settings.
 */
function sslOf(b: BindDraft, defaults: BindSsl): BindSsl {
  b.ssl ??= { ...defaults, certs: [...defaults.certs], noVersions: [...defaults.noVersions] };
  return b.ssl;
}

function forEachSsl(ctx: BindOptionContext, f: (s: BindSsl) => void): undefined {
  for (const b of ctx.bind) f(sslOf(b, ctx.state.global.ssl.bind));
  return undefined;
}

/** A path as `crt-base`/`ca-base` makes it: relative ones are read from the base directory. */
export function underBase(base: string | undefined, path: string): string {
  return base === undefined || path.startsWith('/') ? path : `${base.replace(/\/+$/, '')}/${path}`;
}

function errno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : String((e as Error).message);
}

/**
 * Loads one certificate as HAProxy does: certificate chain and private key in one PEM file, or
 * the key in FILE.key next to it. The SNI names are the certificate's DNS subjectAltNames and
 * CN; `filters`, from a crt-list line, replace them (those starting with '!' exclude a name).
 */
/**
 * Reads a CA file (`ca-file`, bind and server): its PEM text, or why it cannot be used, worded
 * as OpenSSL does for HAProxy (a file holding neither a certificate nor a CRL is refused).
 */
export function loadCaFile(path: string): string | { why: string } {
  let pem: string;
  try {
    pem = readFileSync(path, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { why: code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : (e as Error).message };
  }
  if (!/-----BEGIN (CERTIFICATE|TRUSTED CERTIFICATE|X509 CRL)-----/.test(pem)) return { why: 'no certificate or crl found' };
  return pem;
}

export function loadCert(file: string, filters: string[] = []): TlsCert | string {
  let pem: string;
  try {
    pem = readFileSync(file, 'latin1');
  } catch (e) {
    return `unable to stat SSL certificate from file '${file}' : ${errno(e)}.`;
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem);
  } catch {
    return `unable to load certificate from file '${file}'.`;
  }
  let keyPem = pem;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    try {
      keyPem = readFileSync(file + '.key', 'latin1');
    } catch {
      return `No Private Key found in '${file}.key'.`;
    }
  }
  try {
    const key = createPrivateKey(keyPem);
    if (!x509.checkPrivateKey(key)) return `inconsistencies between private key and certificate loaded '${file}'.`;
  } catch {
    return `unable to load SSL private key from PEM file '${file}'.`;
  }
  const names: string[] = [];
  const neg: string[] = [];
  if (filters.length > 0) {
    for (const f of filters) (f.startsWith('!') ? neg : names).push(f.replace(/^!/, '').toLowerCase());
  }
  if (names.length === 0) {
    for (const part of (x509.subjectAltName ?? '').split(',')) {
      const m = /^\s*DNS:(.+)$/.exec(part);
      if (m) names.push(m[1]!.trim().toLowerCase());
    }
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject);
    if (cn && !names.includes(cn[1]!.toLowerCase())) names.push(cn[1]!.toLowerCase());
  }
  return { file, cert: pem, key: keyPem, names: names.filter((n) => !neg.includes(n)) };
}

/** `crt FILE|DIR`: a directory loads its files in name order, skipping the companions (.key...). */
function loadCrt(path: string): TlsCert[] | string {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    return `unable to stat SSL certificate from file '${path}' : ${errno(e)}.`;
  }
  if (!isDir) {
    const c = loadCert(path);
    return typeof c === 'string' ? c : [c];
  }
  const out: TlsCert[] = [];
  for (const f of readdirSync(path).sort()) {
    if (f.startsWith('.') || /\.(key|ocsp|issuer|sctl|dh)$/.test(f)) continue;
    const full = `${path.replace(/\/$/, '')}/${f}`;
    if (!statSync(full).isFile()) continue;
    const c = loadCert(full);
    if (typeof c === 'string') return c;
    out.push(c);
  }
  return out;
}

/**
 * `crt-list FILE`: one certificate per line, `<crtfile> [[options]] [sni filters]`. The options
 * of a line (`ciphers`, `ciphersuites`, `ssl-min-ver`, `ssl-max-ver`, `curves`) apply to that
 * certificate only.
 */
function loadCrtList(file: string, crtBase: string | undefined): TlsCert[] | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return `'crt-list' : cannot open file '${file}' : ${errno(e)}`;
  }
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  const out: TlsCert[] = [];
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^(\S+)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(line);
    if (!m) return `'crt-list' : error processing line ${ln + 1} in file '${file}'`;
    // Relative paths: from crt-base when set, else next to the list.
    const crtPath = m[1]!.startsWith('/') ? m[1]! : crtBase !== undefined ? underBase(crtBase, m[1]!) : dir + m[1]!;
    const filters = m[3]!.split(/\s+/).filter((s) => s !== '');
    const c = loadCert(crtPath, filters);
    if (typeof c === 'string') return c;
    if (m[2] !== undefined) {
      const words = m[2].trim().split(/\s+/).filter((s) => s !== '');
      for (let i = 0; i < words.length; i += 2) {
        const kw = words[i]!;
        const v = words[i + 1];
        if (v === undefined) return `'crt-list' : '${kw}' expects an argument (line ${ln + 1} of '${file}')`;
        switch (kw) {
          case 'ciphers': c.ciphers = v; break;
          case 'ciphersuites': c.ciphersuites = v; break;
          case 'curves': c.curves = v; break;
          case 'ssl-min-ver':
          case 'ssl-max-ver': {
            const ver = TLS_VERSIONS[v];
            if (ver === undefined) return `'${v}' : unknown ssl/tls version`;
            if (kw === 'ssl-min-ver') c.minVersion = ver;
            else c.maxVersion = ver;
            break;
          }
          default:
            return `'crt-list' : '${kw}' in a crt-list line is not supported yet by sluice (line ${ln + 1} of '${file}')`;
        }
      }
    }
    out.push(c);
  }
  return out;
}

function oneArg(name: string, apply: (ctx: BindOptionContext, v: string) => string | undefined, missing?: string): BindOptionDef {
  return {
    name,
    args: 1,
    parse(ctx) {
      const v = ctx.args[ctx.cur + 1];
      if (v === undefined) return missing ?? `'${name}' : missing value`;
      return apply(ctx, v);
    },
  };
}

function flag(name: string, apply: (s: BindSsl) => void): BindOptionDef {
  return { name, args: 0, parse: (ctx) => forEachSsl(ctx, apply) };
}

/** The TLS version settings shared by binds and servers. */
export interface TlsVersionSettings {
  minVersion?: TlsVersion | undefined;
  maxVersion?: TlsVersion | undefined;
  noVersions: TlsVersion[];
}

/**
 * `no-tlsv10..13` and `force-tlsv10..13`, for binds and servers: `flag` makes the option
 * definition from its name and what it does to the settings.
 */
export function tlsVersionFlags<D>(flag: (name: string, apply: (s: TlsVersionSettings) => void) => D): D[] {
  return (['10', '11', '12', '13'] as const).flatMap((n): D[] => {
    const ver = ORDER[Number(n[1])]!;
    return [
      flag(`no-tlsv${n}`, (s) => s.noVersions.push(ver)),
      flag(`force-tlsv${n}`, (s) => {
        s.minVersion = ver;
        s.maxVersion = ver;
      }),
    ];
  });
}

/** The version range allowed, from ssl-min-ver, ssl-max-ver and the no-tlsv1x, force-tlsv1x flags. */
export function versionRange(s: TlsVersionSettings): { min: TlsVersion; max: TlsVersion } {
  let lo = s.minVersion !== undefined ? ORDER.indexOf(s.minVersion) : ORDER.indexOf('TLSv1.2');
  let hi = s.maxVersion !== undefined ? ORDER.indexOf(s.maxVersion) : ORDER.length - 1;
  while (lo <= hi && s.noVersions.includes(ORDER[lo]!)) lo++;
  while (hi >= lo && s.noVersions.includes(ORDER[hi]!)) hi--;
  if (lo > hi) lo = hi = Math.max(0, Math.min(lo, ORDER.length - 1));
  return { min: ORDER[lo]!, max: ORDER[hi]! };
}

/** Checks that OpenSSL accepts a bind's cipher settings; the HAProxy-worded error otherwise. */
export function checkCiphers(what: 'ciphers' | 'ciphersuites' | 'curves', v: string): string | undefined {
  try {
    // Node takes TLS 1.3 suites and older ciphers in one list.
    if (what === 'curves') tls.createSecureContext({ ecdhCurve: v });
    else tls.createSecureContext({ ciphers: v });
    return undefined;
  } catch {
    const label = what === 'ciphers' ? 'cipher list' : what === 'ciphersuites' ? 'cipher suite' : 'curves list';
    return `unable to set SSL ${label} to '${v}'`;
  }
}

registerBindOptions([
  flag('ssl', (s) => (s.enabled = true)),
  oneArg('crt', (ctx, v) => {
    const certs = loadCrt(underBase(ctx.state.global.ssl.crtBase, v));
    if (typeof certs === 'string') return certs;
    return forEachSsl(ctx, (s) => s.certs.push(...certs));
  }, "'crt' : missing certificate location"),
  oneArg('crt-list', (ctx, v) => {
    const certs = loadCrtList(v, ctx.state.global.ssl.crtBase);
    if (typeof certs === 'string') return certs;
    return forEachSsl(ctx, (s) => s.certs.push(...certs));
  }, "'crt-list' : missing certificate location"),
  oneArg('alpn', (ctx, v) => {
    const list = v.split(',').filter((p) => p !== '');
    if (list.length === 0) return "'alpn' : missing the comma-delimited ALPN protocol suite";
    return forEachSsl(ctx, (s) => (s.alpn = list));
  }, "'alpn' : missing the comma-delimited ALPN protocol suite"),
  flag('no-alpn', (s) => (s.alpn = [])),
  oneArg('ciphers', (ctx, v) => checkCiphers('ciphers', v) ?? forEachSsl(ctx, (s) => (s.ciphers = v)), "'ciphers' : missing cipher suite"),
  oneArg('ciphersuites', (ctx, v) => checkCiphers('ciphersuites', v) ?? forEachSsl(ctx, (s) => (s.ciphersuites = v)), "'ciphersuites' : missing cipher suite"),
  oneArg('curves', (ctx, v) => checkCiphers('curves', v) ?? forEachSsl(ctx, (s) => (s.curves = v)), "'curves' : missing curve suite"),
  ...(['ssl-min-ver', 'ssl-max-ver'] as const).map((name) =>
    oneArg(name, (ctx, v) => {
      const ver = TLS_VERSIONS[v];
      if (ver === undefined) return `'${v}' : unknown ssl/tls version`;
      return forEachSsl(ctx, (s) => {
        if (name === 'ssl-min-ver') s.minVersion = ver;
        else s.maxVersion = ver;
      });
    }, `'${name}' : missing the ssl/tls version`),
  ),
  ...tlsVersionFlags(flag),
  flag('no-sslv3', () => {}),
  oneArg('ca-file', (ctx, v) => {
    const path = underBase(ctx.state.global.ssl.caBase, v);
    const ca = loadCaFile(path);
    if (typeof ca !== 'string') {
      // HAProxy says why first, without a location, then fails the bind line.
      ctx.report.alert(`Couldn't open the ca-file '${path}' (${ca.why}).`, 'none');
      return `'ca-file' : unable to load ${v}`;
    }
    return forEachSsl(ctx, (s) => (s.caFile = ca));
  }, "'ca-file' : missing CAfile path"),
  oneArg('verify', (ctx, v) => {
    if (v !== 'none' && v !== 'optional' && v !== 'required') return `'verify' : unknown verify method '${v}', only 'none', 'optional', and 'required' are supported`;
    return forEachSsl(ctx, (s) => (s.verify = v));
  }, "'verify' : missing verify method"),
  flag('strict-sni', (s) => (s.strictSni = true)),
  flag('no-strict-sni', (s) => (s.strictSni = false)),
  flag('no-tls-tickets', (s) => (s.tlsTickets = false)),
  flag('tls-tickets', (s) => (s.tlsTickets = true)),
  flag('prefer-client-ciphers', (s) => (s.preferClientCiphers = true)),
  oneArg('proto', (ctx, v) => {
    if (v !== 'h1' && v !== 'h2') return `'proto' :  unknown MUX protocol '${v}'`;
    for (const b of ctx.bind) b.proto = v;
    return undefined;
  }, "'proto' : missing value"),
]);

// A bind that terminates TLS needs a certificate (HAProxy checks it once the file is read).
registerPostCheck((state) => {
  for (const p of state.proxies) {
    for (const b of p.binds) {
      if (b.ssl?.enabled && p.mode === 'tcp') {
        state.diags.alert(`Proxy '${p.name}': TLS on a bind of a TCP proxy ('${b.text}' at [${b.loc.file}:${b.loc.line}]) is not supported yet by sluice.`);
      } else if (b.ssl?.enabled && b.ssl.certs.length === 0) {
        state.diags.alert(`Proxy '${p.name}': no SSL certificate specified for bind '${b.text}' at [${b.loc.file}:${b.loc.line}] (use 'crt').`);
      }
    }
  }
});
