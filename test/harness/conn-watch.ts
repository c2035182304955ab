// A TCP server that records how each accepted connection began and ended, for tests of what a
// proxy's health checks do to the checked side: when each connection arrived (to measure check
// intervals), whether the peer closed it with a FIN or a reset (HAProxy resets check connections
// unless `linger`), and how many are open at once (a leak piles them up). It either plays a
// server itself (accept, read and discard, close when the peer closes) or relays every
// connection to a real server on `forwardTo`, so that a real HTTP/2 server answers the checks
// while the relay watches how each one ends.
import * as net from 'node:net';

/** How the peer ended a connection: FIN first, a reset first, still open, or closed by us. */
export type ConnEnd = 'fin' | 'rst' | 'open' | 'local';

export interface WatchedConn {
  /** Date.now() at accept. */
  at: number;
  /** Date.now() at close, 0 while open. */
  closedAt: number;
  end: ConnEnd;
  /** Bytes received from the peer. */
  bytesIn: number;
}

export interface WatchOptions {
  /** Listen on this port (e.g. to come back on the same port after stop()); default from the OS. */
  port?: number;
  /** Relay each connection to 127.0.0.1:forwardTo (half-closes and resets passed on). */
  forwardTo?: number;
}

export class WatchedServer {
  port = 0;
  /** Every accepted connection, in accept order. */
  readonly conns: WatchedConn[] = [];
  /** Connections open now, and the most ever open at once. */
  open = 0;
  maxOpen = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly opts: WatchOptions = {}) {}

  /** Starts listening on 127.0.0.1 (again after stop(), on the same port unless told otherwise). */
  listen(): Promise<this> {
    const srv = net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
    this.server = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: '127.0.0.1', port: this.port || this.opts.port || 0 }, () => {
        srv.removeListener('error', reject);
        this.port = (srv.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  private accept(s: net.Socket): void {
    const rec: WatchedConn = { at: Date.now(), closedAt: 0, end: 'open', bytesIn: 0 };
    this.conns.push(rec);
    this.sockets.add(s);
    this.open++;
    if (this.open > this.maxOpen) this.maxOpen = this.open;
    let up: net.Socket | null = null;
    if (this.opts.forwardTo !== undefined) {
      const u = net.connect({ host: '127.0.0.1', port: this.opts.forwardTo, allowHalfOpen: true });
      up = u;
      u.setNoDelay(true);
      u.on('data', (d: Buffer) => {
        if (!s.destroyed) s.write(d);
      });
      u.on('end', () => {
        if (!s.destroyed) s.end();
      });
      u.on('error', () => s.destroy());
      u.on('close', () => {
        // The server is gone: nothing more can reach the peer.
        if (!s.destroyed && !s.writableEnded) s.end();
      });
    }
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      rec.bytesIn += d.length;
      if (up !== null && !up.destroyed) up.write(d);
    });
    s.on('end', () => {
      if (rec.end === 'open') rec.end = 'fin';
      if (up !== null) up.end();
      else s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (rec.end === 'open' && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) rec.end = 'rst';
      up?.destroy();
    });
    s.on('close', () => {
      if (rec.end === 'open') rec.end = 'local';
      rec.closedAt = Date.now();
      this.sockets.delete(s);
      this.open--;
      up?.destroy();
    });
  }

  /** Counts of the connections that ended each way so far (among those accepted since `from`). */
  ends(from = 0): Record<ConnEnd, number> {
    const out: Record<ConnEnd, number> = { fin: 0, rst: 0, open: 0, local: 0 };
    for (let i = from; i < this.conns.length; i++) out[this.conns[i]!.end]++;
    return out;
  }

  /**
   * The server goes away: the listener closes and every open connection is destroyed (the
   * peers see them close), so that nothing answers on the port until listen() again.
   */
  stop(): Promise<void> {
    const srv = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (srv === null) return Promise.resolve();
    return new Promise((resolve) => srv.close(() => resolve()));
  }
}

/** Starts a WatchedServer on 127.0.0.1. */
export function startWatchedServer(opts: WatchOptions = {}): Promise<WatchedServer> {
  return new WatchedServer(opts).listen();
}

/**
 * How late periodic connections arrived: for each pair of consecutive accept times, the gap
 * minus `intervalMs` (HAProxy schedules a check `inter` after the end of the previous one, so
 * this includes the previous check's duration). Only pairs whose both ends lie in [from, to).
 */
export function lateness(times: number[], intervalMs: number, from = -Infinity, to = Infinity): number[] {
  const out: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const a = times[i - 1]!;
    const b = times[i]!;
    if (a >= from && b < to) out.push(b - a - intervalMs);
  }
  return out;
}

/** The q-quantile (0..1) of `xs` by the nearest-rank method; NaN when empty. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
