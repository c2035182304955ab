// A frontend at run time: its listeners, its connection limit, its counters, its logger and the
// backend it routes to. Accepted connections go to the HTTP/1 or TCP client-side mux by mode.

import type * as net from 'node:net';
import type { ProxyConfig } from '../config/model.js';
import type { Backend } from '../backend/index.js';
import type { Condition, SampleCtx } from '../acl/index.js';
import type { ProxyHttpRules } from './http-rules.js';
import type { RuleString } from '../http/actions/lf.js';
import { listen, type Listener } from '../net/listener.js';
import type { LogRecord } from '../log/types.js';
import type { ProcessContext } from './context.js';

/** Where a frontend's traffic logs and events go (built by the runtime from the log module). */
export interface TrafficLogger {
  /** Logs one finished request (HTTP) or connection (TCP), at `level` (`set-log-level`; default info). */
  traffic(rec: LogRecord, ctx?: SampleCtx | null, level?: number): void;
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
  /** Requests denied (deny, tarpit), intercepted (return, redirect, auth), failed rewrites. */
  denied: number;
  intercepted: number;
  failedRewrites: number;
  smax: number;
  bin: number;
  bout: number;
  hrsp: [number, number, number, number, number, number];
}

/** Creates the client-side connection of an accepted socket; `bind` is the index of its bind line. */
export type ConnHandler = (fe: Frontend, socket: net.Socket, bind: number) => FrontConn;

export class Frontend {
  readonly name: string;
  /** Current connections (%fc). */
  feconn = 0;
  readonly counters: FrontendCounters = { stot: 0, reqTot: 0, ereq: 0, denied: 0, intercepted: 0, failedRewrites: 0, smax: 0, bin: 0, bout: 0, hrsp: [0, 0, 0, 0, 0, 0] };
  readonly listeners: Listener[] = [];
  /** HTTP rules of the frontend and its `use_backend` rules, compiled at start-up. */
  rules: ProxyHttpRules | null = null;
  /** `be` is null for a dynamic name (`name`), looked up per request. */
  useBackendRules: Array<{ be: Backend | null; name: RuleString | null; cond: Condition | null }> = [];
  /** Open connections, each with the index of the bind that accepted it. */
  readonly conns = new Map<FrontConn, number>();
  /** Current connections per bind, for `bind ... maxconn`. */
  private readonly bindConns: number[];
  /** Accepted sockets waiting for a slot (bind, frontend or global maxconn reached). */
  private readonly waiting: Array<{ s: net.Socket; bind: number }> = [];
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
    this.bindConns = config.binds.map(() => 0);
  }

  /** Opens every bind of the frontend. */
  async start(): Promise<void> {
    for (let i = 0; i < this.config.binds.length; i++) {
      this.listeners.push(await listen(this.config.binds[i]!, (s) => this.accept(s, i), this.ctx.reusePort));
    }
  }

  private maxconnReached(bind: number): boolean {
    const bm = this.config.binds[bind]!.maxconn;
    if (bm > 0 && this.bindConns[bind]! >= bm) return true;
    const m = this.config.maxconn || this.ctx.maxconn;
    return (m > 0 && this.feconn >= m) || (this.ctx.maxconn > 0 && this.ctx.actconn >= this.ctx.maxconn);
  }

  private accept(s: net.Socket, bind: number): void {
    if (this.stopped) {
      s.destroy();
      return;
    }
    if (this.maxconnReached(bind)) {
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
        const i = this.waiting.findIndex((w) => w.s === s);
        if (i >= 0) this.waiting.splice(i, 1);
      });
      this.waiting.push({ s, bind });
      this.ctx.onSlotFree(() => this.admitWaiting());
      return;
    }
    this.open(s, bind);
  }

  private open(s: net.Socket, bind: number): void {
    this.bindConns[bind]!++;
    this.feconn++;
    this.ctx.actconn++;
    this.ctx.counters.cumConns++;
    this.counters.stot++;
    if (this.feconn > this.counters.smax) this.counters.smax = this.feconn;
    this.conns.set(this.handler(this, s, bind), bind);
  }

  /** Lets waiting connections in, oldest first, as far as their bind and the limits allow. */
  private admitWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const { s, bind } = this.waiting[i]!;
      if (s.destroyed) {
        this.waiting.splice(i, 1);
        continue;
      }
      if (this.maxconnReached(bind)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      s.removeAllListeners('error');
      s.removeAllListeners('close');
      this.open(s, bind);
      s.resume();
    }
  }

  /**
   * A connection changed hands (TLS handshake done, HTTP/1 connection upgraded to HTTP/2): the
   * new owner keeps the slot of the old one.
   */
  replaced(old: FrontConn, c: FrontConn): void {
    const bind = this.conns.get(old);
    if (bind === undefined) return;
    this.conns.delete(old);
    this.conns.set(c, bind);
  }

  /** A connection of this frontend closed: release its slot. Idempotent per connection. */
  closed(c: FrontConn): void {
    const bind = this.conns.get(c);
    if (bind === undefined) return;
    this.conns.delete(c);
    this.bindConns[bind]!--;
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
    for (const w of this.waiting.splice(0)) w.s.destroy();
  }

  /** Asks every connection to finish its exchange and close. */
  softStop(): void {
    for (const c of [...this.conns.keys()]) c.softStop();
  }

  /** Closes everything now. */
  kill(): void {
    this.stopped = true;
    for (const l of this.listeners) l.server.close();
    for (const w of this.waiting.splice(0)) w.s.destroy();
    for (const c of [...this.conns.keys()]) c.kill();
  }
}
