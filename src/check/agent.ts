// The agent check of a server (`agent-check`, `agent-port`, `agent-addr`, `agent-inter`,
// `agent-send`): every `agent-inter`, a TCP connection to the agent, the optional `agent-send`
// string, and one line back whose words set the server's weight ("75%"), maxconn ("maxconn:30"),
// administrative state (ready, drain, maint) and health (up; down, fail, stopped, with an
// optional "#reason"). As HAProxy's (tcpcheck_agent_expect_reply): the last word of a kind wins,
// failing to reach the agent is not an error, and only the agent undoes what it did. Its health
// runs from 0 to 1 (rise and fall are 1); the server is UP only while both its health check and
// its agent agree.

import { isDynamicLb } from '../lb/index.js';
import { SrvState, type Backend, type Server } from '../backend/index.js';
import { CheckConn } from './conn.js';
import type { CheckEnv } from './health.js';
import { CheckResult, outcomeReport, type CheckOutcome } from './status.js';
import { PeriodicCheck } from './periodic.js';

/** What one reply says; undefined fields were not in it. */
export interface AgentReply {
  health?: 'up' | 'down' | 'fail' | 'stopped';
  admin?: 'ready' | 'drain' | 'maint';
  weight?: string;
  maxconn?: string;
  /** The first word not understood. */
  error?: string;
  /** The text after '#'. */
  reason: string;
}

/** Splits an agent's line into what it says (words separated by spaces, tabs or commas). */
export function parseAgentLine(line: string): AgentReply {
  const r: AgentReply = { reason: '' };
  const hash = line.indexOf('#');
  const words = (hash < 0 ? line : line.slice(0, hash)).split(/[ \t,]+/).filter((w) => w !== '');
  if (hash >= 0) r.reason = line.slice(hash + 1).replace(/^[ \t]+/, '');
  for (const w of words) {
    const l = w.toLowerCase();
    if (l === 'up' || l === 'down' || l === 'fail' || l === 'stopped') r.health = l;
    else if (l === 'ready' || l === 'drain' || l === 'maint') r.admin = l;
    else if (/^[0-9]/.test(w) && w.includes('%')) r.weight = w;
    else if (l.startsWith('maxconn:')) r.maxconn = w.slice(8);
    else r.error ??= w;
  }
  return r;
}

export class AgentCheck extends PeriodicCheck {
  private health = 1;
  private conn: CheckConn | null = null;

  constructor(
    server: Server,
    backend: Backend,
    private readonly env: Omit<CheckEnv, 'plan'>,
  ) {
    super(server, backend, env);
    server.agent = this;
  }

  get healthy(): boolean {
    return this.health >= 1;
  }

  protected onStop(): void {
    this.conn?.close();
    this.conn = null;
    if (this.server.agent === this) this.server.agent = null;
  }

  protected runOnce(): void {
    void this.exchange();
  }

  private async exchange(): Promise<void> {
    const srv = this.server;
    const a = srv.config.agent!;
    const t0 = Date.now();
    const addr = a.addr ?? { host: srv.host, family: srv.family };
    const port = a.port ?? addr.port ?? 0;
    const conn = new CheckConn({ host: addr.host, port, family: addr.family, tls: null, sendProxy: 0, linger: false }, this.env.bufsize);
    this.conn = conn;
    const t = this.backend.config.timeouts;
    let limit = t.check !== undefined && t.connect !== undefined ? Math.min(a.inter, t.connect) : a.inter;
    let timer: NodeJS.Timeout | null = null;
    const expiry = (ms: number): Promise<'timeout'> =>
      new Promise((resolve) => {
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(() => setImmediate(() => resolve('timeout')), ms);
      });
    let line: string | null = null;
    let outcome: Omit<CheckOutcome, 'durationMs'> | null = null;
    try {
      const r = await Promise.race([conn.establish(), expiry(limit)]);
      if (r === 'timeout') outcome = { status: 'L4TOUT' };
      else if (r !== null) outcome = r;
      else {
        if (a.send !== undefined) conn.write(a.send);
        if (t.check !== undefined) limit = t.check;
        const e = expiry(limit);
        for (;;) {
          const nl = conn.data.findIndex((b) => b === 10 || b === 13);
          if (nl >= 0) {
            line = conn.data.subarray(0, nl).toString('latin1');
            break;
          }
          if (conn.ended) {
            // The state does not change, but the admin may read why.
            line = null;
            break;
          }
          if ((await Promise.race([conn.next(), e])) === 'timeout') {
            outcome = { status: 'L7TOUT' };
            break;
          }
        }
      }
    } finally {
      if (timer !== null) clearTimeout(timer);
      conn.close();
      if (this.conn === conn) this.conn = null;
    }
    if (this.stopped) return;
    const durationMs = Date.now() - t0;
    try {
      if (outcome !== null) this.logResult({ ...outcome, durationMs }, CheckResult.Failed, this.health, this.health, 1, 1, true);
      else if (line !== null) this.apply(parseAgentLine(line), durationMs);
    } finally {
      this.schedule(a.inter);
    }
  }

  /** Acts on a reply: admin state first, then weight and maxconn, then health (as HAProxy). */
  private apply(r: AgentReply, durationMs: number): void {
    const srv = this.server;
    const be = this.backend;
    if (r.admin !== undefined) be.setServerAdmin(srv, r.admin);
    let warning = '';
    if (r.weight !== undefined) warning = this.setWeight(r.weight);
    if (r.maxconn !== undefined) {
      const m = /^-?[0-9]+/.exec(r.maxconn);
      if (m === null) warning ||= 'maxconn string empty or preceded by garbage';
      else if (m[0].length !== r.maxconn.length) warning ||= 'Trailing garbage in maxconn string';
      else srv.maxconnSet = Number(m[0]);
    }
    if (r.health === undefined) return;
    const before = this.health;
    const up = r.health === 'up';
    this.health = up ? 1 : 0;
    let msg = r.reason;
    if (msg === '' || up) msg = r.error ?? warning;
    const info = `via agent : ${r.health}${msg !== '' ? ` (${msg})` : ''}`;
    const o: CheckOutcome = { status: up ? 'L7OK' : 'L7STS', code: 0, info, durationMs };
    this.logResult(o, o.status === 'L7OK' ? CheckResult.Passed : CheckResult.Failed, before, this.health, 1, 1, true);
    if (srv.state === SrvState.Maint) return;
    // With log-health-checks the state change line leaves the reason to the agent's line.
    const cause = this.env.logResults ? undefined : outcomeReport(o);
    if (!up && srv.state !== SrvState.Down) be.setServerState(srv, SrvState.Down, cause);
    else if (up && srv.state === SrvState.Down && (srv.check === null || srv.check.healthValue >= srv.config.checkRise)) {
      be.setServerState(srv, SrvState.Up, cause);
    }
  }

  /** "75%" of the configured weight (server_parse_weight_change_request); returns a warning or "". */
  private setWeight(text: string): string {
    const srv = this.server;
    const m = /^-?[0-9]+/.exec(text);
    if (m === null) return 'Empty weight string empty or preceded by garbage';
    let w = Number(m[0]);
    if (text.slice(m[0].length) !== '%') return 'Trailing garbage in weight string';
    // HAProxy's texts, their trailing newline included (the log shows it as <0A>).
    if (w < 0) return 'Relative weight must be positive.\n';
    w = Math.min(256, Math.floor((srv.config.weight * Math.min(w, 25600)) / 100));
    const cfg = this.backend.config;
    if (w !== 0 && w !== srv.config.weight && !isDynamicLb(cfg.balance, cfg.hashType)) {
      return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n";
    }
    this.backend.setServerWeight(srv, w);
    return '';
  }
}
