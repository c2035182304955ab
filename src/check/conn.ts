// One connection of a health check: TCP, then optionally a PROXY protocol line and TLS, bytes
// sent as the rules say and bytes received kept for the expect rules (up to tune.bufsize, as
// HAProxy's check buffer). It ends as HAProxy ends a check connection: with a reset (SO_LINGER 0,
// nothing left in TIME_WAIT) unless the connect rule asked for `linger` or the server closed
// first, then with a FIN.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { errnoText } from './status.js';
import { proxyHeader } from '../net/proxy-protocol.js';
import type { CheckOutcome } from './status.js';

/** Where and how a check connects: the server's check settings merged with a connect rule. */
export interface CheckTarget {
  host: string;
  port: number;
  family: 4 | 6;
  /** tls.connect options without host/port/socket; null: clear text. */
  tls: tls.ConnectionOptions | null;
  /** PROXY protocol version sent first (the check connection's own addresses); 0: none. */
  sendProxy: 0 | 1 | 2;
  linger: boolean;
  /** The mux: forced (`proto`/`check-proto`), else HTTP/2 only when TLS negotiates h2. */
  proto?: 'h1' | 'h2';
}

const EMPTY = Buffer.alloc(0);

export class CheckConn {
  /** The socket bytes go through: the TLS socket over TLS. */
  sock: net.Socket;
  private readonly tcp: net.Socket;
  /** Received bytes, at most `limit`. */
  data: Buffer = EMPTY;
  /** The server closed its side (or the connection failed after being established). */
  ended = false;
  error: NodeJS.ErrnoException | null = null;
  /** The protocol TLS negotiated (ALPN), '' when none. */
  alpn = '';
  private wake: (() => void) | null = null;
  private closed = false;
  /** Set when the socket was handed over to another reader (HTTP/2). */
  private released = false;

  constructor(
    readonly target: CheckTarget,
    private readonly limit: number,
  ) {
    this.tcp = net.connect({ host: target.host, port: target.port, family: target.family });
    this.sock = this.tcp;
    this.tcp.setNoDelay(true);
  }

  /**
   * Waits for the connection to be usable: TCP connected, PROXY line sent, TLS handshake done.
   * Resolves null when it is, else the failed outcome (L4CON, L6RSP...; timeouts are the
   * caller's, who knows how far the connection went through `stage`).
   */
  async establish(): Promise<Omit<CheckOutcome, 'durationMs'> | null> {
    const e = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const onErr = (err: NodeJS.ErrnoException): void => resolve(err);
      this.tcp.once('error', onErr);
      this.tcp.once('connect', () => {
        this.tcp.off('error', onErr);
        resolve(null);
      });
    });
    if (this.closed) return null;
    if (e !== null) return { status: 'L4CON', info: errnoText(e) };
    this.stage = 6;
    if (this.target.sendProxy !== 0) {
      const t = this.tcp;
      t.write(proxyHeader(this.target.sendProxy, t.localAddress ?? '', t.localPort ?? 0, t.remoteAddress ?? '', t.remotePort ?? 0));
    }
    if (this.target.tls !== null) {
      const s = tls.connect({ ...this.target.tls, socket: this.tcp });
      this.sock = s;
      const err = await new Promise<Error | null>((resolve) => {
        s.once('secureConnect', () => resolve(null));
        s.once('error', (er) => resolve(er));
        s.once('close', () => resolve(new Error('closed')));
      });
      if (this.closed) return null;
      if (err !== null) return { status: 'L6RSP', info: 'SSL handshake failure' };
      this.alpn = typeof s.alpnProtocol === 'string' ? s.alpnProtocol : '';
    }
    this.stage = 7;
    this.listen();
    return null;
  }

  /** How far the connection went: 4 connecting, 6 in the PROXY/TLS layer, 7 ready for the rules. */
  stage: 4 | 6 | 7 = 4;

  private listen(): void {
    const s = this.sock;
    s.on('data', (d: Buffer) => {
      if (this.data.length < this.limit) {
        const room = this.limit - this.data.length;
        const part = d.length > room ? d.subarray(0, room) : d;
        this.data = this.data.length === 0 ? Buffer.from(part) : Buffer.concat([this.data, part]);
      }
      this.notify();
    });
    s.on('end', () => {
      this.ended = true;
      this.notify();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??= e;
      this.ended = true;
      this.notify();
    });
    s.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  /** Wakes whoever waits in next() (another reader of the socket has news). */
  poke(): void {
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves at the next received bytes, end or error. */
  next(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Drops the first `n` received bytes (an expect rule consumed them). */
  consume(n: number): void {
    this.data = n >= this.data.length ? EMPTY : this.data.subarray(n);
  }

  write(b: Buffer | string): void {
    if (!this.ended) this.sock.write(b);
  }

  /**
   * Hands the socket to another reader (an HTTP/2 session): this object stops reading it but
   * still closes it.
   */
  release(): net.Socket {
    this.released = true;
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('end');
    // Errors stay handled here so that none goes uncaught.
    return this.sock;
  }

  /**
   * Closes the connection: a FIN with `linger` or when the server already closed its side, a
   * reset otherwise. Safe to call more than once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    const s = this.sock;
    s.on('error', () => {});
    if (this.target.linger || this.ended) {
      if (s.destroyed) return;
      // end() flushes, sends close_notify over TLS, then the FIN; the destroy after it releases
      // the descriptor at once (a server that never reads must not hold it).
      const t = setTimeout(() => s.destroy(), 1000);
      t.unref();
      s.end(() => {
        clearTimeout(t);
        s.destroy();
      });
      return;
    }
    // A reset: SO_LINGER {1, 0} on the TCP socket, then close.
    if (s === this.tcp) {
      if (!s.destroyed) s.resetAndDestroy();
      return;
    }
    // An HTTP/2 session over TLS: node spins forever if the TCP handle under it is reset (seen
    // with node 24 at stop), so this one ends with a FIN.
    if (this.released) {
      s.destroy();
      return;
    }
    // Under TLS the TCP handle must not be reset from within the TLS layer's own callbacks
    // (node crashes): out of the current call stack first.
    const tcp = this.tcp;
    setImmediate(() => {
      if (!tcp.destroyed) tcp.resetAndDestroy();
      s.destroy();
    });
  }
}
