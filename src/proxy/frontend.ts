// A frontend at run time: its listeners, its connection limit, its counters, its logger and the
// backend it routes to. Accepted connections go to the HTTP/1 or TCP client-side mux by mode.

import type * as net from 'node:net';
import type { ProxyConfig } from '../config/model.js';
import type { Backend } from '../backend/index.js';
import { listen, type Listener } from '../net/listener.js';
import type { LogRecord } from '../log/types.js';
import type { ProcessContext } from './context.js';

/** Where a frontend's traffic logs and events go (built by the runtime from the log module). */
export interface TrafficLogger {
  /** Logs one finished request (HTTP) or connection (TCP). */
  traffic(rec: LogRecord): void;
  /** Lines are logged at accept (no log format set: HAProxy's "Connect from" line), not at the end. */
  readonly logsAtAccept: boolean;
  /** A connection was accepted (HAProxy's default "Connect from" line when no format is set). */
  accepted(rec: LogRecord): void;
  /** Logs an event line at a syslog level (0..7). */
  event(level: number, msg: string): void;
}

/** A connection owned by a frontend (h1 front connection or TCP session). */
export interface FrontConn {
  /** Stop gracefully: close now if idle, otherwise after the current exchange. */
  softStop(): void;
  /** Close at once. */
  kill(): void;
}

export interface FrontendCounters {
  /** Cumulated connections (stot), requests (req_tot), denied/error requests (ereq). */
  stot: number;
  reqTot: number;
  ereq: number;
  smax: number;
  bin: number;
  bout: number;
  hrsp: [number, number, number, number, number, number];
}

export type ConnHandler = (fe: Frontend, socket: net.Socket) => FrontConn;

export class Frontend {
  readonly name: string;
  /** Current connections (%fc). */
  feconn = 0;
  readonly counters: FrontendCounters = { stot: 0, reqTot: 0, ereq: 0, smax: 0, bin: 0, bout: 0, hrsp: [0, 0, 0, 0, 0, 0] };
  readonly listeners: Listener[] = [];
  readonly conns = new Set<FrontConn>();
  /** Accepted sockets waiting for a slot (frontend or global maxconn reached). */
  private readonly waiting: net.Socket[] = [];
  private stopped = false;

  constructor(
    readonly config: ProxyConfig,
    readonly ctx: ProcessContext,
    /** The backend used when no rule chose one (default_backend, or the listen section itself). */
    readonly defaultBackend: Backend | null,
    readonly logger: TrafficLogger | null,
    private readonly handler: ConnHandler,
  ) {
    this.name = config.name;
  }

  /** Opens every bind of the frontend. */
  async start(): Promise<void> {
    for (const b of this.config.binds) {
      this.listeners.push(await listen(b, (s) => this.accept(s)));
    }
  }

  private maxconnReached(): boolean {
    const m = this.config.maxconn || this.ctx.maxconn;
    return (m > 0 && this.feconn >= m) || (this.ctx.maxconn > 0 && this.ctx.actconn >= this.ctx.maxconn);
  }

  private accept(s: net.Socket): void {
    if (this.stopped) {
      s.destroy();
      return;
    }
    if (this.maxconnReached()) {
      // HAProxy leaves such connections in the kernel's backlog; we hold them unread, bounded
      // like a backlog, and reset what exceeds it.
      if (this.waiting.length >= 1024) {
        s.resetAndDestroy();
        return;
      }
      s.pause();
      // A waiting client that gives up must not stay in the list.
      s.on('error', () => s.destroy());
      s.once('close', () => {
        const i = this.waiting.indexOf(s);
        if (i >= 0) this.waiting.splice(i, 1);
      });
      this.waiting.push(s);
      this.ctx.onSlotFree(() => this.admitWaiting());
      return;
    }
    this.open(s);
  }

  private open(s: net.Socket): void {
    this.feconn++;
    this.ctx.actconn++;
    this.ctx.counters.cumConns++;
    this.counters.stot++;
    if (this.feconn > this.counters.smax) this.counters.smax = this.feconn;
    const c = this.handler(this, s);
    this.conns.add(c);
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && !this.maxconnReached()) {
      const s = this.waiting.shift()!;
      if (s.destroyed) continue;
      s.removeAllListeners('error');
      s.removeAllListeners('close');
      this.open(s);
      s.resume();
    }
  }

  /** A connection of this frontend closed: release its slot. Idempotent per connection. */
  closed(c: FrontConn): void {
    if (!this.conns.delete(c)) return;
    this.feconn--;
    this.ctx.actconn--;
    if (this.waiting.length > 0) this.admitWaiting();
    this.ctx.slotFreed();
  }

  /** Closes the listeners (graceful stop begins). */
  /**
   * Closes the listeners (graceful stop begins). New connections are refused at once; the
   * connections already accepted are not waited for here (server.close's callback would wait).
   */
  stopListening(): void {
    this.stopped = true;
    for (const l of this.listeners) l.server.close();
    for (const s of this.waiting.splice(0)) s.destroy();
  }

  /** Asks every connection to finish its exchange and close. */
  softStop(): void {
    for (const c of [...this.conns]) c.softStop();
  }

  /** Closes everything now. */
  kill(): void {
    this.stopped = true;
    for (const l of this.listeners) l.server.close();
    for (const s of this.waiting.splice(0)) s.destroy();
    for (const c of [...this.conns]) c.kill();
  }
}
