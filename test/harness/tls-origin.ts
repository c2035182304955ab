// A TLS origin for the server side of sluice (`server ... ssl`): node's own HTTPS and HTTP/2
// servers, set up to offer a chosen ALPN list (or none), optionally asking for a client
// certificate. Every request is answered with JSON saying what the server saw of it (HTTP
// version, which TLS connection, SNI, ALPN, the client certificate's CN), or with `size=N` bytes
// of bodyPattern; `/drop` closes every open connection (a server restarted between requests).
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as http from 'node:http';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { bodyPattern } from './origin.js';

/** Which protocols the server offers by ALPN: 'h2+h1' (h2 first), 'h2' alone, 'h1' alone, or no ALPN at all. */
export type TlsOriginAlpn = 'h2+h1' | 'h2' | 'h1' | 'none';

export interface TlsOriginOptions {
  /** PEM certificate and key of the server. */
  cert: string;
  key: string;
  alpn: TlsOriginAlpn;
  /** Asks for a client certificate, verified against this CA (PEM); the handshake fails without one. */
  clientCa?: string;
  host?: string;
  /** Listen on this port (to restart a server in place); 0 picks one. */
  port?: number;
}

/** What the server saw of one request. */
export interface TlsSeen {
  path: string;
  /** '1.1' or '2.0'. */
  version: string;
  /** Index of the TLS connection (1-based, in accept order). */
  conn: number;
  sni: string | false;
  alpn: string | false;
  clientCn: string | null;
  host: string | undefined;
}

export interface TlsOrigin {
  port: number;
  seen: TlsSeen[];
  /** TLS connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTlsOrigin(o: TlsOriginOptions): Promise<TlsOrigin> {
  const seen: TlsSeen[] = [];
  const ids = new WeakMap<net.Socket, number>();
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    const sock = req.socket as tls.TLSSocket;
    const url = new URL(req.url ?? '/', 'https://x');
    const peer = o.clientCa !== undefined ? sock.getPeerCertificate() : null;
    const s: TlsSeen = {
      path: url.pathname,
      version: req.httpVersion,
      conn: ids.get(sock) ?? 0,
      sni: sock.servername ?? false,
      alpn: sock.alpnProtocol ?? false,
      clientCn: peer !== null && peer.subject !== undefined ? String(peer.subject.CN) : null,
      host: req.headers.host ?? (req.headers as Record<string, string | undefined>)[':authority'],
    };
    seen.push(s);
    req.resume();
    req.on('end', () => {
      if (url.pathname === '/drop') {
        for (const k of sockets) k.destroy();
        return;
      }
      const size = url.searchParams.get('size');
      const body = size !== null ? bodyPattern(Number(size)) : Buffer.from(JSON.stringify(s));
      (res as http.ServerResponse).writeHead(200, { 'content-type': size !== null ? 'application/octet-stream' : 'application/json', 'content-length': body.length });
      res.end(body);
    });
  };
  const tlsOpts: tls.TlsOptions = { cert: o.cert, key: o.key };
  if (o.clientCa !== undefined) Object.assign(tlsOpts, { ca: o.clientCa, requestCert: true, rejectUnauthorized: true });
  let server: tls.Server;
  if (o.alpn === 'h2+h1' || o.alpn === 'h2') {
    server = http2.createSecureServer({ ...tlsOpts, allowHTTP1: o.alpn === 'h2+h1' }, handler);
  } else if (o.alpn === 'h1') {
    server = https.createServer({ ...tlsOpts, ALPNProtocols: ['http/1.1'] }, handler);
  } else {
    // node's HTTPS server always offers http/1.1: a bare TLS server hands its connections to HTTP.
    const h = http.createServer(handler);
    server = tls.createServer(tlsOpts, (sock) => h.emit('connection', sock));
  }
  server.on('secureConnection', (sock: tls.TLSSocket) => {
    ids.set(sock, ++connections);
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  // Failed handshakes (no client certificate, no common protocol) are part of the tests.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const k of sockets) k.destroy();
        server.close(() => resolve());
      }),
  };
}
