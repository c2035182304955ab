// Process-wide state shared by every frontend: connection counts, limits, the stopping flag.

import type { H1Limits } from '../proto/h1/index.js';
import { HTX_BLK, HTX_HDR } from '../htx/index.js';
import type { H2Tune } from '../config/model.js';
import type { Backend } from '../backend/index.js';

export interface ProcessCounters {
  /** Cumulated connections accepted and requests handled. */
  cumConns: number;
  cumReq: number;
}

const DEFAULT_H2: H2Tune = {
  headerTableSize: 4096,
  maxFrameSize: 16384,
  fe: { initialWindowSize: 65535, maxConcurrentStreams: 100 },
  be: { initialWindowSize: 65535, maxConcurrentStreams: 100 },
};

export class ProcessContext {
  /** Current connections over all frontends (%ac). */
  actconn = 0;
  /** Global maxconn (0 = unlimited). */
  maxconn: number;
  /** Set by a graceful stop: no new requests on kept-alive connections. */
  stopping = false;
  /** Listeners bind with SO_REUSEPORT (off with global `noreuseport`), so that a reload can. */
  reusePort = true;
  readonly counters: ProcessCounters = { cumConns: 0, cumReq: 0 };
  readonly h1Limits: H1Limits;
  readonly bufsize: number;
  /** tune.maxrewrite: room kept in a buffer for rewrites; rules buffer at most bufsize - maxrewrite. */
  readonly maxrewrite: number;
  readonly startTime = Date.now();
  /** Proxies by name, for the fetches that name one (fe_conn(x), nbsrv(x), srv_is_up(x/y)). */
  readonly frontends = new Map<string, { readonly feconn: number }>();
  readonly backends = new Map<string, Backend>();
  /** Called when a connection slot frees, so that listeners paused at maxconn can go on. */
  private readonly slotWaiters: Array<() => void> = [];

  constructor(
    maxconn: number,
    bufsize: number,
    maxrewrite: number,
    maxhdr: number,
    /** HTTP/2 settings (tune.h2.*). */
    readonly h2: H2Tune = DEFAULT_H2,
  ) {
    this.maxconn = maxconn;
    this.bufsize = bufsize;
    this.maxrewrite = maxrewrite;
    // As HAProxy: a head must fit in the input buffer as received, and in the message buffer,
    // less the room kept for rewrites, as HAProxy counts it there.
    const htxSize = bufsize - HTX_HDR;
    this.h1Limits = { maxHead: htxSize - 2 * HTX_BLK, maxHtx: htxSize - maxrewrite, maxHeaders: maxhdr };
  }

  /** Registers a callback run when the next connection slot frees. */
  onSlotFree(fn: () => void): void {
    this.slotWaiters.push(fn);
  }

  /** A connection ended: wake one waiter, if any. */
  slotFreed(): void {
    const fn = this.slotWaiters.shift();
    if (fn) fn();
  }
}
