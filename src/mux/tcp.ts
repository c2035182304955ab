// `mode tcp`: one client connection bound to one server connection, bytes forwarded both ways
// with backpressure. Server choice, queueing and connection retries follow the same rules as
// HTTP; half-closes are forwarded, and `timeout client-fin` / `server-fin` bound them.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { serverConnectOptions, type TlsInfo } from '../net/tls.js';
import { TcpRuleCtx } from '../stream/tcp-ctx.js';
import { proxyHeader } from '../net/proxy-protocol.js';
import { AssignResult, Observed, type Backend, type Pending, type PendingQueue, type Server } from '../backend/index.js';
import { Cause, Phase, termState } from '../core/errors.js';
import { newTimer, wheel, type Timer } from '../core/timer.js';
import { connLogRecord, setQueuePlaces, setServer, setTls } from '../stream/log-record.js';
import type { Frontend, FrontConn } from '../proxy/frontend.js';
import { afterConnectFailure, RetryDecision, retryPause } from '../stream/retry.js';
import { stripV4Mapped } from './h1-front.js';

const enum St {
  Queued = 0,
  Connecting = 1,
  Established = 2,
  Done = 3,
}

export class TcpSession implements FrontConn, Pending {
  private st = St.Connecting;
  private srv: Server | null = null;
  private prevSrv: Server | null = null;
  private server: net.Socket | null = null;
  private readonly be: Backend | null;
  private retriesLeft: number;
  private retries = 0;
  private redispatched = false;
  private readonly timer: Timer;
  private timerFor: 'queue' | 'connect' | 'retry' | 'idle' = 'idle';
  private clientEnded = false;
  private serverEnded = false;
  private bytesIn = 0;
  private bytesOut = 0;
  private tQueued = -1;
  private tw = -1;
  private tc = -1;
  private tConnStart = 0;
  private lastSrv: Server | null = null;
  /** Client bytes received before the server connection was up. */
  private early: Buffer[] = [];
  private readonly clientIp: string;
  private readonly clientPort: number;
  private readonly localIp: string;
  private readonly localPort: number;
  private readonly acceptDate: number;
  /** The TCP connection to the server is up (a failure now is the TLS handshake's). */
  private transportUp = false;
  /** What a server's `sni` expression reads, made on first use. */
  private ruleCtx: TcpRuleCtx | null = null;
  qPrev: Pending | null = null;
  qNext: Pending | null = null;
  qOwner: PendingQueue | null = null;
  qSince = 0;
  qServedAtPush = 0;
  qSrvPos = 0;
  qBePos = 0;

  constructor(
    private readonly fe: Frontend,
    private readonly client: net.Socket,
    /** Over TLS (`bind ... ssl`): the session, and the addresses read before the handshake. */
    private readonly tls: TlsInfo | null = null,
    addrs?: { clientIp: string; clientPort: number; localIp: string; localPort: number },
    acceptDate = Date.now(),
  ) {
    this.be = fe.defaultBackend;
    this.retriesLeft = this.be?.config.retries ?? 0;
    this.acceptDate = acceptDate;
    this.clientIp = addrs?.clientIp ?? stripV4Mapped(client.remoteAddress ?? '');
    this.clientPort = addrs?.clientPort ?? client.remotePort ?? 0;
    this.localIp = addrs?.localIp ?? stripV4Mapped(client.localAddress ?? '');
    this.localPort = addrs?.localPort ?? client.localPort ?? 0;
    this.timer = newTimer(() => this.onTimeout());
    client.on('data', (d: Buffer) => this.onClientData(d));
    client.on('end', () => this.onClientEnd());
    client.on('error', () => this.finish(Cause.ClientAbort, this.phaseNow()));
    client.on('close', () => this.finish(this.clientEnded || this.st === St.Done ? Cause.None : Cause.ClientAbort, this.phaseNow()));
    client.on('drain', () => this.server?.resume());
    if (fe.logger?.logsAtAccept) fe.logger.accepted(connLogRecord(fe, this.clientIp, this.clientPort, this.localIp, this.localPort, this.acceptDate));
    // Start after the frontend has registered this session, since it may end at once.
    queueMicrotask(() => this.start());
  }

  private start(): void {
    if (this.st === St.Done) return;
    if (this.be === null) {
      this.finish(Cause.ServerAbort, Phase.Connect);
      return;
    }
    this.be.beconn++;
    this.be.counters.cur++;
    this.be.counters.stot++;
    this.assign();
  }

  private phaseNow(): Phase {
    return this.st === St.Queued ? Phase.Queue : this.st === St.Connecting ? Phase.Connect : Phase.Data;
  }

  private assign(): void {
    const be = this.be!;
    const ip = this.clientIp;
    const { result, server } = be.assign({ srcIp: ip, uri: '', header: () => undefined }, this.prevSrv, this);
    if (result === AssignResult.Assigned) {
      this.srv = server;
      this.tw = this.tQueued < 0 ? 0 : Date.now() - this.tQueued;
      this.connect();
    } else if (result === AssignResult.Queued) {
      this.st = St.Queued;
      if (this.tQueued < 0) this.tQueued = Date.now();
      const t = be.config.timeouts;
      this.armTimer('queue', t.queue ?? t.connect);
    } else {
      this.finish(Cause.ServerAbort, result === AssignResult.QueueFull ? Phase.Queue : Phase.Connect);
    }
  }

  /** Pending: the server we waited for went down; balanced again, logged as a redispatch ('+'). */
  requeue(): void {
    if (this.st !== St.Queued) return;
    this.redispatched = true;
    this.assign();
  }

  dequeued(srv: Server): void {
    if (this.st !== St.Queued) {
      srv.release(this);
      return;
    }
    this.srv = srv;
    this.tw = Date.now() - this.tQueued;
    this.connect();
  }

  private connect(): void {
    const srv = this.srv!;
    this.st = St.Connecting;
    this.tConnStart = Date.now();
    const port = srv.port || this.localPort;
    let sock: net.Socket;
    if (srv.tls !== null) {
      const sni = srv.sni !== null ? srv.sni.render((this.ruleCtx ??= new TcpRuleCtx(this.fe, this.be, this.clientIp, this.clientPort, this.localIp, this.localPort, this.tls))) : '';
      // allowHalfOpen (passed on to the TLSSocket by node, absent from its typings): a FIN is forwarded, not answered.
      sock = tls.connect({ ...serverConnectOptions(srv.tls, srv.host, port, sni === '' ? undefined : sni, srv.tls.alpn), allowHalfOpen: true } as tls.ConnectionOptions);
      sock.setNoDelay(true);
    } else {
      sock = net.connect({ host: srv.host, port, family: srv.family, noDelay: true, allowHalfOpen: true });
      // `send-proxy`: the client's addresses first, before anything the client sent.
      const v = srv.config.sendProxy;
      if (v !== undefined) sock.write(proxyHeader(v, this.clientIp, this.clientPort, this.localIp, this.localPort));
    }
    this.server = sock;
    this.transportUp = false;
    sock.once('connect', () => {
      if (this.server === sock) this.transportUp = true;
    });
    sock.once(srv.tls !== null ? 'secureConnect' : 'connect', () => {
      if (this.server !== sock || this.st !== St.Connecting) return;
      this.st = St.Established;
      this.tc = Date.now() - this.tConnStart;
      srv.observe(Observed.L4Ok);
      for (const b of this.early) sock.write(b);
      this.early = [];
      if (this.clientEnded) sock.end();
      this.armIdle();
      this.client.resume();
    });
    sock.on('data', (d: Buffer) => this.onServerData(d));
    sock.on('end', () => this.onServerEnd());
    sock.on('error', () => this.onServerError(sock));
    sock.on('close', () => this.onServerClosed(sock));
    sock.on('drain', () => this.client.resume());
    this.armTimer('connect', this.be!.config.timeouts.connect);
  }

  private armTimer(what: 'queue' | 'connect' | 'retry' | 'idle', ms: number | undefined): void {
    this.timerFor = what;
    wheel.arm(this.timer, ms);
  }

  /** Inactivity: `timeout tunnel` when set, else the client/server timeouts (smallest). */
  private armIdle(): void {
    const ft = this.fe.config.timeouts;
    const bt = this.be!.config.timeouts;
    let ms = bt.tunnel ?? ft.tunnel;
    if (ms === undefined) {
      const c = this.clientEnded ? (ft.clientFin ?? ft.client) : ft.client;
      const s = this.serverEnded ? (bt.serverFin ?? bt.server) : bt.server;
      ms = c === undefined ? s : s === undefined ? c : Math.min(c, s);
    }
    this.armTimer('idle', ms);
  }

  private onTimeout(): void {
    switch (this.timerFor) {
      case 'queue':
        if (this.st === St.Queued) this.finish(Cause.ServerTimeout, Phase.Queue);
        return;
      case 'connect':
        if (this.st === St.Connecting) this.connectFailed(Cause.ServerTimeout);
        return;
      case 'retry':
        if (this.st === St.Connecting) this.connect();
        return;
      case 'idle':
        if (this.st === St.Established) this.finish(Cause.ClientTimeout, Phase.Data);
        return;
    }
  }

  private onClientData(d: Buffer): void {
    this.bytesIn += d.length;
    if (this.st === St.Established) {
      if (!this.server!.write(d)) this.client.pause();
      this.armIdle();
    } else {
      this.early.push(d);
      this.client.pause();
    }
  }

  private onServerData(d: Buffer): void {
    this.bytesOut += d.length;
    if (!this.client.write(d)) this.server!.pause();
    this.armIdle();
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.st === St.Established) {
      this.server!.end();
      if (this.serverEnded) this.finish(Cause.None, Phase.None);
      else this.armIdle();
    }
    // Before the server connection is up, the FIN is forwarded once it is (as HAProxy does);
    // but a client that leaves empty-handed during the pause between attempts is not worth one.
    else if (this.bytesIn === 0 && this.st === St.Connecting && this.timerFor === 'retry') this.finish(Cause.ClientAbort, Phase.Connect);
  }

  private onServerEnd(): void {
    this.serverEnded = true;
    this.client.end();
    if (this.clientEnded) this.finish(Cause.None, Phase.None);
    else this.armIdle();
  }

  private onServerError(sock: net.Socket): void {
    if (this.server !== sock) return;
    if (this.st === St.Connecting) this.connectFailed(Cause.ServerAbort);
    else this.finish(Cause.ServerAbort, Phase.Data);
  }

  private onServerClosed(sock: net.Socket): void {
    if (this.server !== sock || this.st === St.Done) return;
    if (this.st === St.Connecting) this.connectFailed(Cause.ServerAbort);
    else if (!this.serverEnded) this.finish(Cause.ServerAbort, Phase.Data);
  }

  private connectFailed(cause: Cause): void {
    const sock = this.server;
    this.server = null;
    sock?.destroy();
    const be = this.be!;
    const pause = retryPause(be, cause === Cause.ServerTimeout, this.transportUp);
    const srv = this.srv!;
    const d = afterConnectFailure(srv, be, this.retriesLeft);
    if (d === RetryDecision.GiveUp) {
      this.finish(cause, Phase.Connect);
      return;
    }
    this.retriesLeft--;
    this.retries++;
    if (d === RetryDecision.Redispatch) {
      this.redispatched = true;
      this.prevSrv = srv;
      this.srv = null;
      srv.release(this);
      this.assign();
      return;
    }
    if (pause === 0) this.connect();
    else this.armTimer('retry', pause);
  }

  private finish(cause: Cause, phase: Phase): void {
    if (this.st === St.Done) return;
    const wasQueued = this.st === St.Queued;
    this.st = St.Done;
    wheel.disarm(this.timer);
    const be = this.be;
    if (wasQueued && be) be.dequeueAbort(this);
    if (this.server) {
      if (cause === Cause.None) this.server.end();
      else this.server.destroy();
    }
    if (cause === Cause.None) this.client.end();
    else this.client.destroy();
    if (this.srv) {
      const srv = this.srv;
      srv.counters.bin += this.bytesIn;
      srv.counters.bout += this.bytesOut;
      if (cause === Cause.ClientAbort) srv.counters.cliAbrt++;
      this.lastSrv = srv;
      this.srv = null;
      srv.release(this);
    }
    if (be) {
      be.beconn--;
      be.counters.cur--;
      be.counters.bin += this.bytesIn;
      be.counters.bout += this.bytesOut;
    }
    this.fe.counters.bin += this.bytesIn;
    this.fe.counters.bout += this.bytesOut;
    this.log(termState(cause, phase));
    this.fe.closed(this);
  }

  private log(ts: string): void {
    const lg = this.fe.logger;
    if (!lg) return;
    if (this.fe.config.options.dontlognull && this.bytesIn === 0) return;
    const now = Date.now();
    const rec = connLogRecord(this.fe, this.clientIp, this.clientPort, this.localIp, this.localPort, this.acceptDate);
    setTls(rec, this.tls);
    if (this.be) rec.backendName = this.be.name;
    setServer(rec, this.lastSrv);
    rec.Tw = this.tw;
    rec.Tc = this.tc;
    rec.Ta = rec.Tt = now - this.acceptDate;
    rec.bytesOut = this.bytesOut;
    rec.bytesIn = this.bytesIn;
    rec.termState = ts;
    rec.retries = this.retries;
    rec.redispatched = this.redispatched;
    setQueuePlaces(rec, this);
    lg.traffic(rec);
  }

  softStop(): void {
    // TCP sessions have no exchange boundary: they run until either side closes.
  }

  /** Ends the session: a hard stop ('K'), or a server state change (on-marked-down 'D', on-marked-up 'U'). */
  kill(cause: Cause = Cause.Killed): void {
    this.finish(cause, this.phaseNow());
  }
}
