// What health and agent checks share: one run at a time, each scheduled after the previous one
// ended, on a timer that never keeps the process alive, a stop that cancels what is pending, and
// the `option log-health-checks` line of each result.

import type { Backend, Server } from '../backend/index.js';
import { healthCheckMessage, LogLevel } from '../log/index.js';
import { CheckResult, outcomeReport, type CheckOutcome } from './status.js';

/** How check results are logged. */
export interface CheckLog {
  /** `option log-health-checks`. */
  logResults: boolean;
  /** Logs a check event (notice level; HAProxy prints it on stderr as a warning too). */
  log: (level: LogLevel, msg: string) => void;
}

export abstract class PeriodicCheck {
  protected timer: NodeJS.Timeout | null = null;
  protected stopped = false;
  /** When the next run is due (ms since epoch). */
  protected dueAt = 0;
  /** The status of the last result: a line is logged when it or the health changes. */
  private lastStatus = '';

  constructor(
    readonly server: Server,
    readonly backend: Backend,
    private readonly logs: CheckLog,
  ) {}

  /**
   * `option log-health-checks`: "Health|Agent check for server be/s1 succeeded, ..., status:
   * X/Y UP." when the status or the health (`before` → `health`) changed, as HAProxy's
   * set_server_check_status.
   */
  protected logResult(o: CheckOutcome, res: CheckResult, before: number, health: number, rise: number, fall: number, agent: boolean): void {
    const changed = o.status !== this.lastStatus || health !== before;
    this.lastStatus = o.status;
    if (!this.logs.logResults || !changed) return;
    this.logs.log(
      LogLevel.Notice,
      healthCheckMessage({
        agent,
        backend: this.backend.name,
        server: this.server.name,
        backup: this.server.backup,
        passed: res !== CheckResult.Failed,
        conditional: res === CheckResult.CondPassed,
        report: outcomeReport(o),
        health,
        rise,
        fall,
        drain: this.server.eweight === 0,
      }),
    );
  }

  /** Schedules the first run `delayMs` from now (the runtime staggers them). */
  start(delayMs: number): void {
    this.schedule(delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.onStop();
  }

  protected schedule(ms: number): void {
    if (this.stopped) return;
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.runOnce();
    }, ms);
    this.timer.unref();
  }

  /** One run; it calls schedule() for the next one when it ends. */
  protected abstract runOnce(): void;
  /** Releases what a run in progress holds. */
  protected abstract onStop(): void;
}
