// Assembles the running proxy from a frozen Config: backends with their servers, frontends with
// their listeners, loggers; and stops it, at once or gracefully.

import { readFileSync } from 'node:fs';
import { frontendsOf, type Config, type ProxyConfig } from '../config/model.js';
import { Backend } from '../backend/index.js';
import { HealthCheck, type CheckEnv } from '../check/health.js';
import { CheckPlan } from '../check/run.js';
import { AgentCheck } from '../check/agent.js';
import { CheckRuleCtx } from '../check/context.js';
import { httpConnHandler, tcpConnHandler } from '../mux/front.js';
import { ProcessContext } from './context.js';
import { Frontend, type TrafficLogger } from './frontend.js';
import { createEventLog, createTrafficLogger, type EventLog } from './logging.js';
import { ProxyConditions } from './conditions.js';
import { buildUserlists, ProxyHttpRules } from './http-rules.js';
import { compileRuleString, type RuleString } from '../http/actions/lf.js';
import { FileCache } from '../acl/index.js';

export class Runtime {
  readonly ctx: ProcessContext;
  /** Backends by name (the process context's map, which fetches naming a backend read too). */
  get backends(): Map<string, Backend> {
    return this.ctx.backends;
  }
  readonly frontends: Frontend[] = [];
  private stopResolve: (() => void) | null = null;
  readonly stopped: Promise<void>;

  constructor(readonly config: Config) {
    const g = config.global;
    this.ctx = new ProcessContext(g.maxconn || defaultMaxconn(), g.tune.bufsize, g.tune.maxrewrite, g.tune.maxhdr, g.tune.h2);
    this.ctx.reusePort = !g.noReusePort;
    const conds = new Map(config.proxies.map((p) => [p, new ProxyConditions(p)]));
    const userlists = buildUserlists(config.userlists);
    const files = new FileCache();
    const maxrewrite = g.tune.maxrewrite;
    const rules = new Map(
      config.proxies.filter((p) => p.mode === 'http' && !p.disabled).map((p) => [p, new ProxyHttpRules(p, userlists, { bufsize: g.tune.bufsize, maxrewrite, httpErrors: config.httpErrors }, files)]),
    );
    for (const p of config.proxies) {
      if (p.kind !== 'frontend' && !p.disabled) {
        const be = new Backend(p);
        const beLog = createEventLog(p.logs, g.logTag);
        this.createChecks(be, g.tune.bufsize, g.spreadChecks, files, beLog);
        be.stateLog = (level, msg, stderrMsg) => beLog.event(level, msg, stderrMsg);
        be.rules = rules.get(p) ?? null;
        const c = conds.get(p)!;
        for (const srv of be.servers) {
          const sni = srv.config.ssl?.enabled ? srv.config.ssl.sni : undefined;
          if (sni !== undefined) srv.sni = compileRuleString(`%[${sni}]`, { dir: 'req', http: false, file: srv.config.loc.file, line: srv.config.loc.line, files, refs: [] });
        }
        be.useServerRules = p.useServers.flatMap((r): Backend['useServerRules'] => {
          const cond = c.compile(r.cond)!;
          if (r.server.includes('%[')) {
            const name = compileRuleString(r.server, { dir: 'req', http: false, file: r.loc.file, line: r.loc.line, files, refs: [] });
            return [{ srv: null, name, cond }];
          }
          const srv = be.server(r.server);
          return srv ? [{ srv, name: null, cond }] : [];
        });
        this.backends.set(p.name, be);
      }
    }
    for (const p of frontendsOf(config)) {
      const logger: TrafficLogger | null = createTrafficLogger(p, config.global);
      const tcp = p.mode === 'tcp';
      const handler = tcp ? tcpConnHandler(p.binds) : httpConnHandler(p.binds);
      const fe = new Frontend(p, this.ctx, tcp ? this.tcpBackendOf(p) : this.defaultBackendOf(p), logger, handler);
      if (!tcp) {
        const c = conds.get(p)!;
        fe.rules = rules.get(p) ?? null;
        fe.useBackendRules = p.useBackends.flatMap((r): Frontend['useBackendRules'] => {
          const cond = c.compile(r.cond);
          if (r.backend.includes('%[')) {
            const name = compileRuleString(r.backend, { dir: 'req', http: false, file: r.loc.file, line: r.loc.line, files, refs: [] });
            return [{ be: null, name, cond }];
          }
          const be = this.backends.get(r.backend);
          return be ? [{ be, name: null, cond }] : [];
        });
      }
      this.frontends.push(fe);
      this.ctx.frontends.set(p.name, fe);
    }
    this.stopped = new Promise((r) => (this.stopResolve = r));
  }

  /** Where requests go when no use_backend rule matches: default_backend, or a listen itself. */
  private defaultBackendOf(p: ProxyConfig): Backend | null {
    if (p.defaultBackend !== undefined) return this.backends.get(p.defaultBackend) ?? null;
    if (p.kind === 'listen') return this.backends.get(p.name) ?? null;
    return null;
  }

  /**
   * The one backend of a TCP frontend: its first use_backend rule (rules apply in order, before
   * default_backend), else the default. The configuration refuses conditions there (TCP content
   * inspection is not supported yet), so the first rule always applies.
   */
  private tcpBackendOf(p: ProxyConfig): Backend | null {
    const first = p.useBackends[0];
    return first === undefined ? this.defaultBackendOf(p) : (this.backends.get(first.backend) ?? null);
  }

  /** Opens every listener; rejects (and closes what was opened) if one cannot bind. */
  async start(): Promise<void> {
    try {
      for (const fe of this.frontends) await fe.start();
    } catch (err) {
      for (const fe of this.frontends) fe.kill();
      throw err;
    }
    for (const be of this.backends.values()) be.started = true;
    // The first checks are staggered over the smallest interval, as HAProxy's start_checks.
    const n = this.checks.length + this.agents.length;
    const min = Math.min(...this.checks.map((c) => c.interval()), ...this.agents.map((a) => a.server.config.agent!.inter));
    this.checks.forEach((c, i) => c.start(Math.floor((min * i) / n)));
    this.agents.forEach((a, i) => a.start(Math.floor((min * (this.checks.length + i)) / n)));
  }

  /** The health checks (`server ... check`), created with the backends, started with the listeners. */
  private readonly checks: HealthCheck[] = [];
  /** The agent checks (`agent-check`). */
  private readonly agents: AgentCheck[] = [];

  /** One check per server with `check`; the backend's ruleset is compiled once for all of them. */
  private createChecks(be: Backend, bufsize: number, spread: number, files: FileCache, log: EventLog): void {
    const p = be.config;
    const logResults = p.options.logHealthChecks;
    const logEvent = (level: number, msg: string): void => log.event(level, msg);
    for (const s of be.servers) {
      if (s.config.agent !== undefined) this.agents.push(new AgentCheck(s, be, { bufsize, spread, logResults, log: logEvent }));
    }
    const servers = be.servers.filter((s) => s.config.check);
    if (servers.length === 0) return;
    const ctx = new CheckRuleCtx(this.ctx, be);
    const compile = (text: string): RuleString => compileRuleString(text, { dir: 'req', http: false, file: p.loc.file, line: p.loc.line, files, refs: [] });
    const plan = new CheckPlan(p.checks, compile, (rs) => rs.render(ctx));
    const env: CheckEnv = {
      plan,
      bufsize,
      spread,
      logResults,
      log: logEvent,
    };
    for (const s of servers) this.checks.push(new HealthCheck(s, be, env));
  }

  private stopChecks(): void {
    for (const c of this.checks) c.stop();
    for (const a of this.agents) a.stop();
    this.checks.length = 0;
    this.agents.length = 0;
  }

  /** Ports actually bound, per frontend (useful when a bind used port 0). */
  boundPorts(): Array<{ frontend: string; port: number }> {
    return this.frontends.flatMap((fe) => fe.listeners.map((l) => ({ frontend: fe.name, port: l.port })));
  }

  /**
   * Graceful stop (SIGUSR1): listeners close, in-flight exchanges finish, idle connections
   * close. Resolves `stopped` when no connection is left, or after `hard-stop-after`.
   */
  async softStop(): Promise<void> {
    this.ctx.stopping = true;
    this.stopChecks();
    for (const fe of this.frontends) fe.stopListening();
    for (const fe of this.frontends) fe.softStop();
    const hard = this.config.global.hardStopAfter;
    let hardTimer: NodeJS.Timeout | null = null;
    if (hard !== undefined) hardTimer = setTimeout(() => this.hardStop(), hard);
    const poll = setInterval(() => {
      if (this.frontends.every((fe) => fe.conns.size === 0)) {
        clearInterval(poll);
        if (hardTimer) clearTimeout(hardTimer);
        this.closeIdle();
        this.stopResolve?.();
      }
    }, 20);
  }

  /** Immediate stop (SIGTERM): every connection is closed now. */
  hardStop(): void {
    this.ctx.stopping = true;
    this.stopChecks();
    for (const fe of this.frontends) fe.kill();
    this.closeIdle();
    this.stopResolve?.();
  }

  private closeIdle(): void {
    for (const be of this.backends.values()) for (const s of be.servers) {
      s.pool.closeAll();
      s.h2?.closeAll();
    }
  }
}

/**
 * HAProxy derives the default maxconn from the file descriptor limit: each proxied connection
 * needs two descriptors, and a few are kept for listeners, logs and checks.
 */
function defaultMaxconn(): number {
  let text = '';
  try {
    text = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return 4096;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s+/)[3];
  if (!soft) return 4096;
  const n = soft === 'unlimited' ? 1 << 20 : Number(soft);
  return Math.max(100, Math.floor((n - 50) / 2));
}
