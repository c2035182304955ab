// TLS on `bind` lines (HAProxy's ssl_sock.c and cfgparse-ssl.c): `ssl`, `crt FILE|DIR`,
// `crt-list FILE`, `alpn`, `ciphers`, `ciphersuites`, `curves`, `ssl-min-ver`/`ssl-max-ver` and
// the `no-*`/`force-*` version flags, `ca-file`, `verify`, `strict-sni`; and `proto h1|h2`.
// Certificates are loaded and checked while the file is read, so that a missing file or a key
// that does not match its certificate is an alert with file and line, as in HAProxy. Versions,
// verify without CA and cipher/curve lists are checked after parsing, where HAProxy checks them
// (when it builds each bind's TLS contexts), with its "Proxy '...': ... for bind" wording.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as tls from 'node:tls';
import type { BindSsl, TlsCert, TlsVersion } from './model.js';
import { registerBindOptions, registerPostCheck, type BindOptionContext, type BindOptionDef } from './registry.js';
import { bindSpec } from './bind.js';
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
 * The version names a bind (and a crt-list line) accepts, oldest first. HAProxy knows SSLv3, but
 * neither its OpenSSL nor node's offers it: a minimum of SSLv3 means TLSv1.0, a maximum of SSLv3
 * leaves no version at all.
 */
const BIND_VERSIONS = ['SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
/** Index in BIND_VERSIONS of the minimum a bind gets when it sets none. */
const DEFAULT_MIN = 3;

/**
 * Settings (a bind's, a crt-list line's) whose ssl-max-ver is SSLv3; their maxVersion holds
 * TLSv1 so that "a maximum is set" still reads true. Only the check after parsing reads it: that
 * configuration is always refused.
 */
const maxIsSslv3 = new WeakSet<object>();
/** Binds with `no-sslv3`, which HAProxy counts with the no-tlsv1x flags. */
const noSslv3 = new WeakSet<object>();

/** `ssl-min-ver`/`ssl-max-ver` of a bind or a crt-list line; the alert text for a bad name. */
function setVersion(s: { minVersion?: TlsVersion; maxVersion?: TlsVersion }, kw: 'ssl-min-ver' | 'ssl-max-ver', v: string): string | undefined {
  const i = (BIND_VERSIONS as readonly string[]).indexOf(v);
  if (i < 0) return `'${v}' : unknown ssl/tls version`;
  const ver = ORDER[Math.max(i, 1) - 1]!;
  if (kw === 'ssl-min-ver') {
    s.minVersion = ver;
  } else {
    s.maxVersion = ver;
    if (i === 0) maxIsSslv3.add(s);
    else maxIsSslv3.delete(s);
  }
  return undefined;
}

/** Index in BIND_VERSIONS of a settings' maximum. */
function maxIndex(s: { maxVersion?: TlsVersion | undefined }): number | undefined {
  if (s.maxVersion === undefined) return undefined;
  return maxIsSslv3.has(s) ? 0 : ORDER.indexOf(s.maxVersion) + 1;
}

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

/** What HAProxy 2.6 accepts between a crt-list line's brackets, with its number of arguments. */
const CRTLIST_KEYWORDS: Record<string, number> = {
  'allow-0rtt': 0, alpn: 1, 'ca-file': 1, 'ca-verify-file': 1, ciphers: 1, ciphersuites: 1, 'crl-file': 1,
  curves: 1, ecdhe: 1, 'no-ca-names': 0, npn: 1, 'ssl-min-ver': 1, 'ssl-max-ver': 1, verify: 1,
};

/**
 * `crt-list FILE`: one certificate per line, `<crtfile> [[options]] [sni filters]`; whole lines
 * starting with '#' are comments. The options of a line (`ciphers`, `ciphersuites`, `curves`,
 * `ssl-min-ver`, `ssl-max-ver`) apply to that certificate only. As in HAProxy a line's options
 * are read before its certificate, a relative path is read from crt-base (else the working
 * directory), and every alert starts with "'crt-list' : ".
 */
function loadCrtList(file: string, crtBase: string | undefined, warn: (msg: string) => void): TlsCert[] | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return `'crt-list' : cannot open file '${file}' : ${errno(e)}`;
  }
  const out: TlsCert[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = `'crt-list' : parsing [${file}:${i + 1}]:`;
    if (line.startsWith('[')) return `${at} file must start with a cert`;
    const m = /^(\S+)\s*(.*)$/.exec(line)!;
    const rest = m[2]!;
    const open = rest.indexOf('[');
    const close = rest.indexOf(']');
    if (close >= 0 && (open < 0 || close < open)) return `${at} missing '['`;
    let options = '';
    let filterText = rest;
    if (open >= 0 && close > open) {
      if (rest.slice(0, open).trim() !== '') warn(`${at} malformated line, filters can't be between filename and options!`);
      options = rest.slice(open + 1, close);
      filterText = `${rest.slice(0, open)} ${rest.slice(close + 1)}`;
    }
    const settings: Partial<TlsCert> = {};
    const words = options.split(/\s+/).filter((w) => w !== '');
    for (let w = 0; w < words.length; ) {
      const kw = words[w]!;
      const nargs = CRTLIST_KEYWORDS[kw];
      if (nargs === undefined) return `${at} unknown ssl keyword ${kw}`;
      const v = words[w + 1];
      if (nargs === 1 && v === undefined) return `${at} ssl args out of '[]' for ${kw}`;
      w += 1 + nargs;
      if (kw === 'ciphers' || kw === 'ciphersuites' || kw === 'curves') {
        settings[kw] = v!;
      } else if (kw === 'ssl-min-ver' || kw === 'ssl-max-ver') {
        const err = setVersion(settings, kw, v!);
        if (err !== undefined) return `'crt-list' : ${err}`;
      } else {
        return `'crt-list' : '${kw}' in a crt-list line is not supported yet by sluice (line ${i + 1} of '${file}')`;
      }
    }
    const filters = filterText.split(/\s+/).filter((f) => f !== '');
    const c = loadCert(underBase(crtBase, m[1]!), filters);
    if (typeof c === 'string') return `'crt-list' : ${c}`;
    const cert: TlsCert = { ...c, ...settings };
    if (maxIsSslv3.has(settings)) maxIsSslv3.add(cert);
    out.push(cert);
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

/**
 * The version range allowed, from ssl-min-ver, ssl-max-ver and the no-tlsv1x, force-tlsv1x
 * flags. As in HAProxy the flags are ignored once a bound is set, and without a minimum it is
 * TLSv1.2, or the maximum when that is lower. A bind's range is already resolved by the check
 * after parsing (bindVersionChecks), so that only its explicit bounds are left here.
 */
export function versionRange(s: TlsVersionSettings): { min: TlsVersion; max: TlsVersion } {
  const no = s.minVersion !== undefined || s.maxVersion !== undefined ? [] : s.noVersions;
  let hi = s.maxVersion !== undefined ? ORDER.indexOf(s.maxVersion) : ORDER.length - 1;
  let lo = s.minVersion !== undefined ? ORDER.indexOf(s.minVersion) : Math.min(ORDER.indexOf('TLSv1.2'), hi);
  while (lo <= hi && no.includes(ORDER[lo]!)) lo++;
  while (hi >= lo && no.includes(ORDER[hi]!)) hi--;
  if (lo > hi) lo = hi = Math.max(0, Math.min(lo, ORDER.length - 1));
  return { min: ORDER[lo]!, max: ORDER[hi]! };
}

/**
 * Whether OpenSSL refuses a cipher list (`ciphers`, TLS 1.2 and older), a TLS 1.3 suite list
 * (`ciphersuites`) or a curve list. Node takes both kinds of suites in one list and sorts them by
 * their TLS_ prefix, so each kind is tried alone: as OpenSSL, a list is refused when nothing in
 * it is known. OpenSSL has no curve named "auto" (node makes it up).
 */
function opensslRefuses(what: 'ciphers' | 'ciphersuites' | 'curves', v: string): boolean {
  try {
    if (what === 'curves') {
      if (v === 'auto') return true;
      tls.createSecureContext({ ecdhCurve: v });
      return false;
    }
    const parts = v.split(':').filter((c) => c !== '' && c.startsWith('TLS_') === (what === 'ciphersuites'));
    if (parts.length === 0) return true;
    tls.createSecureContext({ ciphers: parts.join(':') });
    return false;
  } catch {
    return true;
  }
}

/** Checks that OpenSSL accepts a cipher setting of the global section; the error text otherwise. */
export function checkCiphers(what: 'ciphers' | 'ciphersuites' | 'curves', v: string): string | undefined {
  if (!opensslRefuses(what, v)) return undefined;
  const label = what === 'ciphers' ? 'cipher list' : what === 'ciphersuites' ? 'cipher suite' : 'curves list';
  return `unable to set SSL ${label} to '${v}'`;
}

registerBindOptions([
  flag('ssl', (s) => (s.enabled = true)),
  oneArg('crt', (ctx, v) => {
    const certs = loadCrt(underBase(ctx.state.global.ssl.crtBase, v));
    if (typeof certs === 'string') return certs;
    return forEachSsl(ctx, (s) => s.certs.push(...certs));
  }, "'crt' : missing certificate location"),
  oneArg('crt-list', (ctx, v) => {
    const where = `'bind ${ctx.args[1]}' in section '${ctx.proxy.kind}' : `;
    const certs = loadCrtList(v, ctx.state.global.ssl.crtBase, (msg) => ctx.report.warning(where + msg));
    if (typeof certs === 'string') return certs;
    return forEachSsl(ctx, (s) => s.certs.push(...certs));
  }, "'crt-list' : missing certificate location"),
  // Empty names are dropped: "alpn ," is accepted by HAProxy and negotiates nothing.
  oneArg('alpn', (ctx, v) => {
    if (v === '') return "'alpn' : missing the comma-delimited ALPN protocol suite";
    return forEachSsl(ctx, (s) => (s.alpn = v.split(',').filter((p) => p !== '')));
  }, "'alpn' : missing the comma-delimited ALPN protocol suite"),
  flag('no-alpn', (s) => (s.alpn = [])),
  // Cipher and curve lists are checked after parsing, on the binds that terminate TLS.
  oneArg('ciphers', (ctx, v) => forEachSsl(ctx, (s) => (s.ciphers = v)), "'ciphers' : missing cipher suite"),
  oneArg('ciphersuites', (ctx, v) => forEachSsl(ctx, (s) => (s.ciphersuites = v)), "'ciphersuites' : missing cipher suite"),
  oneArg('curves', (ctx, v) => forEachSsl(ctx, (s) => (s.curves = v)), "'curves' : missing curve suite"),
  ...(['ssl-min-ver', 'ssl-max-ver'] as const).map((name) =>
    oneArg(name, (ctx, v) => {
      if (!(BIND_VERSIONS as readonly string[]).includes(v)) return `'${v}' : unknown ssl/tls version`;
      return forEachSsl(ctx, (s) => setVersion(s, name, v));
    }, `'${name}' : missing the ssl/tls version`),
  ),
  ...tlsVersionFlags((name, apply) =>
    flag(name, (s) => {
      apply(s);
      maxIsSslv3.delete(s);
    }),
  ),
  flag('no-sslv3', (s) => noSslv3.add(s)),
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

/** What the check of one bind line reports, and where. */
interface BindCheck {
  proxy: string;
  /** "for bind '<addresses>' at [file:line]", as HAProxy names a bind line. */
  at: string;
  warn(msg: string): void;
  alert(msg: string): void;
}

/**
 * HAProxy's resolution of a bind's versions when it builds its TLS contexts: warnings for flags
 * it ignores and for a maximum below the default minimum, an alert when no version is left. The
 * range found is written back as explicit bounds, with the flags gone, for what runs.
 */
function bindVersionChecks(s: BindSsl, c: BindCheck): [number, number] | null {
  let min = s.minVersion !== undefined ? ORDER.indexOf(s.minVersion) + 1 : undefined;
  let max = maxIndex(s);
  let no = s.noVersions.map((v) => ORDER.indexOf(v) + 1);
  if ((no.length > 0 || noSslv3.has(s)) && (min !== undefined || max !== undefined)) {
    c.warn(`Proxy '${c.proxy}': no-sslv3/no-tlsv1x are ignored ${c.at}. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.`);
    no = [];
  }
  if (min === undefined) {
    if (max !== undefined && max < DEFAULT_MIN) {
      c.warn(
        `Proxy '${c.proxy}': Ambiguous configuration ${c.at}: the ssl-min-ver value is not configured and the ssl-max-ver value is lower than the default ssl-min-ver value (${BIND_VERSIONS[DEFAULT_MIN]}). Setting the ssl-min-ver to ${BIND_VERSIONS[max]}. Use 'ssl-min-ver' to fix this.`,
      );
      min = max;
    } else {
      min = DEFAULT_MIN;
    }
  }
  max ??= BIND_VERSIONS.length - 1;
  // SSLv3 (index 0) is never available.
  const left = [1, 2, 3, 4].filter((i) => i >= min && i <= max && !no.includes(i));
  if (left.length === 0) {
    c.alert(`Proxy '${c.proxy}': all SSL/TLS versions are disabled ${c.at}.`);
    return null;
  }
  // Without a flag in the middle of the range (HAProxy applies them only without bounds, where
  // the range is TLSv1.2..TLSv1.3), what is left is contiguous.
  const range: [number, number] = [left[0]!, left[left.length - 1]!];
  s.minVersion = ORDER[range[0] - 1]!;
  s.maxVersion = ORDER[range[1] - 1]!;
  s.noVersions = [];
  return range;
}

/**
 * The problems of one TLS context of a bind: the bind's own (the certificate settings are then
 * undefined), or a certificate's, whose crt-list settings replace the bind's. A certificate's
 * own version bounds are completed with the bind's resolved range, without the flags.
 */
function contextProblems(s: BindSsl, cert: TlsCert | undefined, bindRange: [number, number] | null, c: BindCheck): string[] {
  const out: string[] = [];
  if (cert !== undefined && (cert.minVersion !== undefined || cert.maxVersion !== undefined)) {
    const lo = cert.minVersion !== undefined ? ORDER.indexOf(cert.minVersion) + 1 : (bindRange?.[0] ?? 1);
    const hi = maxIndex(cert) ?? bindRange?.[1] ?? BIND_VERSIONS.length - 1;
    if (Math.max(lo, 1) > hi) {
      out.push(`Proxy '${c.proxy}': all SSL/TLS versions are disabled ${c.at}.`);
    } else {
      cert.minVersion = ORDER[Math.max(lo, 1) - 1]!;
      cert.maxVersion = ORDER[hi - 1]!;
    }
  }
  if (s.verify !== 'none' && s.caFile === undefined) out.push(`Proxy '${c.proxy}': verify is enabled but no CA file specified ${c.at}.`);
  const ciphers = cert?.ciphers ?? s.ciphers;
  if (ciphers !== undefined && opensslRefuses('ciphers', ciphers)) out.push(`Proxy '${c.proxy}': unable to set SSL cipher list to '${ciphers}' ${c.at}.`);
  const suites = cert?.ciphersuites ?? s.ciphersuites;
  if (suites !== undefined && opensslRefuses('ciphersuites', suites)) out.push(`Proxy '${c.proxy}': unable to set TLS 1.3 cipher suites to '${suites}' ${c.at}.`);
  const curves = cert?.curves ?? s.curves;
  if (curves !== undefined && opensslRefuses('curves', curves)) out.push(`Proxy '${c.proxy}': unable to set SSL curves list to '${curves}' ${c.at}.`);
  return out;
}

/**
 * What HAProxy checks once the configuration is read, when it builds the TLS contexts of a bind
 * line (all the addresses of a line are one bind for it): a certificate is needed; then the
 * versions; then each context, the bind's own and one per certificate, is checked, and the
 * problems of all of them make one alert of several lines.
 */
function checkBindLine(proxy: string, binds: BindDraft[], warn: (m: string) => void, alert: (m: string) => void): void {
  const first = binds[0]!;
  const s = first.ssl;
  if (s === undefined || !s.enabled) return;
  const at = `for bind '${bindSpec(first)}' at [${first.loc.file}:${first.loc.line}]`;
  if (s.certs.length === 0) {
    alert(`Proxy '${proxy}': no SSL certificate specified ${at} (use 'crt').`);
    return;
  }
  const problems: string[] = [];
  binds.forEach((b, i) => {
    // The addresses of a line have the same settings: the messages are those of the first.
    const quiet = () => {};
    const c: BindCheck = { proxy, at, warn: i === 0 ? warn : quiet, alert: i === 0 ? alert : quiet };
    const bs = b.ssl!;
    const range = bindVersionChecks(bs, c);
    // Each bind gets its own copies: the resolved bounds are written into them.
    bs.certs = bs.certs.map((cert) => copyCert(cert));
    const found = [contextProblems(bs, undefined, range, c), ...bs.certs.map((cert) => contextProblems(bs, cert, range, c))].flat();
    if (i === 0) problems.push(...found);
  });
  if (problems.length > 0) alert(problems.join('\n'));
}

function copyCert(c: TlsCert): TlsCert {
  const copy = { ...c };
  if (maxIsSslv3.has(c)) maxIsSslv3.add(copy);
  return copy;
}

registerPostCheck((state) => {
  for (const p of state.proxies) {
    const lines = new Map<string, BindDraft[]>();
    for (const b of p.binds) {
      const key = `${b.loc.file}:${b.loc.line}`;
      const line = lines.get(key);
      if (line === undefined) lines.set(key, [b]);
      else line.push(b);
    }
    for (const binds of lines.values()) {
      checkBindLine(p.name, binds, (m) => state.diags.warning(m), (m) => state.diags.alert(m));
    }
  }
});
