// Test certificates made with the real `openssl` at test time, in a private temp folder: a CA and
// certificates it signs for given names, written the ways HAProxy reads them (certificate and key
// in one PEM, or the certificate with its key in FILE.key next to it), plus the broken cases the
// configuration checks need (expired, key of another certificate, certificate without key).
// Elliptic-curve keys keep generation fast (a few milliseconds per certificate). `tlsProbe` is the
// client side: one handshake, reporting what the server presented and negotiated.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { requireBinary } from './bins.js';
import { makeTempDir } from './proc.js';

/** One certificate issued by a TestCa, with every file form a test may hand to a proxy. */
export interface IssuedCert {
  name: string;
  cn: string;
  /** DNS subjectAltNames (empty: the certificate has no SAN extension, only the CN). */
  sans: string[];
  /** PEM of the certificate alone, and of its private key. */
  cert: string;
  key: string;
  /** Certificate then key in one PEM: what `crt FILE` takes. */
  combined: string;
  /** <dir>/<name>.pem: certificate and key together. */
  pemFile: string;
  /** <dir>/split/<name>.pem holding only the certificate, and <dir>/split/<name>.pem.key its key. */
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint as node:tls reports it (`AA:BB:...`). */
  fingerprint256: string;
}

export interface IssueOptions {
  /** Common name, default the first SAN or the certificate's name. */
  cn?: string;
  /** DNS subjectAltNames; none by default (only the CN names the server). */
  sans?: string[];
  /** Validity in days from now (default 30). */
  days?: number;
  /** Already expired: valid for one day, two years ago. */
  expired?: boolean;
  /** A client certificate (extendedKeyUsage clientAuth) instead of a server one. */
  client?: boolean;
}

/** A certificate authority living in its own temp folder. */
export interface TestCa {
  dir: string;
  /** PEM of the CA certificate (what `ca-file` and a client's trust store take), and its file. */
  cert: string;
  certFile: string;
  /** Issues and writes a certificate `name` (a file-name-safe label, unique per CA). */
  issue(name: string, opts?: IssueOptions): IssuedCert;
  /** Writes `text` to <dir>/<name> and returns the path (crt-lists, odd PEM files...). */
  write(name: string, text: string | Buffer): string;
}

function openssl(args: string[], cwd: string): string {
  try {
    return execFileSync(requireBinary('openssl'), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

const CA_CONF = `[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = sluice test CA
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;

/** openssl `ca` dates: YYMMDDHHMMSSZ in UTC. */
function caDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
    p(d.getUTCHours()) + p(d.getUTCMinutes()) + p(d.getUTCSeconds()) + 'Z'
  );
}

/**
 * Creates a CA in a fresh temp folder (removed when the test process exits). `label` names it in
 * its subject, so that two CAs of one test can be told apart.
 */
export function makeCa(label = 'sluice test CA'): TestCa {
  const dir = makeTempDir('sluice-pki-');
  fs.mkdirSync(path.join(dir, 'issued'));
  fs.mkdirSync(path.join(dir, 'split'));
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CONF.replace('CN = sluice test CA', `CN = ${label}`));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-config', 'ca.cnf', '-new', '-x509', '-key', 'ca.key', '-days', '365', '-extensions', 'v3_ca', '-out', 'ca.crt'], dir);
  const certFile = path.join(dir, 'ca.crt');
  const cert = fs.readFileSync(certFile, 'utf8');
  const names = new Set<string>();

  const issue = (name: string, opts: IssueOptions = {}): IssuedCert => {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || names.has(name)) throw new Error(`bad or repeated certificate name '${name}'`);
    names.add(name);
    const sans = opts.sans ?? [];
    const cn = opts.cn ?? sans[0] ?? name;
    const keyTmp = `${name}.tmp.key`;
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyTmp], dir);
    // PKCS#8, the form every reader (HAProxy, node, curl) takes.
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', keyTmp, '-out', `${name}.key`], dir);
    fs.rmSync(path.join(dir, keyTmp));
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
    const ext = [
      'basicConstraints = CA:false',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${opts.client ? 'clientAuth' : 'serverAuth'}`,
    ];
    if (sans.length > 0) ext.push(`subjectAltName = ${sans.map((s) => `DNS:${s}`).join(',')}`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `[ v3 ]\n${ext.join('\n')}\n`);
    const now = Date.now();
    const start = opts.expired ? new Date(now - 730 * 86400_000) : new Date(now - 3600_000);
    const end = opts.expired ? new Date(now - 729 * 86400_000) : new Date(now + (opts.days ?? 30) * 86400_000);
    openssl(
      ['ca', '-config', 'ca.cnf', '-batch', '-notext', '-keyfile', 'ca.key', '-cert', 'ca.crt',
        '-startdate', caDate(start), '-enddate', caDate(end),
        '-extfile', `${name}.ext`, '-extensions', 'v3', '-in', `${name}.csr`, '-out', `${name}.crt`],
      dir,
    );
    const crt = fs.readFileSync(path.join(dir, `${name}.crt`), 'utf8');
    const key = fs.readFileSync(path.join(dir, `${name}.key`), 'utf8');
    const pemFile = path.join(dir, `${name}.pem`);
    fs.writeFileSync(pemFile, crt + key);
    const certOnly = path.join(dir, 'split', `${name}.pem`);
    fs.writeFileSync(certOnly, crt);
    fs.writeFileSync(`${certOnly}.key`, key);
    const fp = openssl(['x509', '-in', `${name}.crt`, '-noout', '-fingerprint', '-sha256'], dir);
    return {
      name,
      cn,
      sans,
      cert: crt,
      key,
      combined: crt + key,
      pemFile,
      certFile: certOnly,
      keyFile: `${certOnly}.key`,
      fingerprint256: fp.trim().replace(/^.*=/, ''),
    };
  };

  const write = (name: string, text: string | Buffer): string => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };

  return { dir, cert, certFile, issue, write };
}

export interface TlsProbeOptions extends tls.ConnectionOptions {
  /** Bytes written once the handshake is done (an HTTP/1.1 request...); the answer is collected. */
  send?: string;
  /** Bound on the probe, default 5000 ms. */
  timeoutMs?: number;
}

/** What one TLS connection to the proxy showed. */
export interface TlsProbeResult {
  /** The handshake completed on the client side. */
  handshake: boolean;
  /** The first error (handshake failure, alert received later, timeout), or null. */
  error: string | null;
  /** Negotiated ALPN protocol (false: none). */
  alpn: string | false;
  /** "TLSv1.3"... */
  protocol: string | null;
  /** Negotiated cipher, OpenSSL name ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"). */
  cipher: string | null;
  /** Subject CN and subjectAltName of the certificate the server presented. */
  peerCN: string | null;
  peerSAN: string | null;
  fingerprint256: string | null;
  /** The presented certificate verifies against the `ca` given (and names `servername`). */
  authorized: boolean;
  /** What came back after `send`, as latin1 text. */
  received: string;
}

/**
 * Connects with TLS to 127.0.0.1:port (rejectUnauthorized off, so that a wrong certificate is
 * reported rather than refused), optionally sends `send` and collects the answer until the server
 * closes or the bound. Never rejects.
 */
export function tlsProbe(port: number, opts: TlsProbeOptions = {}): Promise<TlsProbeResult> {
  const { send, timeoutMs = 5000, ...o } = opts;
  return new Promise((resolve) => {
    const r: TlsProbeResult = {
      handshake: false,
      error: null,
      alpn: false,
      protocol: null,
      cipher: null,
      peerCN: null,
      peerSAN: null,
      fingerprint256: null,
      authorized: false,
      received: '',
    };
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...o });
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      if (!r.handshake || send === undefined) r.error ??= `timeout after ${timeoutMs} ms`;
      done();
    }, timeoutMs);
    s.on('secureConnect', () => {
      r.handshake = true;
      r.alpn = s.alpnProtocol ?? false;
      r.protocol = s.getProtocol();
      r.cipher = s.getCipher()?.name ?? null;
      const peer = s.getPeerCertificate();
      if (peer && Object.keys(peer).length > 0) {
        const cn = peer.subject?.CN;
        r.peerCN = Array.isArray(cn) ? cn[0]! : (cn ?? null);
        r.peerSAN = peer.subjectaltname ?? null;
        r.fingerprint256 = peer.fingerprint256 ?? null;
      }
      r.authorized = s.authorized;
      if (send === undefined) done();
      else s.write(send);
    });
    s.setEncoding('latin1');
    s.on('data', (d: string) => (r.received += d));
    s.on('error', (e: Error) => {
      r.error ??= e.message;
      done();
    });
    s.on('end', () => done());
    s.on('close', () => done());
  });
}
