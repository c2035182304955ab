// A server of a backend at run time: its configuration, its state, its load, its queue of
// pending requests and its idle connections. The data plane reads its state; only the control
// plane (start-up, checks, admin) changes it, through setState().

import type { ServerConfig } from '../config/model.js';
import type { LbServer } from '../lb/types.js';
import type { Backend } from './backend.js';
import { PendingQueue, type Pending } from './queue.js';
import { ServerPool } from '../pool/index.js';
import type { H2Pool } from '../mux/h2-back.js';
import { serverTls, type ServerTls } from '../net/tls.js';
import type { RuleString } from '../http/actions/lf.js';
import type { Cause } from '../core/errors.js';

export const enum SrvState {
  Up = 0,
  Down = 1,
  /** Administrative maintenance (`disabled`, runtime API). */
  Maint = 2,
  /**
   * NOLB ("stopping"): a check passed conditionally (`http-check disable-on-404` got a 404). The
   * server takes no new load-balanced traffic.
   */
  Nolb = 3,
}

/** What the data plane and the stats read of a server's health check. */
export interface ServerCheckView {
  /** The health counter, 0 .. rise+fall-1. */
  readonly healthValue: number;
  /** `observe` counted `error-limit` consecutive errors: `on-error` acts (`info` says why). */
  observedErrors(info: string): void;
  /** Maintenance: checks stop counting (health 0). */
  pause(): void;
  /** Out of maintenance: checks start again from `rise`, at once. */
  resume(): void;
}

/**
 * What traffic tells `observe` about a server (HAProxy's analyze statuses): each is an error, a
 * success or nothing, depending on the layer observed.
 */
export const enum Observed {
  L4Ok = 0,
  L4Err = 1,
  HttpOk = 2,
  HttpStatus = 3,
  HttpInvalid = 4,
  HttpReadTimeout = 5,
  HttpBrokenPipe = 6,
  HttpReadError = 7,
}

const OBSERVED: ReadonlyArray<{ desc: string; l4: 0 | 1 | 2; l7: 0 | 1 | 2 }> = [
  { desc: 'L4 successful connection', l4: 2, l7: 0 },
  { desc: 'L4 unsuccessful connection', l4: 1, l7: 1 },
  { desc: 'Correct http response', l4: 0, l7: 2 },
  { desc: 'Wrong http response', l4: 0, l7: 1 },
  { desc: 'Invalid http response', l4: 0, l7: 1 },
  { desc: 'Read timeout (http)', l4: 0, l7: 1 },
  { desc: 'Close from server (http)', l4: 0, l7: 1 },
  { desc: 'Read error (http)', l4: 0, l7: 1 },
];

/** `observe layer7`: the response statuses that count as correct (100-499, 501 and 505). */
export function observedStatus(status: number): Observed {
  return (status >= 100 && status < 500) || status === 501 || status === 505 ? Observed.HttpOk : Observed.HttpStatus;
}

/** Traffic counters, named after HAProxy's stats columns. */
export interface ServerCounters {
  /** Cumulated requests/connections handled (stot). */
  stot: number;
  /** Highest concurrent served (smax). */
  smax: number;
  /** Connection errors (econ), response errors (eresp), retries (wretr), redispatches (wredis). */
  econ: number;
  eresp: number;
  wretr: number;
  wredis: number;
  /** Bytes in (from clients) and out (to clients). */
  bin: number;
  bout: number;
  /** Responses by class (hrsp_1xx..5xx, other). */
  hrsp: [number, number, number, number, number, number];
  /** Clients and servers that aborted a transfer. */
  cliAbrt: number;
  srvAbrt: number;
  /** Highest queue length (qmax). */
  qmax: number;
  /** Times this server was picked by load balancing (lbtot). */
  lbtot: number;
}

export function newCounters(): ServerCounters {
  return {
    stot: 0, smax: 0, econ: 0, eresp: 0, wretr: 0, wredis: 0, bin: 0, bout: 0,
    hrsp: [0, 0, 0, 0, 0, 0], cliAbrt: 0, srvAbrt: 0, qmax: 0, lbtot: 0,
  };
}

export class Server implements LbServer {
  readonly id: number;
  readonly name: string;
  eweight: number;
  /** Requests being served plus requests queued on this server (what leastconn compares). */
  conns = 0;
  /** Requests currently being served (assigned and not finished). */
  served = 0;
  state: SrvState;
  /** Requests waiting for this very server (persistence, redispatch disabled). */
  readonly queue: PendingQueue = new PendingQueue(this);
  readonly counters = newCounters();
  /** Idle connections to this server. */
  readonly pool: ServerPool;
  /** HTTP/2 connections to this server (`proto h2`), created on first use. */
  h2: H2Pool | null = null;
  /** TLS towards the server (`ssl`), or null. */
  readonly tls: ServerTls | null;
  /** The `sni` expression, evaluated per request; null: no SNI. Set by the runtime. */
  sni: RuleString | null = null;
  /**
   * The mux towards the server: `proto` forces one; over TLS with `h2` in its `alpn` list the
   * server's ALPN choice decides per connection (HAProxy installs the mux after the handshake);
   * otherwise HTTP/1.1.
   */
  readonly mux: 'h1' | 'h2' | 'alpn';
  /**
   * With `mux` 'alpn': whether the server chose h2 on its last connection. New requests open
   * connections of that kind (so that HTTP/2 requests share a connection being opened); one
   * that turns out to speak the other protocol is handed over to it.
   */
  alpnH2 = false;
  /** The server's health check, when it has one (`check`). */
  check: ServerCheckView | null = null;
  /**
   * The streams using this server, kept only when they may have to be killed together
   * (`on-marked-down shutdown-sessions`, or a backup server under `on-marked-up
   * shutdown-backup-sessions`); null otherwise, so that nothing is tracked per request.
   */
  streams: Set<Pending> | null = null;

  /** Kills every stream on this server (see `streams`). */
  shutdownStreams(cause: Cause.Down | Cause.Up): void {
    if (this.streams === null) return;
    for (const p of [...this.streams]) p.kill(cause);
  }

  /** Consecutive errors `observe` counted (reset by a success and when on-error acts). */
  private consecutiveErrors = 0;
  /** Time of the last state change (ms since epoch), for stats. */
  lastChange = Date.now();
  /** The address connections go to; the port is 0 when it follows the client's destination port. */
  host: string;
  port: number;
  family: 4 | 6;

  constructor(
    readonly config: ServerConfig,
    readonly backend: Backend,
  ) {
    this.id = config.id;
    this.name = config.name;
    this.eweight = config.weight;
    this.uweight = config.weight;
    this.state = config.disabled ? SrvState.Maint : SrvState.Up;
    this.host = config.addr.host;
    this.port = config.addr.port;
    this.family = config.addr.family;
    this.pool = new ServerPool(config.poolMaxConn, config.poolPurgeDelay, config.maxReuse);
    this.tls = config.ssl?.enabled ? serverTls(config.ssl) : null;
    const alpn = this.tls?.alpn;
    this.mux = config.proto === 'h2' ? 'h2' : config.proto === undefined && alpn?.includes('h2') ? 'alpn' : 'h1';
    // Until a server has answered, its own preference order is guessed from ours.
    this.alpnH2 = alpn?.[0] === 'h2';
  }

  /** New requests go over HTTP/2 (forced, or what the server chose last). */
  get useH2(): boolean {
    return this.mux === 'h2' || (this.mux === 'alpn' && this.alpnH2);
  }

  get backup(): boolean {
    return this.config.backup;
  }

  /** Usable for traffic: up, not in maintenance, not draining. */
  get usable(): boolean {
    return this.state === SrvState.Up && !this.drain;
  }

  /** Administrative DRAIN (an agent's `drain`): up, but no new load-balanced traffic. */
  drain = false;
  /** maxconn set at run time (an agent's `maxconn:N`); null: the configured one. */
  maxconnSet: number | null = null;
  /** The server's agent check, when it has one (`agent-check`). */
  agent: { readonly healthy: boolean } | null = null;

  /**
   * Effective maxconn now (0 = unlimited): the configured one, or what an agent said
   * (`maxconn:N`), ramped from 1 during `slowstart` (srv_dynamic_maxconn).
   */
  get maxconn(): number {
    const m = this.maxconnSet ?? this.config.maxconn;
    if (m === 0 || this.warmingSince === 0) return m;
    return Math.max(1, Math.floor((m * this.warmupRatio()) / 100));
  }

  /** The weight set by the configuration or an agent ("75%"), before any slowstart ramp. */
  uweight: number;
  /** When the current `slowstart` began (ms since epoch); 0: not warming up. */
  warmingSince = 0;

  /** How far into `slowstart` the server is, 0..100 (%). */
  warmupRatio(): number {
    if (this.warmingSince === 0) return 100;
    const ss = this.config.slowstart;
    return Math.min(100, Math.floor((100 * (Date.now() - this.warmingSince)) / ss));
  }

  isFull(): boolean {
    const m = this.maxconn;
    return (m > 0 && this.served >= m) || this.queue.length > 0;
  }

  /** Whether one more request may be queued on this server. */
  queueHasRoom(): boolean {
    return this.config.maxqueue === 0 || this.queue.length < this.config.maxqueue;
  }

  /** Assigns one request to this server (the caller already decided it may). */
  take(p: Pending): void {
    this.streams?.add(p);
    this.served++;
    this.conns++;
    this.counters.stot++;
    if (this.served > this.counters.smax) this.counters.smax = this.served;
  }

  /**
   * `observe layer4|layer7`: counts what traffic saw (HAProxy's __health_adjust); after
   * `error-limit` consecutive errors the health check applies `on-error`.
   */
  observe(what: Observed): void {
    const mode = this.config.observe;
    if (mode === undefined) return;
    const o = OBSERVED[what]!;
    const verdict = mode === 'layer4' ? o.l4 : o.l7;
    if (verdict === 0) return;
    if (verdict === 2) {
      this.consecutiveErrors = 0;
      return;
    }
    if (++this.consecutiveErrors < this.config.errorLimit) return;
    const info = `Detected ${this.consecutiveErrors} consecutive errors, last one was: ${o.desc}`;
    this.consecutiveErrors = 0;
    this.check?.observedErrors(info);
  }

  /** A request on this server ended: frees the slot and lets the backend hand it to a waiting one. */
  release(p: Pending): void {
    this.streams?.delete(p);
    this.served--;
    this.conns--;
    this.backend.requestEnded(this);
  }

  /** Queues a pending request on this server. */
  enqueue(p: Pending): void {
    this.queue.push(p);
    this.conns++;
    if (this.queue.length > this.counters.qmax) this.counters.qmax = this.queue.length;
  }

  /** Display name used in logs: "backend/server". */
  get fullName(): string {
    return this.backend.name + '/' + this.name;
  }
}
