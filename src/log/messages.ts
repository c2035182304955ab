// The texts HAProxy logs (and prints as warnings) when servers and backends change state,
// word for word, so that log watchers written for HAProxy keep working. Each function returns
// the full sentence with its final '.', without newline. The levels HAProxy uses are given in
// each comment: the caller passes them to Logger.event.

import { asciiEncode } from './encode.js';

/** The outcome of the check that caused a change, as the check module knows it. */
export interface CheckReport {
  /** Status description, e.g. "Layer4 connection problem", "Layer7 wrong status". */
  desc: string;
  /** Layer 7 statuses (L7OK, L7OKC, L7STS, L7RSP...) carry a code, e.g. the HTTP status. */
  code?: number;
  /** Free text, e.g. "Connection refused"; "" or undefined when none. */
  info?: string;
  /** Check duration in ms, -1 when unknown. */
  durationMs: number;
}

/** ", reason: X[, code: N][, info: "..."][, check duration: Nms]" as HAProxy appends it. */
export function checkReportText(c: CheckReport): string {
  let out = ', reason: ' + c.desc;
  if (c.code !== undefined) out += ', code: ' + c.code;
  if (c.info) out += ', info: "' + asciiEncode(c.info, '"') + '"';
  if (c.durationMs >= 0) out += ', check duration: ' + c.durationMs + 'ms';
  return out;
}

export interface ServerStateChange {
  backend: string;
  server: string;
  backup: boolean;
  /**
   * Why: a check report, or a cause such as "changed from CLI", "changed from Lua script",
   * "changed from Web interface", "changed from server-state after a reload"; none if omitted.
   */
  cause?: CheckReport | string;
  /** "be/srv" when the server follows another one with `track`. */
  tracking?: string;
  /** Usable active and backup servers in the backend after the change. */
  activeServers: number;
  backupServers: number;
  /** Sessions still on the server (DOWN only). */
  curSess: number;
  /** Streams requeued (DOWN) or taken from the queue (UP); -1 leaves the counts out. */
  xferred: number;
  /** Streams still waiting in the server's queue. */
  queued: number;
}

function causeText(cause: CheckReport | string | undefined): string {
  if (cause === undefined) return '';
  if (typeof cause === 'string') return cause ? ', ' + cause : '';
  return checkReportText(cause);
}

function serverLine(c: ServerStateChange, what: string, down: boolean): string {
  let out = (c.backup ? 'Backup ' : '') + 'Server ' + c.backend + '/' + c.server + ' ' + what;
  out += causeText(c.cause);
  if (c.tracking) out += ' via ' + c.tracking;
  if (c.xferred >= 0) {
    const onBackup = c.backupServers > 0 && c.activeServers === 0 ? ' Running on backup.' : '';
    out += down
      ? `. ${c.activeServers} active and ${c.backupServers} backup servers left.${onBackup}` +
        ` ${c.curSess} sessions active, ${c.xferred} requeued, ${c.queued} remaining in queue`
      : `. ${c.activeServers} active and ${c.backupServers} backup servers online.${onBackup}` +
        ` ${c.xferred} sessions requeued, ${c.queued} total in queue`;
  }
  return out + '.';
}

/**
 * "Server be/s1 is DOWN, reason: ..., check duration: 0ms. 0 active and 0 backup servers left.
 * 0 sessions active, 0 requeued, 0 remaining in queue." Level: alert (notice when the server
 * was already stopping or draining).
 */
export function serverDownMessage(c: ServerStateChange): string {
  return serverLine(c, 'is DOWN', true);
}

/** "Server be/s1 is UP, reason: .... 1 active and 0 backup servers online. ..." Level: notice. */
export function serverUpMessage(c: ServerStateChange): string {
  return serverLine(c, 'is UP', false);
}

/**
 * "Server be/s1 is stopping. 0 active and 0 backup servers online. 0 sessions requeued, 0 total
 * in queue." (NOLB, a conditional check pass; worded as an UP change). Level: notice.
 */
export function serverStoppingMessage(c: ServerStateChange): string {
  return serverLine(c, 'is stopping', false);
}

/**
 * "Server be/s1 is going DOWN for maintenance. 0 active and 0 backup servers left. ..." (an
 * agent's or the admin's `maint`). Level: alert (notice when the server was stopping).
 */
export function serverMaintMessage(c: ServerStateChange): string {
  return serverLine(c, 'is going DOWN for maintenance', true);
}

/** "Server be/s1 enters drain state. 1 active and 0 backup servers online. ..." Level: notice. */
export function serverDrainMessage(c: ServerStateChange): string {
  return serverLine(c, 'enters drain state', false);
}

/**
 * "Server be/s1 is UP/READY (leaving forced maintenance)." or, for drain, "Server be/s1 is UP
 * (leaving forced drain)." `admin` is READY or DRAIN after maintenance, omitted after drain.
 * Level: notice.
 */
export function serverLeavingMessage(c: { backend: string; server: string; backup: boolean }, up: boolean, left: 'maintenance' | 'drain', drain = false): string {
  const state = (up ? 'UP' : 'DOWN') + (left === 'maintenance' ? (drain ? '/DRAIN' : '/READY') : '');
  return `${c.backup ? 'Backup ' : ''}Server ${c.backend}/${c.server} is ${state} (leaving forced ${left}).`;
}

/**
 * "backend be has no server available!" for logs; with `forStderr`, the ALERT text
 * "backend 'be' has no server available!". `kind` is "backend", or "proxy" for a listen
 * section. Level: emerg.
 */
export function noServerAvailableMessage(kind: 'backend' | 'proxy', name: string, forStderr = false): string {
  return forStderr ? `${kind} '${name}' has no server available!` : `${kind} ${name} has no server available!`;
}

export interface HealthCheckEvent {
  /** Agent check rather than health check. */
  agent: boolean;
  backend: string;
  server: string;
  backup: boolean;
  passed: boolean;
  /** Passed conditionally (L7OKC: "http-check disable-on-404"). */
  conditional: boolean;
  report: CheckReport;
  /** Check health counter after this result, and the server's rise/fall. */
  health: number;
  rise: number;
  fall: number;
  /** The server's user weight is 0 (then "DRAIN" instead of "UP"). */
  drain: boolean;
}

/**
 * With `option log-health-checks`: "Health check for server be/s1 failed, reason: Layer4
 * connection problem, info: "Connection refused", check duration: 0ms, status: 0/1 DOWN."
 * Level: notice.
 */
export function healthCheckMessage(e: HealthCheckEvent): string {
  const up = e.health >= e.rise;
  return (
    (e.agent ? 'Agent' : 'Health') + ' check for ' + (e.backup ? 'backup ' : '') + 'server ' +
    e.backend + '/' + e.server + ' ' + (e.conditional ? 'conditionally ' : '') +
    (e.passed ? 'succeeded' : 'failed') + checkReportText(e.report) +
    ', status: ' + (up ? e.health - e.rise + 1 : e.health) + '/' + (up ? e.fall : e.rise) + ' ' +
    (up ? (e.drain ? 'DRAIN' : 'UP') : 'DOWN') + '.'
  );
}
