// Layer-4 health checks (`server ... check`): a TCP connection to the server (or to its check
// `port`) every `inter`, closed with a reset as HAProxy does (SO_LINGER 0), and HAProxy's
// rise/fall state machine deciding when the server goes DOWN or comes back UP. The first check
// of each server is spread over `inter` so that they do not all start at once.
//
// The health counter runs from 0 to rise+fall-1; the server is UP while it is at least `rise`.
// A server with `check` starts UP at the edge (health = rise): its first failure takes it down.

import * as net from 'node:net';
import { SrvState, type Backend, type Server } from '../backend/index.js';
import type { CheckReport } from '../log/messages.js';

/** What one check found. */
interface CheckResult {
  ok: boolean;
  report: CheckReport;
}

export class HealthCheck {
  private health: number;
  private timer: NodeJS.Timeout | null = null;
  private sock: net.Socket | null = null;
  private stopped = false;

  constructor(
    readonly server: Server,
    readonly backend: Backend,
  ) {
    const c = server.config;
    this.health = server.state === SrvState.Up ? c.checkRise : 0;
  }

  /** Schedules the first check somewhere within `inter`. */
  start(): void {
    this.schedule(Math.floor(Math.random() * this.server.config.checkInter));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.sock?.resetAndDestroy();
    this.sock = null;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.run(), ms);
    this.timer.unref();
  }

  /** HAProxy's intervals: `fastinter` while the server is changing, `downinter` while it is fully down. */
  private nextDelay(): number {
    const c = this.server.config;
    const full = c.checkRise + c.checkFall - 1;
    if (this.health === 0) return c.checkDowninter ?? c.checkInter;
    if (this.health < full) return c.checkFastinter ?? c.checkInter;
    return c.checkInter;
  }

  /** The check's time limit: `inter`, or min(timeout connect, inter) with `timeout check` set. */
  private timeoutMs(): number {
    const inter = this.server.config.checkInter;
    const t = this.backend.config.timeouts;
    return t.check !== undefined && t.connect !== undefined ? Math.min(t.connect, inter) : inter;
  }

  private run(): void {
    this.timer = null;
    if (this.stopped) return;
    const srv = this.server;
    const t0 = Date.now();
    const port = srv.config.checkPort ?? srv.port;
    const sock = net.connect({ host: srv.host, port, family: srv.family });
    this.sock = sock;
    let settled = false;
    const done = (r: CheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      this.sock = null;
      // HAProxy closes a layer-4 check with a reset: nothing lingers in TIME_WAIT on either side.
      sock.resetAndDestroy();
      r.report.durationMs = Date.now() - t0;
      this.result(r);
    };
    const limit = setTimeout(() => done({ ok: false, report: { desc: 'Layer4 timeout', durationMs: 0 } }), this.timeoutMs());
    sock.once('connect', () => done({ ok: true, report: { desc: 'Layer4 check passed', durationMs: 0 } }));
    sock.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, report: { desc: 'Layer4 connection problem', info: errnoText(e), durationMs: 0 } }));
  }

  private result(r: CheckResult): void {
    if (this.stopped) return;
    const c = this.server.config;
    const full = c.checkRise + c.checkFall - 1;
    const be = this.backend;
    const srv = this.server;
    if (r.ok) {
      if (this.health < full) this.health++;
      if (this.health >= c.checkRise) {
        this.health = full;
        if (srv.state === SrvState.Down) be.setServerState(srv, SrvState.Up, r.report);
      }
    } else if (this.health > c.checkRise) {
      this.health--;
    } else {
      this.health = 0;
      if (srv.state === SrvState.Up) be.setServerState(srv, SrvState.Down, r.report);
    }
    this.schedule(this.nextDelay());
  }
}

/** The text HAProxy puts in `info` for a failed connection (strerror). */
function errnoText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'EHOSTUNREACH':
      return 'No route to host';
    case 'ENETUNREACH':
      return 'Network is unreachable';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    default:
      return e.message;
  }
}
