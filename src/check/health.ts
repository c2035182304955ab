// The health check of one server (`server ... check`): it runs the backend's check ruleset
// (layer 4 or 6 without one) every interval and drives HAProxy's rise/fall state machine, which
// decides when the server goes DOWN, comes back UP, or stops taking new traffic (NOLB, a 404 with
// `http-check disable-on-404`). Intervals run from the end of a check, as HAProxy's
// (process_chk): `inter` while fully up, `downinter` while fully down, `fastinter` in between,
// with `spread-checks` jitter.
//
// The health counter runs from 0 to rise+fall-1; the server is UP while it is at least `rise`.
// A server with `check` starts UP at the edge (health = rise): its first failure takes it down
// (`init-state` chooses another start).

import { SrvState, type Backend, type Server, type ServerCheckView } from '../backend/index.js';
import { CheckRun, type CheckPlan } from './run.js';
import { PeriodicCheck, type CheckLog } from './periodic.js';
import { CheckResult, outcomeReport, outcomeResult, type CheckOutcome } from './status.js';

/** What a health check needs from the process around it. */
export interface CheckEnv extends CheckLog {
  plan: CheckPlan;
  /** tune.bufsize: the most a check reads. */
  bufsize: number;
  /** `spread-checks` percentage. */
  spread: number;
}

export class HealthCheck extends PeriodicCheck implements ServerCheckView {
  private health: number;
  private run: CheckRun | null = null;

  constructor(
    server: Server,
    backend: Backend,
    private readonly env: CheckEnv,
  ) {
    super(server, backend, env);
    const c = server.config;
    const full = c.checkRise + c.checkFall - 1;
    switch (c.initState) {
      case 'fully-up':
        this.health = full;
        break;
      case 'down':
        this.health = c.checkRise - 1;
        break;
      case 'fully-down':
        this.health = 0;
        break;
      default:
        this.health = c.checkRise;
    }
    if (server.state === SrvState.Maint) this.health = 0;
    // Created before the backend logs state changes: this one goes unlogged, as HAProxy's.
    else if (this.health < c.checkRise) backend.setServerState(server, SrvState.Down);
    server.check = this;
  }

  get healthValue(): number {
    return this.health;
  }

  /** Maintenance: the counter drops to 0 (HAProxy pauses the check). */
  pause(): void {
    this.health = 0;
  }

  /** Out of maintenance: "start OK but check immediately" (health = rise, next check now). */
  resume(): void {
    this.health = this.server.config.checkRise;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  protected onStop(): void {
    this.run?.abort();
    this.run = null;
    if (this.server.check === this) this.server.check = null;
  }

  /** HAProxy's srv_getinter: `inter` when fully up, `downinter` when fully down, else `fastinter`. */
  interval(): number {
    const c = this.server.config;
    const full = c.checkRise + c.checkFall - 1;
    if (this.server.state === SrvState.Down && this.health === 0) return c.checkDowninter ?? c.checkInter;
    if (this.health === full) return c.checkInter;
    return c.checkFastinter ?? c.checkInter;
  }

  protected runOnce(): void {
    // A server in maintenance is not checked; its checks resume when it leaves maintenance.
    if (this.server.state === SrvState.Maint) {
      this.schedule(this.interval());
      return;
    }
    const run = new CheckRun(this.env.plan, this.server, this.backend, this.env.bufsize);
    this.run = run;
    run.run().then(
      (o) => {
        if (this.run !== run) return;
        this.run = null;
        this.result(o);
      },
      () => {
        if (this.run !== run) return;
        this.run = null;
        this.result({ status: 'SOCKERR', durationMs: -1 });
      },
    );
  }

  /** Applies one outcome to the health counter and the server's state, then schedules the next. */
  private result(o: CheckOutcome): void {
    if (this.stopped) return;
    try {
      this.apply(o);
    } finally {
      // Whatever happened while applying it, the server stays checked.
      this.schedule(this.nextDelay());
    }
  }

  /** The rise/fall machine (set_server_check_status, check_notify_*). */
  private apply(o: CheckOutcome): void {
    const c = this.server.config;
    const full = c.checkRise + c.checkFall - 1;
    const srv = this.server;
    const res = outcomeResult(o);
    const before = this.health;
    // With log-health-checks the state change line leaves the reason to the check line.
    const cause = this.env.logResults ? undefined : outcomeReport(o);
    if (res === CheckResult.Failed) {
      if (this.health > c.checkRise) this.health--;
      else this.health = 0;
    } else if (this.health < full) {
      this.health++;
      if (this.health >= c.checkRise) this.health = full;
    }
    this.logResult(o, res, before, this.health, c.checkRise, c.checkFall, false);
    if (res === CheckResult.Failed) {
      if (this.health === 0 && srv.state !== SrvState.Down && srv.state !== SrvState.Maint) this.backend.setServerState(srv, SrvState.Down, cause);
    } else if (this.health >= c.checkRise && (srv.agent?.healthy ?? true) && srv.state !== SrvState.Maint) {
      const target = res === CheckResult.CondPassed ? SrvState.Nolb : SrvState.Up;
      // A NOLB change carries no reason in HAProxy's line.
      if (srv.state !== target) this.backend.setServerState(srv, target, target === SrvState.Nolb ? undefined : cause);
    }
  }

  /** The interval with `spread-checks` jitter (±spread% of it). */
  private nextDelay(): number {
    const inter = this.interval();
    const spread = this.env.spread;
    if (spread <= 0) return inter;
    const rv = Math.floor((inter * spread) / 100);
    return inter + rv - Math.floor(2 * rv * Math.random());
  }

  /**
   * `observe` reported `error-limit` consecutive errors: `on-error` acts as HAProxy's
   * __health_adjust (a simulated failed check "HANA" for fail-check, sudden-death, mark-down).
   */
  observedErrors(info: string): void {
    if (this.stopped) return;
    const c = this.server.config;
    if (c.onError !== 'fastinter') {
      if (c.onError === 'sudden-death' && this.health > c.checkRise) this.health = c.checkRise + 1;
      else if (c.onError === 'mark-down') this.health = c.checkRise;
      this.apply({ status: 'HANA', info, durationMs: -1 });
    }
    // Every mode brings the next check forward to `fastinter`, when one is set and sooner (a
    // check running now schedules the next one when it ends).
    const fast = c.checkFastinter;
    if (fast !== undefined && this.timer !== null && this.dueAt - Date.now() > fast) {
      clearTimeout(this.timer);
      this.schedule(fast);
    }
  }
}
