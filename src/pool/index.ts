// Idle HTTP/1 server connections, one pool per server, shared between client sessions
// according to `http-reuse`:
//   never      - never shared (the client connection keeps its own; see the front mux)
//   safe       - a session's first request always opens its own connection
//   aggressive - a first request may take only a connection already reused once
//   always     - any idle connection
// `pool-max-conn` bounds the idle list; every `pool-purge-delay` half of it is closed, as HAProxy
// does, so that connections the server would time out are not kept forever.

import type { HttpReuse } from '../config/model.js';
import type { H1BackConn } from '../mux/h1-back.js';

export class ServerPool {
  private readonly idle: H1BackConn[] = [];
  private purgeTimer: NodeJS.Timeout | null = null;
  /**
   * Connections carrying a request now, the most seen since the last purge, and the need
   * estimated from the previous periods. As HAProxy, an idle connection is kept only while
   * used + idle stays within the recent need, so that many short sessions one after the other
   * do not pile connections up on the server.
   */
  used = 0;
  private maxUsed = 0;
  private estNeed = 0;
  /** Connections currently idle (for stats and the leak checks of the tests). */
  get idleCount(): number {
    return this.idle.length;
  }

  constructor(
    private readonly maxIdle: number,
    private readonly purgeDelay: number,
    private readonly maxReuse: number,
  ) {}

  /** A connection (taken from the pool or new) starts carrying a request. */
  acquired(): void {
    this.used++;
    if (this.used > this.maxUsed) this.maxUsed = this.used;
  }

  /** A connection stopped carrying a request (before put(), or when it is closed instead). */
  released(): void {
    this.used--;
  }

  /** Takes an idle connection allowed by `policy`, opened for `name` (its SNI), or null. */
  take(policy: HttpReuse, firstRequest: boolean, name = ''): H1BackConn | null {
    if (policy === 'never' || (policy === 'safe' && firstRequest)) return null;
    const list = this.idle;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (!c.reusable) {
        this.removeAt(i);
        c.close(false);
        continue;
      }
      if (policy === 'aggressive' && firstRequest && c.uses < 2) continue;
      if (c.connName !== name) continue;
      this.removeAt(i);
      return c;
    }
    return null;
  }

  /**
   * Offers a connection whose exchange completed. Returns false when it must be closed instead
   * (pool full, max-reuse reached, not reusable).
   */
  put(c: H1BackConn): boolean {
    if (!c.reusable) return false;
    // max-reuse counts reuses: a connection carries at most max-reuse + 1 requests.
    if (this.maxReuse >= 0 && c.uses > this.maxReuse) return false;
    if (this.maxIdle >= 0 && this.idle.length >= this.maxIdle) return false;
    if (this.used + this.idle.length + 1 > Math.max(this.maxUsed, this.estNeed)) return false;
    c.idleSince = Date.now();
    c.idleIndex = this.idle.length;
    c.onIdleClose = this.onIdleClose;
    this.idle.push(c);
    if (this.purgeTimer === null && this.purgeDelay > 0) {
      this.purgeTimer = setInterval(() => this.purge(), this.purgeDelay);
      this.purgeTimer.unref();
    }
    if (this.purgeDelay === 0) {
      // pool-purge-delay 0: keep nothing idle beyond this event loop turn.
      setImmediate(() => this.purge());
    }
    return true;
  }

  /** Whether a completed connection would be accepted by put() (for Connection headers). */
  wouldKeep(c: H1BackConn): boolean {
    return !(this.maxReuse >= 0 && c.uses > this.maxReuse) && this.maxIdle !== 0;
  }

  private readonly onIdleClose = (c: H1BackConn): void => {
    if (c.idleIndex >= 0 && this.idle[c.idleIndex] === c) this.removeAt(c.idleIndex);
  };

  private removeAt(i: number): void {
    const list = this.idle;
    const c = list[i]!;
    const last = list.pop()!;
    if (last !== c) {
      list[i] = last;
      last.idleIndex = i;
    }
    c.idleIndex = -1;
    c.onIdleClose = null;
  }

  /** Closes half of the idle connections, oldest first, and starts a new period of need. */
  purge(): void {
    this.estNeed = Math.ceil((this.estNeed + this.maxUsed) / 2);
    this.maxUsed = this.used;
    const n = this.purgeDelay === 0 ? this.idle.length : Math.ceil(this.idle.length / 2);
    if (n > 0) {
      const victims = [...this.idle].sort((a, b) => a.idleSince - b.idleSince).slice(0, n);
      for (const c of victims) {
        this.removeAt(c.idleIndex);
        c.close(true);
      }
    }
    if (this.idle.length === 0 && this.purgeTimer !== null) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = null;
    }
  }

  /** Closes every idle connection (stop, reload). */
  closeAll(): void {
    while (this.idle.length) {
      const c = this.idle[this.idle.length - 1]!;
      this.removeAt(this.idle.length - 1);
      c.close(true);
    }
    if (this.purgeTimer !== null) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = null;
    }
  }
}
