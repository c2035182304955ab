// Syslog framing of a log message for one target, as HAProxy builds its log header
// (log.c build_log_header). Bytes per `format`, PRI = facility * 8 + level:
//   raw       msg
//   local     <PRI>Mmm dd hh:mm:ss TAG[PID]: msg
//   rfc3164   <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: msg      (HOSTNAME "localhost" if unset)
//   rfc5424   <PRI>1 ISO-TIME HOSTNAME TAG PID - - msg         (HOSTNAME "-" if unset)
//   priority  <PRI>msg
//   short     <LEVEL>msg                                        (no facility: for systemd)
//   timed     <LEVEL>ISO-TIME msg
//   iso       ISO-TIME msg
// A `log` line without `format` is "local" unless `log-send-hostname` is set, then "rfc3164".

import type { LogFormatKind } from '../config/model.js';
import { formatIsoTime, formatLegacyTime } from './dates.js';

/** Wall-clock time in milliseconds since the epoch; a fraction carries microseconds. */
export type Clock = () => number;

/** Syslog level names, indexed by level (HAProxy's `log` keyword spelling). */
export const LOG_LEVEL_NAMES: readonly string[] = [
  'emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug',
];

/** Syslog facility names, indexed by facility number. */
export const LOG_FACILITY_NAMES: readonly string[] = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];

/** The framing HAProxy uses for a `log` line written without `format`. */
export function defaultLogFormatKind(sendHostname: boolean): LogFormatKind {
  return sendHostname ? 'rfc3164' : 'local';
}

/**
 * The default clock: Date.now() refined to microseconds with the monotonic clock, and
 * re-anchored whenever the two drift apart by a millisecond (wall-clock steps).
 */
export const wallClock: Clock = (() => {
  let baseWall = Date.now();
  let baseMono = performance.now();
  return (): number => {
    const wall = Date.now();
    let t = baseWall + (performance.now() - baseMono);
    if (t < wall || t >= wall + 1) {
      baseWall = wall;
      baseMono = performance.now();
      t = wall;
    }
    return t;
  };
})();

/** What the header needs besides the message: the sender's identity. */
export interface SyslogIdentity {
  /** `log-tag` (program name by default). */
  tag: string;
  /** Process id as printed. */
  pid: string;
  /** `log-send-hostname` value, "" when not set. */
  hostname: string;
}

/**
 * Builds the header that precedes a message for a target's `format`. `level` is the level
 * after the target's minimum was applied; `now` is the clock reading for the timestamp.
 */
export function syslogHeader(
  format: LogFormatKind,
  facility: number,
  level: number,
  id: SyslogIdentity,
  now: number,
): string {
  switch (format) {
    case 'raw':
      return '';
    case 'short':
      return '<' + level + '>';
    case 'priority':
      return '<' + (facility * 8 + level) + '>';
    case 'timed':
      return '<' + level + '>' + formatIsoTime(now) + ' ';
    case 'iso':
      return formatIsoTime(now) + ' ';
    case 'local':
      return '<' + (facility * 8 + level) + '>' + formatLegacyTime(now) + ' ' + tagPid(id);
    case 'rfc3164':
      return (
        '<' + (facility * 8 + level) + '>' + formatLegacyTime(now) + ' ' +
        (id.hostname || 'localhost') + ' ' + tagPid(id)
      );
    case 'rfc5424':
      return (
        '<' + (facility * 8 + level) + '>1 ' + formatIsoTime(now) + ' ' +
        (id.hostname || '-') + ' ' + (id.tag || '-') + ' ' + (id.pid || '-') + ' - - '
      );
  }
}

function tagPid(id: SyslogIdentity): string {
  if (!id.tag) return '';
  return id.pid ? id.tag + '[' + id.pid + ']: ' : id.tag + ': ';
}

/**
 * The bytes sent for one message: header + message + "\n", cut so that the whole line,
 * newline included, fits in `maxLen` bytes (HAProxy truncates, it never splits); 0 = no limit.
 * A datagram (UDP, unix socket) keeps `maxLen` bytes before its newline, as HAProxy's sendmsg
 * path adds the newline on top of the cut line.
 */
export function frameLine(header: string, msg: string, maxLen: number, datagram = false): Buffer {
  // Trailing newlines or NULs in the message are dropped, as HAProxy does.
  let end = msg.length;
  while (end > 0) {
    const c = msg.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0) break;
    end--;
  }
  if (end !== msg.length) msg = msg.slice(0, end);
  const line = header + msg;
  // A length of 0 means "no limit", like HAProxy's stdout writer.
  if (maxLen <= 0) return Buffer.from(line + '\n');
  const limit = datagram ? maxLen : maxLen - 1;
  if (Buffer.byteLength(line) <= limit) return Buffer.from(line + '\n');
  const buf = Buffer.allocUnsafe(limit + 1);
  // Cut at a byte boundary, as HAProxy does; a split UTF-8 character is the sender's problem.
  const full = Buffer.from(line);
  full.copy(buf, 0, 0, limit);
  buf[limit] = 0x0a;
  return buf;
}
