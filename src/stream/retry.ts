// HAProxy's retry schedule for connection failures: `retries N` attempts in all, and
// `option redispatch [interval]` deciding which of them go to another server.

import { Observed, type Backend, type Server } from '../backend/index.js';
import { isHashingLb } from '../lb/index.js';
import { RetryOn } from '../config/model.js';

export const enum RetryDecision {
  GiveUp = 0,
  SameServer = 1,
  Redispatch = 2,
}

/**
 * What to do after a failed connection attempt. `left` is the number of retries still allowed
 * before this one, `total` the configured `retries`, `interval` the redispatch interval
 * (undefined: option off; -1: on the last retry; P > 0: every P-th retry; N < 0: from the
 * |N|-th retry before the last).
 */
export function nextRetry(left: number, interval: number | undefined, total: number): RetryDecision {
  if (left <= 0) return RetryDecision.GiveUp;
  if (interval === undefined || interval === 0) return RetryDecision.SameServer;
  const k = total - left + 1; // the number of this retry, from 1
  if (interval > 0) return k % interval === 0 ? RetryDecision.Redispatch : RetryDecision.SameServer;
  return k === total + interval + 1 ? RetryDecision.Redispatch : RetryDecision.SameServer;
}

/**
 * Whether this retry goes back through balancing to another server. With `option redispatch`,
 * HAProxy does so on the scheduled retries, and on every retry when the server was chosen by
 * balancing (not `direct`ly, by use-server), the algorithm is not deterministic (not hashing) and
 * other active servers exist.
 */
export function redispatchNow(d: RetryDecision, be: Backend, direct: boolean): boolean {
  if (d === RetryDecision.GiveUp || be.servers.length < 2) return false;
  if (d === RetryDecision.Redispatch) return true;
  const r = be.config.options.redispatch;
  return r !== undefined && r !== 0 && !direct && !isHashingLb(be.config.balance) && be.activeCount > 1;
}

/**
 * The decision after a failed connection attempt on `srv`, with the counters HAProxy keeps for
 * it (econ on giving up, wretr per retry, wredis per redispatch). Shared by HTTP and TCP.
 * `retry-on` without conn-failure makes a failed connection final.
 */
export function afterConnectFailure(srv: Server, be: Backend, left: number, direct = false): RetryDecision {
  srv.observe(Observed.L4Err);
  const d = be.config.retryOn & RetryOn.ConnFailure ? afterRetryableFailure(srv, be, left, direct) : RetryDecision.GiveUp;
  if (d === RetryDecision.GiveUp) {
    srv.counters.econ++;
    be.counters.econ++;
  }
  return d;
}

/**
 * The decision after any failure `retry-on` allows to retry (a failed connection, or a layer-7
 * failure once the server got the request): one schedule and one counter for all, with HAProxy's
 * counters (wretr per retry, wredis per redispatch). Giving up counts nothing here.
 */
export function afterRetryableFailure(srv: Server, be: Backend, left: number, direct: boolean): RetryDecision {
  const d = nextRetry(left, be.config.options.redispatch, be.config.retries);
  if (d === RetryDecision.GiveUp) return d;
  srv.counters.wretr++;
  be.counters.wretr++;
  if (!redispatchNow(d, be, direct)) return RetryDecision.SameServer;
  srv.counters.wredis++;
  be.counters.wredis++;
  return RetryDecision.Redispatch;
}

/** The pause before trying the same server again: HAProxy's min(timeout connect, 1s). */
function turnAroundDelay(be: Backend): number {
  const tc = be.config.timeouts.connect;
  return tc === undefined ? 1000 : Math.min(tc, 1000);
}

/**
 * The pause before the next attempt on the same server, as HAProxy: the turn-around only after
 * the connection itself failed (refused, unreachable); none after `timeout connect` expired nor
 * after a TLS handshake failed on an established connection (0: try again at once).
 */
export function retryPause(be: Backend, timedOut: boolean, transportUp: boolean): number {
  return timedOut || transportUp ? 0 : turnAroundDelay(be);
}
