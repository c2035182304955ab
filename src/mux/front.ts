// Which client-side mux an accepted connection gets. Over TLS the handshake comes first and
// ALPN decides (h2 or HTTP/1.1); `bind ... proto h2` forces HTTP/2 with prior knowledge; on a
// cleartext bind the HTTP/1 side recognises the HTTP/2 preface and hands the connection over.
// A TCP frontend's connection becomes a TCP session, after the handshake on `ssl` binds.

import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { newTimer, wheel, type Timer } from '../core/timer.js';
import type { BindConfig } from '../config/model.js';
import { BindTls, tlsInfoOf, type TlsInfo } from '../net/tls.js';
import type { ConnHandler, Frontend, FrontConn } from '../proxy/frontend.js';
import { H1FrontConn, stripV4Mapped } from './h1-front.js';
import { H2FrontConn } from './h2-front.js';
import { TcpSession } from './tcp.js';

/** The handler of an HTTP frontend's accepted sockets, with the TLS contexts of its binds built once. */
export function httpConnHandler(binds: readonly BindConfig[]): ConnHandler {
  const tlsOf = binds.map((b) => (b.ssl?.enabled ? new BindTls(b.ssl, true) : null));
  return (fe, socket, bind) => {
    const b = binds[bind]!;
    const t = tlsOf[bind];
    if (t) {
      return new TlsAccept(fe, socket, t, (s, info, addrs, acceptDate) => {
        const h2 = s.alpnProtocol === 'h2' || (s.alpnProtocol === false && b.proto === 'h2');
        return h2 ? new H2FrontConn(fe, s, null, acceptDate, addrs, info) : new H1FrontConn(fe, s, false, info);
      });
    }
    if (b.proto === 'h2') return new H2FrontConn(fe, socket, null);
    return new H1FrontConn(fe, socket, b.proto !== 'h1' && !fe.config.options.disableH2Upgrade);
  };
}

/** The handler of a TCP frontend's accepted sockets: TLS terminated first on `ssl` binds. */
export function tcpConnHandler(binds: readonly BindConfig[]): ConnHandler {
  const tlsOf = binds.map((b) => (b.ssl?.enabled ? new BindTls(b.ssl, false) : null));
  return (fe, socket, bind) => {
    const t = tlsOf[bind];
    if (t) return new TlsAccept(fe, socket, t, (s, info, addrs, acceptDate) => new TcpSession(fe, s, info, addrs, acceptDate));
    return new TcpSession(fe, socket);
  };
}

/** The addresses of an accepted connection, read before its handshake. */
export interface ConnAddrs {
  clientIp: string;
  clientPort: number;
  localIp: string;
  localPort: number;
}

/** What a TLS connection becomes once its handshake is done. */
type AfterHandshake = (s: tls.TLSSocket, info: TlsInfo, addrs: ConnAddrs, acceptDate: number) => FrontConn;

/** A TLS connection during its handshake; it hands itself over to what comes next (the mux ALPN chose, a TCP session). */
class TlsAccept implements FrontConn {
  private readonly timer: Timer;
  private done = false;

  constructor(
    private readonly fe: Frontend,
    private readonly raw: net.Socket,
    private readonly bt: BindTls,
    next: AfterHandshake,
  ) {
    const acceptDate = Date.now();
    // The addresses are read now: Node may not know them any more once the socket is reset.
    const addrs = {
      clientIp: stripV4Mapped(raw.remoteAddress ?? ''),
      clientPort: raw.remotePort ?? 0,
      localIp: stripV4Mapped(raw.localAddress ?? ''),
      localPort: raw.localPort ?? 0,
    };
    const t = fe.config.timeouts;
    this.timer = newTimer(() => this.fail());
    wheel.arm(this.timer, t.httpRequest ?? t.client);
    raw.once('close', () => this.fail());
    bt.accept(raw, (s) => {
      if (s === null) {
        this.fail();
        return;
      }
      if (this.done) {
        s.destroy();
        return;
      }
      this.done = true;
      wheel.disarm(this.timer);
      fe.replaced(this, next(s, tlsInfoOf(s), addrs, acceptDate));
    });
  }

  /** The handshake failed, timed out or the client left: the connection closes, unlogged. */
  private fail(): void {
    if (this.done) return;
    this.done = true;
    wheel.disarm(this.timer);
    this.bt.forget(this.raw);
    this.raw.destroy();
    this.fe.closed(this);
  }

  softStop(): void {
    this.fail();
  }

  kill(): void {
    this.fail();
  }
}
