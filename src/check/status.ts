// Check results as HAProxy names and words them (check_statuses[] in src/check.c): the status
// code, whether it passes, and the description the logs print ("Layer7 wrong status").

import type { CheckStatusName } from '../config/model.js';
import type { CheckReport } from '../log/messages.js';

/** The three outcomes the rise/fall machine knows. */
export const enum CheckResult {
  Failed = 0,
  Passed = 1,
  /** L7OKC: the server stays up for persistence but takes no new load-balanced traffic. */
  CondPassed = 2,
}

const DESC: Record<CheckStatusName, string> = {
  L4OK: 'Layer4 check passed',
  L4TOUT: 'Layer4 timeout',
  L4CON: 'Layer4 connection problem',
  L6OK: 'Layer6 check passed',
  L6TOUT: 'Layer6 timeout',
  L6RSP: 'Layer6 invalid response',
  L7OK: 'Layer7 check passed',
  L7OKC: 'Layer7 check conditionally passed',
  L7TOUT: 'Layer7 timeout',
  L7RSP: 'Layer7 invalid response',
  L7STS: 'Layer7 wrong status',
  SOCKERR: 'Socket error',
  HANA: 'Health analyze',
};

/** What one check run found. */
export interface CheckOutcome {
  status: CheckStatusName;
  /** Layer-7 code: the HTTP status (0 for tcp-check); undefined for lower layers. */
  code?: number;
  info?: string;
  durationMs: number;
}

export function outcomeResult(o: CheckOutcome): CheckResult {
  switch (o.status) {
    case 'L4OK':
    case 'L6OK':
    case 'L7OK':
      return CheckResult.Passed;
    case 'L7OKC':
      return CheckResult.CondPassed;
    default:
      return CheckResult.Failed;
  }
}

/** The outcome as the log lines report it. */
export function outcomeReport(o: CheckOutcome): CheckReport {
  const r: CheckReport = { desc: DESC[o.status], durationMs: o.durationMs };
  // HAProxy prints a code only for statuses that carry layer-7 data (L7OK, L7OKC, L7STS).
  if (o.code !== undefined && (o.status === 'L7OK' || o.status === 'L7OKC' || o.status === 'L7STS')) r.code = o.code;
  if (o.info) r.info = o.info;
  return r;
}

/** The text HAProxy puts in `info` for a failed connection (strerror). */
export function errnoText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'EHOSTUNREACH':
      return 'No route to host';
    case 'ENETUNREACH':
      return 'Network is unreachable';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'EPIPE':
      return 'Broken pipe';
    case 'EADDRNOTAVAIL':
      return 'Cannot assign requested address';
    default:
      return e.message;
  }
}
