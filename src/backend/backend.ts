// A backend at run time: its servers, its balancing algorithms (one for active servers, one for
// backups), its queue, and its counters. `assign` decides where a request goes: a server now,
// a queue, or nowhere (503).

import type { ProxyConfig } from '../config/model.js';
import { createLbAlgorithm, hdrHashKey, isDynamicLb, uriHashKey, urlParamValue } from '../lb/index.js';
import type { LbAlgorithm } from '../lb/types.js';
import type { Condition } from '../acl/index.js';
import type { RuleString } from '../http/actions/lf.js';
import {
  LogLevel,
  noServerAvailableMessage,
  serverDownMessage,
  serverDrainMessage,
  serverLeavingMessage,
  serverMaintMessage,
  serverStoppingMessage,
  serverUpMessage,
  type CheckReport,
  type ServerStateChange,
} from '../log/index.js';
import { PendingQueue, type Pending } from './queue.js';
import { Cause } from '../core/errors.js';
import { newCounters, Server, SrvState, type ServerCounters } from './server.js';

/** What the request offers to hashing algorithms. */
export interface BalanceInput {
  srcIp: string;
  uri: string;
  /** Returns the first value of a header (lower-case name), for `balance hdr`. */
  header(lname: string): string | undefined;
}

export const enum AssignResult {
  /** A server was taken: `stream.server` is set, its slot counted. */
  Assigned = 0,
  /** Every usable server is full: the request was queued and `dequeued()` will be called. */
  Queued = 1,
  /** No usable server at all. */
  NoServer = 2,
  /** The queue is full (maxqueue). */
  QueueFull = 3,
}

export interface BackendCounters extends ServerCounters {
  /** Current and cumulated connections/requests through the backend. */
  cur: number;
  /** Responses denied by http-response rules, and failed response rewrites. */
  deniedResp: number;
  failedRewrites: number;
}

export class Backend {
  readonly name: string;
  readonly servers: Server[];
  readonly lbActive: LbAlgorithm;
  readonly lbBackup: LbAlgorithm;
  readonly queue = new PendingQueue();
  readonly counters: BackendCounters = { ...newCounters(), cur: 0, deniedResp: 0, failedRewrites: 0 };
  /** HTTP rules of the backend section, compiled at start-up (the runtime sets them). */
  rules: import('../proxy/http-rules.js').ProxyHttpRules | null = null;
  /** `use-server` rules; `srv` is null for a dynamic name (`name`), looked up per request. */
  useServerRules: Array<{ srv: Server | null; name: RuleString | null; cond: Condition }> = [];
  /** Streams currently using this backend (beconn). */
  beconn = 0;

  constructor(readonly config: ProxyConfig) {
    this.name = config.name;
    this.lbActive = createLbAlgorithm(config.balance, config.hashType);
    this.lbBackup = createLbAlgorithm(config.balance, config.hashType);
    this.servers = config.servers.map((s) => new Server(s, this));
    // Streams are tracked per server only where a state change may have to kill them.
    const backupShutdown = config.servers.some((s) => s.onMarkedUpShutdownBackups && !s.backup);
    for (const s of this.servers) if (s.config.onMarkedDownShutdown || (backupShutdown && s.backup)) s.streams = new Set();
    for (const s of this.servers) if (s.usable) this.lbOf(s).add(s);
    this.lbActive.initDone?.();
    this.lbBackup.initDone?.();
  }

  private lbOf(s: Server): LbAlgorithm {
    return s.backup ? this.lbBackup : this.lbActive;
  }

  /** Number of usable active and backup servers. */
  get activeCount(): number {
    return this.lbActive.size;
  }
  get backupCount(): number {
    return this.lbBackup.size;
  }

  /**
   * Changes a server's state (control plane only), keeps the algorithms current, and logs the
   * change as HAProxy does ("Server be/s1 is DOWN, reason: ...", "backend be has no server
   * available!"). `cause` is the reason text (a check report, "changed from CLI", ...).
   */
  setServerState(s: Server, state: SrvState, cause?: CheckReport | string): void {
    if (s.state === state) return;
    const prev = s.state;
    const was = this.transition(s, () => (s.state = state));
    if (this.stateLog === null) return;
    // Maintenance is logged by whoever sets it; a change between NOLB and DOWN is logged too.
    const maint = prev === SrvState.Maint || state === SrvState.Maint;
    if (maint ? was === s.usable : false) return;
    const change = this.change(s, cause);
    if (s.usable) this.stateLog(LogLevel.Notice, serverUpMessage(change));
    else if (state === SrvState.Nolb) this.stateLog(LogLevel.Notice, serverStoppingMessage(change));
    else this.stateLog(prev === SrvState.Nolb ? LogLevel.Notice : LogLevel.Alert, serverDownMessage(change));
    this.noServerAlert(s, was);
  }

  /**
   * Administrative state (an agent's `maint`, `drain`, `ready`): maintenance takes the server
   * out and pauses its checks; leaving it, the server is UP unless its checks or agent say
   * otherwise; drain keeps it up without new load-balanced traffic. Logged as HAProxy does.
   */
  setServerAdmin(s: Server, admin: 'maint' | 'drain' | 'ready'): void {
    const inMaint = s.state === SrvState.Maint;
    if (admin === 'maint') {
      if (inMaint) return;
      const prev = s.state;
      const was = this.transition(s, () => (s.state = SrvState.Maint));
      s.check?.pause();
      this.stateLog?.(prev === SrvState.Nolb ? LogLevel.Notice : LogLevel.Alert, serverMaintMessage(this.change(s, undefined)));
      this.noServerAlert(s, was);
      return;
    }
    if (inMaint) {
      // Leaving maintenance: the checks start again from `rise` (UP, checked at once).
      s.check?.resume();
      const up = s.agent?.healthy ?? true;
      this.transition(s, () => {
        s.state = up ? SrvState.Up : SrvState.Down;
        s.drain = admin === 'drain';
      });
      this.stateLog?.(LogLevel.Notice, serverLeavingMessage(this.change(s, undefined), up, 'maintenance', s.drain));
      return;
    }
    if (admin === 'drain' && !s.drain) {
      const was = this.transition(s, () => (s.drain = true));
      this.stateLog?.(LogLevel.Notice, serverDrainMessage(this.change(s, undefined)));
      this.noServerAlert(s, was);
    } else if (admin === 'ready' && s.drain) {
      this.transition(s, () => (s.drain = false));
      this.stateLog?.(LogLevel.Notice, serverLeavingMessage(this.change(s, undefined), s.state !== SrvState.Down, 'drain'));
    }
  }

  /** A new weight (an agent's `N%`): the algorithms take it at once (within any slowstart ramp). */
  setServerWeight(s: Server, uweight: number): void {
    s.uweight = uweight;
    this.recalcWeight(s);
  }

  /**
   * The effective weight from the user weight and the slowstart ramp: dynamic algorithms see it
   * grow from about 1 to the full weight (server_recalc_eweight); static ones only see maxconn
   * ramp.
   */
  private recalcWeight(s: Server): void {
    let w = s.uweight;
    if (s.warmingSince !== 0 && isDynamicLb(this.config.balance, this.config.hashType)) {
      // HAProxy's steps of 1/16 (BE_WEIGHT_SCALE): 1/16 of the weight at once, then linear.
      const ss = s.config.slowstart;
      const steps = Math.min(16, Math.floor((16 * (Date.now() - s.warmingSince) + ss) / ss));
      w = Math.ceil((s.uweight * steps) / 16);
    }
    if (s.eweight === w) return;
    s.eweight = w;
    if (s.usable) this.lbOf(s).weightChanged(s);
  }

  /**
   * `slowstart`: a server coming back (never at start-up) starts with a small share of the
   * traffic and of its maxconn, raised every max(1 s, slowstart/20) until full.
   */
  private warmUp(s: Server): void {
    const ss = s.config.slowstart;
    if (ss <= 0 || !this.started) return;
    s.warmingSince = Date.now();
    const step = (): void => {
      if (!s.usable) {
        s.warmingSince = 0;
        s.eweight = s.uweight;
        return;
      }
      if (Date.now() - s.warmingSince >= ss) s.warmingSince = 0;
      this.recalcWeight(s);
      // A larger maxconn may take requests from the queues.
      this.serveQueue(s, false);
      if (s.warmingSince !== 0) setTimeout(step, Math.max(1000, ss / 20)).unref();
    };
    this.recalcWeight(s);
    setTimeout(step, Math.max(1000, ss / 20)).unref();
  }

  /** Set once the proxy runs: state changes before are the start-up state, without slowstart. */
  started = false;

  /** Requests the last state change moved: requeued (down, drain) or taken from the queue (up). */
  private xferred = 0;

  /**
   * With `option redispatch`, the requests waiting in the queue of a server going down or
   * draining leave it and are balanced again (HAProxy's pendconn_redistribute); without it they
   * wait for the server or their queue timeout. Returns how many moved.
   */
  private redistribute(s: Server): number {
    if (this.config.options.redispatch === undefined) return 0;
    let n = 0;
    for (let p = s.queue.peek(); p !== null; p = s.queue.peek()) {
      s.queue.remove(p);
      s.conns--;
      n++;
      p.requeue();
    }
    return n;
  }

  /**
   * Runs `mutate` on the server and keeps the rest current: the algorithms, the queues, and the
   * streams `on-marked-down` / `on-marked-up` end. Returns whether the server was usable before.
   */
  private transition(s: Server, mutate: () => void): boolean {
    const was = s.usable;
    const wasDraining = s.drain;
    mutate();
    s.lastChange = Date.now();
    this.xferred = 0;
    if (was && !s.usable) {
      this.lbOf(s).remove(s);
      this.xferred = this.redistribute(s);
    } else if (!wasDraining && s.drain) {
      this.xferred = this.redistribute(s);
    } else if (!was && s.usable) {
      this.warmUp(s);
      this.lbOf(s).add(s);
      // `on-marked-up shutdown-backup-sessions`: the backups' streams make way for this server.
      if (s.config.onMarkedUpShutdownBackups && !s.backup && s.eweight > 0) {
        for (const b of this.servers) if (b.backup) b.shutdownStreams(Cause.Up);
      }
      // A server coming back can take requests waiting in the backend queue.
      this.xferred = this.serveQueue(s, false);
    }
    // `on-marked-down shutdown-sessions`: the server's streams end with it ('D').
    if (s.state === SrvState.Down && s.config.onMarkedDownShutdown) s.shutdownStreams(Cause.Down);
    return was;
  }

  private change(s: Server, cause: CheckReport | string | undefined): ServerStateChange {
    return {
      backend: this.name,
      server: s.name,
      backup: s.backup,
      cause,
      activeServers: this.activeCount,
      backupServers: this.backupCount,
      curSess: s.served,
      xferred: this.xferred,
      queued: s.queue.length,
    };
  }

  /** "backend be has no server available!" when `s` was the last usable one. */
  private noServerAlert(s: Server, was: boolean): void {
    if (this.stateLog === null || !was || s.usable || this.activeCount + this.backupCount !== 0) return;
    const kind = this.config.kind === 'listen' ? 'proxy' : 'backend';
    this.stateLog(LogLevel.Emerg, noServerAvailableMessage(kind, this.name), noServerAvailableMessage(kind, this.name, true));
  }

  /** Where server state changes are logged (set by the runtime); null: not logged. */
  stateLog: ((level: LogLevel, msg: string, stderrMsg?: string) => void) | null = null;

  /** The hash key for the configured algorithm, or undefined to fall back to round robin. */
  private hashKey(input: BalanceInput): string | undefined {
    const b = this.config.balance;
    switch (b.algo) {
      case 'source':
        return input.srcIp;
      case 'uri':
        return uriHashKey(input.uri, b);
      case 'url_param':
        return urlParamValue(input.uri, b.param);
      case 'hdr': {
        const v = input.header(b.header.toLowerCase());
        return v === undefined ? undefined : hdrHashKey(v, b.useDomainOnly);
      }
      default:
        return undefined;
    }
  }

  /**
   * Picks a server for a request. `avoid` is the server of the previous attempt on a redispatch.
   * On Assigned, the returned server already counts the request.
   */
  assign(input: BalanceInput | null, avoid: Server | null, p: Pending): { result: AssignResult; server: Server | null } {
    const key = input && this.usesKey() ? this.hashKey(input) : undefined;
    let lb = this.lbActive;
    if (lb.size === 0) {
      lb = this.lbBackup;
      if (lb.size === 0) return { result: AssignResult.NoServer, server: null };
      if (!this.config.options.allbackups) {
        // Only the first usable backup server takes traffic (lowest id).
        const first = this.firstUsableBackup();
        if (first && !first.isFull()) return this.took(first, p);
        // A hash sends every request to that server, to wait in its queue when it is full;
        // other algorithms wait in the backend queue.
        if (first && key !== undefined && avoid === null) return this.queueOn(first, p);
        if (first) return this.enqueue(p);
      }
    }
    if (key !== undefined && avoid === null && lb.home) {
      // Hash affinity: the request stays on its server, waiting in that server's queue when
      // the server is full (bounded by maxqueue).
      const h = lb.home(key) as Server | null;
      if (h) return this.assignTo(h, p);
    }
    const s = lb.pick(key, avoid) as Server | null;
    if (s) return this.took(s, p);
    return this.enqueue(p);
  }

  /**
   * `use-server`: the request goes to `s` (usable), waiting in its queue when it is full, unless
   * that queue is full too.
   */
  assignTo(s: Server, p: Pending): { result: AssignResult; server: Server | null } {
    if (!s.isFull()) return this.took(s, p);
    return this.queueOn(s, p);
  }

  /** Waits in the queue of `s` (full), unless that queue is full too (maxqueue). */
  private queueOn(s: Server, p: Pending): { result: AssignResult; server: Server | null } {
    if (!s.queueHasRoom()) return { result: AssignResult.QueueFull, server: null };
    s.enqueue(p);
    return { result: AssignResult.Queued, server: null };
  }

  private usesKey(): boolean {
    const a = this.config.balance.algo;
    return a === 'source' || a === 'uri' || a === 'url_param' || a === 'hdr';
  }

  private firstUsableBackup(): Server | null {
    for (const s of this.servers) if (s.backup && s.usable) return s;
    return null;
  }

  private took(s: Server, p: Pending): { result: AssignResult; server: Server } {
    s.take(p);
    s.counters.lbtot++;
    this.lbOf(s).taken(s);
    return { result: AssignResult.Assigned, server: s };
  }

  private enqueue(p: Pending): { result: AssignResult; server: null } {
    this.queue.push(p);
    if (this.queue.length > this.counters.qmax) this.counters.qmax = this.queue.length;
    return { result: AssignResult.Queued, server: null };
  }

  /** Removes a pending request from whichever queue holds it (abort or queue timeout). */
  dequeueAbort(p: Pending): void {
    const q = p.qOwner;
    if (q === null) return;
    q.remove(p);
    if (q.server !== null) q.server.conns--;
  }

  /** A request on `s` ended (its counts were already decremented). */
  requestEnded(s: Server): void {
    if (s.usable) this.lbOf(s).released(s);
    this.serveQueue(s);
  }

  /**
   * Hands free slots of `s` to the oldest requests waiting on it or in the backend queue.
   * `advance` false: a server coming up or warming takes them, which moves nobody up in the
   * queues (HAProxy's pendconn_grab_from_px, unlike a slot freed by a request). Returns how
   * many came from the backend queue.
   */
  serveQueue(s: Server, advance = true): number {
    let fromBackend = 0;
    while (s.usable && (s.config.maxconn === 0 || s.served < s.config.maxconn)) {
      const sp = s.queue.peek();
      const bp = this.queue.peek();
      let p: Pending | null;
      if (sp && (!bp || sp.qSince <= bp.qSince)) {
        s.queue.serve(sp, advance);
        s.conns--;
        p = sp;
      } else if (bp) {
        this.queue.serve(bp, advance);
        p = bp;
        fromBackend++;
      } else {
        break;
      }
      s.take(p);
      this.lbOf(s).taken(s);
      p.dequeued(s);
    }
    return fromBackend;
  }

  /** Total requests waiting (backend queue plus servers' queues). */
  get queued(): number {
    let n = this.queue.length;
    for (const s of this.servers) n += s.queue.length;
    return n;
  }

  /** Finds a server by name. */
  server(name: string): Server | undefined {
    return this.servers.find((s) => s.name === name);
  }
}
