// TLS termination for one `bind` line: secure contexts built once from its certificates, SNI
// choosing among them (exact name, then `*.domain` wildcard, then the first certificate unless
// `strict-sni`), ALPN offering the bind's protocols. Accepted sockets go through a tls.Server
// that never listens (the sockets it produces are the ones node:http2 can take over; a TLSSocket
// made by hand around an accepted socket is not); the mux is chosen by the caller once the
// handshake says which protocol was negotiated.

import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { BindSsl, ServerSsl, TlsCert } from '../config/model.js';
import { versionRange } from '../config/ssl.js';

/** What the rules and the log read of a client connection's TLS session. */
export interface TlsInfo {
  /** The server name the client asked for (SNI), "" when none. */
  sni: string;
  /** "TLSv1.3" and the like (%sslv), and the cipher's OpenSSL name (%sslc). */
  version: string;
  cipher: string;
}

export function tlsInfoOf(s: tls.TLSSocket): TlsInfo {
  const sn = (s as tls.TLSSocket & { servername?: string | false }).servername;
  return { sni: typeof sn === 'string' ? sn : '', version: s.getProtocol() ?? '', cipher: s.getCipher()?.name ?? '' };
}

export class BindTls {
  private readonly exact = new Map<string, tls.SecureContext>();
  private readonly wildcard = new Map<string, tls.SecureContext>();
  private readonly fallback: tls.SecureContext | null;
  private readonly alpn: string[] | undefined;
  private readonly server: tls.Server;
  /** Handshakes in progress, by client address and port. */
  private readonly pending = new Map<string, (t: tls.TLSSocket | null) => void>();

  constructor(
    private readonly ssl: BindSsl,
    http: boolean,
  ) {
    let first: tls.SecureContext | null = null;
    let firstOpts: tls.SecureContextOptions | null = null;
    for (const c of ssl.certs) {
      const o = this.optionsOf(c);
      const ctx = tls.createSecureContext(o);
      if (first === null) {
        first = ctx;
        firstOpts = o;
      }
      for (const n of c.names) {
        if (n.startsWith('*.')) {
          if (!this.wildcard.has(n.slice(2))) this.wildcard.set(n.slice(2), ctx);
        } else if (!this.exact.has(n)) {
          this.exact.set(n, ctx);
        }
      }
    }
    this.fallback = ssl.strictSni ? null : first;
    // As HAProxy 2.8 and later: an HTTP bind without `alpn` offers h2 and http/1.1.
    const alpn = ssl.alpn ?? (http ? ['h2', 'http/1.1'] : undefined);
    this.alpn = alpn !== undefined && alpn.length > 0 ? alpn : undefined;
    const opts: tls.TlsOptions = {
      SNICallback: (name, cb) => {
        const ctx = this.contextFor(name);
        if (ctx === null) cb(new Error('no certificate for this server name (strict-sni)'), undefined);
        else cb(null, ctx);
      },
      requestCert: ssl.verify !== 'none',
      rejectUnauthorized: ssl.verify === 'required',
    };
    // tls.Server builds its default context from these options (it ignores `secureContext`).
    if (this.fallback !== null && firstOpts !== null) Object.assign(opts, firstOpts);
    if (this.alpn !== undefined) opts.ALPNProtocols = this.alpn;
    // A TCP session forwards a client's FIN and goes on sending the server's answer.
    if (!http) opts.allowHalfOpen = true;
    this.server = tls.createServer(opts);
    this.server.on('secureConnection', (t: tls.TLSSocket) => this.settle(t, this.verifiedOptional(t) ? t : null));
    this.server.on('tlsClientError', (_e: Error, t: tls.TLSSocket) => this.settle(t, null));
  }

  /**
   * `verify optional`: a client may present no certificate, but one it presents must verify.
   * node's rejectUnauthorized would refuse the absent one too, so the check comes after the
   * handshake (the client sees a close rather than HAProxy's alert).
   */
  private verifiedOptional(t: tls.TLSSocket): boolean {
    if (this.ssl.verify !== 'optional' || t.authorized) return true;
    const pc = t.getPeerCertificate();
    return pc === null || pc === undefined || Object.keys(pc).length === 0;
  }

  private settle(t: tls.TLSSocket, result: tls.TLSSocket | null): void {
    const key = `${t.remoteAddress}:${t.remotePort}`;
    const cb = this.pending.get(key);
    this.pending.delete(key);
    if (cb !== undefined) cb(result);
    else t.destroy();
  }

  private optionsOf(c: TlsCert): tls.SecureContextOptions {
    const s = this.ssl;
    const range = versionRange({ ...s, minVersion: c.minVersion ?? s.minVersion, maxVersion: c.maxVersion ?? s.maxVersion });
    const ciphers = [c.ciphersuites ?? s.ciphersuites, c.ciphers ?? s.ciphers].filter((x) => x !== undefined).join(':');
    const opts: tls.SecureContextOptions = {
      cert: c.cert,
      key: c.key,
      minVersion: range.min,
      maxVersion: range.max,
      honorCipherOrder: !s.preferClientCiphers,
    };
    if (ciphers !== '') opts.ciphers = ciphers;
    const curves = c.curves ?? s.curves;
    if (curves !== undefined) opts.ecdhCurve = curves;
    if (s.caFile !== undefined) opts.ca = s.caFile;
    if (!s.tlsTickets) opts.sessionTimeout = 0;
    return opts;
  }

  /** The context for a server name; null refuses the handshake (strict-sni, no match). */
  contextFor(name: string | undefined): tls.SecureContext | null {
    if (name !== undefined && name !== '') {
      const n = name.toLowerCase();
      const e = this.exact.get(n);
      if (e !== undefined) return e;
      const dot = n.indexOf('.');
      if (dot > 0) {
        const w = this.wildcard.get(n.slice(dot + 1));
        if (w !== undefined) return w;
      }
    }
    return this.fallback;
  }

  /**
   * Starts the server side of TLS on an accepted socket; `done` gets the secure socket, or null
   * when the handshake failed. `forget` must be called if the caller gives up first.
   */
  accept(raw: net.Socket, done: (t: tls.TLSSocket | null) => void): void {
    this.pending.set(`${raw.remoteAddress}:${raw.remotePort}`, done);
    this.server.emit('connection', raw);
  }

  forget(raw: net.Socket): void {
    this.pending.delete(`${raw.remoteAddress}:${raw.remotePort}`);
  }
}

/** What a connection to a TLS server needs, built once per server. */
export interface ServerTls {
  readonly context: tls.SecureContext;
  readonly verify: boolean;
  readonly verifyhost: string | undefined;
  readonly alpn: string[] | undefined;
}

/** The TLS settings of a server (`server ... ssl`), with its secure context built once. */
export function serverTls(s: ServerSsl): ServerTls {
  const range = versionRange(s);
  const opts: tls.SecureContextOptions = { minVersion: range.min, maxVersion: range.max };
  const ciphers = [s.ciphersuites, s.ciphers].filter((x) => x !== undefined).join(':');
  if (ciphers !== '') opts.ciphers = ciphers;
  if (s.caFile !== undefined) opts.ca = s.caFile;
  if (s.crt !== undefined) {
    opts.cert = s.crt.cert;
    opts.key = s.crt.key;
  }
  return { context: tls.createSecureContext(opts), verify: s.verify !== 'none', verifyhost: s.verifyhost, alpn: s.alpn };
}

/**
 * Options of tls.connect for one connection to a server. `sni` is the server name sent (from
 * the `sni` expression); the certificate's chain is verified unless `verify none`, and its name
 * against the SNI, else `verifyhost`, as HAProxy does (an IP-addressed server without either is
 * checked for its chain only).
 */
export function serverConnectOptions(t: ServerTls, host: string, port: number, sni: string | undefined, alpn: string[] | undefined): tls.ConnectionOptions {
  const o: tls.ConnectionOptions = {
    host,
    port,
    secureContext: t.context,
    rejectUnauthorized: t.verify,
    checkServerIdentity: (_h, cert) => {
      // The name sent by SNI is the one checked; verifyhost only stands in when none is sent.
      const name = sni !== undefined && sni !== '' ? sni : t.verifyhost;
      return t.verify && name !== undefined ? tls.checkServerIdentity(name, cert) : undefined;
    },
  };
  if (sni !== undefined && sni !== '') o.servername = sni;
  const protos = alpn ?? t.alpn;
  if (protos !== undefined && protos.length > 0) o.ALPNProtocols = protos;
  return o;
}
