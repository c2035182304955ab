// The server side of HTTP/2: connections to a server (h2c, node:http2 client sessions on sockets
// we open) shared by the requests of several Streams (h2s), within the server's advertised
// stream limit, `tune.h2.be.max-concurrent-streams`, `max-reuse` and `http-reuse`. A stream
// refused by the server (REFUSED_STREAM, or beyond a GOAWAY's last stream) says so, so that the
// request can go again on another connection; a connection that dies fails its streams, each
// through its own Stream, and is never offered again.

import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { serverConnectOptions, type ServerTls } from '../net/tls.js';
import type { Server } from '../backend/index.js';
import type { HttpReuse } from '../config/model.js';
import { BodyKind, type HtxHeaders, type HtxRequest } from '../htx/index.js';
import { H1ErrorKind, type H1Hop } from '../proto/h1/index.js';
import { requestToH2, responseFromH2, trailersFromH2 } from '../proto/h2/index.js';
import { endWithTrailers, onEndStream } from './h2-stream-util.js';
import type { ServerOwner, ServerSide } from '../stream/sides.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;

/** The HTTP/2 settings sluice uses towards servers (tune.h2.be.*, shared ones). */
export interface H2BackTune {
  headerTableSize: number;
  maxFrameSize: number;
  initialWindowSize: number;
  maxConcurrentStreams: number;
}

/** One HTTP/2 connection to a server. */
export class H2BackSession {
  /** The node:http2 session, started once the transport is there (after ALPN over TLS). */
  session: http2.ClientHttp2Session | null = null;
  readonly socket: net.Socket;
  connected = false;
  /** No new stream: the server sent GOAWAY, the connection failed, or it was retired. */
  dead = false;
  /**
   * The server chose http/1.1 by ALPN: the connection is not HTTP/2; its socket goes to the
   * first of its streams that asks (takeSocket), the others open HTTP/1 connections.
   */
  handedOver = false;
  /** The TCP connection is established (a failure after it is the TLS handshake's). */
  transportUp = false;
  /** Streams opened on this connection so far, and open now. */
  opened = 0;
  active = 0;
  /** The client connection it is reserved to while it carries streams (http-reuse safe/never). */
  owner: object | null = null;
  /** `http-reuse never`: it stays with its client connection for good, and closes with it. */
  isPrivate = false;
  idleSince = 0;
  /** The server's SETTINGS arrived: its stream limit is known. */
  private gotSettings = false;
  private readonly waiting: Array<{ ok: () => void; fail: () => void }> = [];

  /** The scheme of the requests (https over TLS). */
  readonly scheme: string;

  constructor(
    readonly server: Server,
    readonly pool: H2Pool,
    host: string,
    port: number,
    private readonly tune: H2BackTune,
    /** The name it was opened for (SNI): it carries requests for that name only. */
    readonly name: string,
    t: ServerTls | null,
    /** A TLS connection already open on which the server chose h2 (see H1BackConn.switched). */
    adopted: tls.TLSSocket | null = null,
  ) {
    this.scheme = t !== null ? 'https' : 'http';
    const authority = `${this.scheme}://${host}:${port}`;
    if (adopted !== null) {
      this.socket = adopted;
      this.transportUp = true;
      this.start(authority);
      return;
    }
    // Over TLS, h2 is offered by ALPN (the server's own `alpn` list when it has one).
    const socket: net.Socket = t !== null
      ? tls.connect(serverConnectOptions(t, host, port, name === '' ? undefined : name, t.alpn ?? ['h2']))
      : net.connect({ host, port, family: server.family, noDelay: true });
    this.socket = socket;
    socket.once('connect', () => (this.transportUp = true));
    if (t === null || server.mux !== 'alpn') {
      this.start(authority);
      return;
    }
    // The server's ALPN choice decides: h2 starts the session, anything else hands the socket over.
    socket.on('error', () => {});
    socket.once('close', () => this.onClose());
    socket.once('secureConnect', () => {
      const h2 = (socket as tls.TLSSocket).alpnProtocol === 'h2';
      server.alpnH2 = h2;
      if (h2) this.start(authority);
      else this.handOver();
    });
  }

  /** Starts HTTP/2 on the socket (node waits for it to connect when it has not yet). */
  private start(authority: string): void {
    const tune = this.tune;
    const mcs = tune.maxConcurrentStreams;
    const socket = this.socket;
    const s = http2.connect(authority, {
      createConnection: () => socket,
      settings: {
        headerTableSize: tune.headerTableSize,
        initialWindowSize: tune.initialWindowSize,
        maxFrameSize: tune.maxFrameSize,
        enablePush: false,
        maxConcurrentStreams: mcs === 0 ? 0xffffffff : mcs,
      },
      // Streams beyond the server's limit wait in nghttp2 rather than fail.
      peerMaxConcurrentStreams: mcs === 0 ? 100 : mcs,
    });
    this.session = s;
    // Requests wait for the server's SETTINGS: sent earlier, streams beyond its limit would be
    // refused, and nghttp2 queues them itself once it knows the limit.
    s.on('connect', () => {
      this.connected = true;
      this.flushWaiting();
    });
    s.once('remoteSettings', (st: http2.Settings) => {
      this.gotSettings = true;
      if (st.maxConcurrentStreams !== undefined) this.pool.learnLimit(st.maxConcurrentStreams);
      this.flushWaiting();
    });
    s.on('error', () => {});
    s.on('goaway', () => this.retire());
    s.on('close', () => this.onClose());
  }

  private onClose(): void {
    if (this.handedOver) return;
    this.retire();
    // Requests waiting for the connection learn that it failed.
    for (const w of this.waiting.splice(0)) w.fail();
  }

  /** The server chose HTTP/1.1: the waiting streams learn it; a socket nobody takes is closed. */
  private handOver(): void {
    this.handedOver = true;
    this.retire();
    for (const w of this.waiting.splice(0)) w.fail();
    if (!this.socketTaken) this.socket.destroy();
  }

  private socketTaken = false;

  /** The socket of a connection handed over, to the first stream that asks; then null. */
  takeSocket(): tls.TLSSocket | null {
    if (!this.handedOver || this.socketTaken || this.socket.destroyed) return null;
    this.socketTaken = true;
    return this.socket as tls.TLSSocket;
  }

  /** Connected and the server's SETTINGS known: requests may go. */
  get ready(): boolean {
    return this.connected && this.gotSettings;
  }

  private flushWaiting(): void {
    if (this.ready) for (const w of this.waiting.splice(0)) w.ok();
  }

  /** A limit learned from streams the server refused. */
  private cap = Infinity;

  capAt(n: number): void {
    this.cap = Math.max(1, Math.min(this.cap, n));
  }

  /** How many more streams this connection may carry now. */
  room(limit: number, maxReuse: number): number {
    const s = this.session;
    if (this.dead || (s !== null && (s.destroyed || s.closed))) return 0;
    limit = Math.min(limit, this.cap);
    // Until the server's SETTINGS arrive, the limit its last connection announced is assumed.
    const remote = this.gotSettings ? (s!.remoteSettings.maxConcurrentStreams ?? limit) : this.pool.knownLimit;
    let n = Math.min(remote, limit) - this.active;
    // max-reuse counts reuses: a connection carries at most max-reuse + 1 requests.
    if (maxReuse >= 0) n = Math.min(n, maxReuse + 1 - this.opened);
    return n;
  }

  whenConnected(ok: () => void, fail: () => void): void {
    if (this.ready) ok();
    else if (this.dead) queueMicrotask(fail);
    else this.waiting.push({ ok, fail });
  }

  /** No new stream goes on this connection; it closes once its streams are done. */
  retire(): void {
    if (!this.dead) {
      this.dead = true;
      this.pool.forget(this);
    }
    if (this.active === 0) this.destroy();
  }

  destroy(): void {
    this.dead = true;
    this.pool.forget(this);
    const s = this.session;
    if (s !== null) {
      if (!s.destroyed) s.destroy();
    } else if (!this.handedOver) {
      this.socket.destroy();
    }
  }

  /** A stream of this connection ended. */
  streamDone(): void {
    this.active--;
    if (this.active > 0) return;
    if (!this.isPrivate) this.owner = null;
    if (this.dead) this.destroy();
    else this.pool.idle(this);
  }
}

/**
 * The HTTP/2 connections of one server. `http-reuse` decides which a request may share: `never`
 * only its own client connection's, `safe` any idle one except for a client's first request (a
 * connection carrying streams stays with its client), `aggressive` and `always` any with room.
 */
export class H2Pool {
  private readonly sessions: H2BackSession[] = [];
  private purgeTimer: NodeJS.Timeout | null = null;
  /** The stream limit the server's last SETTINGS announced (none yet: unlimited). */
  knownLimit = 0xffffffff;

  constructor(
    private readonly server: Server,
    private readonly tune: H2BackTune,
    private readonly maxIdle: number,
    private readonly purgeDelay: number,
    private readonly maxReuse: number,
  ) {}

  learnLimit(n: number): void {
    this.knownLimit = n;
  }

  /** Idle connections (no stream), for stats and the leak checks of the tests. */
  get idleCount(): number {
    let n = 0;
    for (const s of this.sessions) if (s.active === 0) n++;
    return n;
  }

  /** A connection a new request for `name` may use under `policy`, or null. */
  private find(policy: HttpReuse, firstRequest: boolean, client: object, name: string): H2BackSession | null {
    const limit = this.tune.maxConcurrentStreams || 0xffffffff;
    for (const s of this.sessions) {
      if (s.name !== name || s.room(limit, this.maxReuse) <= 0) continue;
      if (s.owner === client) return s;
      if (s.owner !== null && policy !== 'always' && policy !== 'aggressive') continue;
      if (policy === 'never' || (policy === 'safe' && firstRequest)) continue;
      return s;
    }
    return null;
  }

  /** Opens a stream for a request of `client`, on a shared connection or a new one. */
  open(owner: ServerOwner, policy: HttpReuse, firstRequest: boolean, client: object, host: string, port: number, name: string): H2BackStream {
    const s = this.find(policy, firstRequest, client, name) ?? this.add(new H2BackSession(this.server, this, host, port, this.tune, name, this.server.tls), policy);
    return this.streamOn(s, owner, policy, client);
  }

  /** A stream on a new connection over `socket`, a TLS connection on which the server chose h2. */
  adopt(socket: tls.TLSSocket, owner: ServerOwner, policy: HttpReuse, client: object, host: string, port: number, name: string): H2BackStream {
    const s = this.add(new H2BackSession(this.server, this, host, port, this.tune, name, this.server.tls, socket), policy);
    return this.streamOn(s, owner, policy, client);
  }

  private add(s: H2BackSession, policy: HttpReuse): H2BackSession {
    s.isPrivate = policy === 'never';
    this.sessions.push(s);
    return s;
  }

  private streamOn(s: H2BackSession, owner: ServerOwner, policy: HttpReuse, client: object): H2BackStream {
    if (s.active === 0 || policy === 'safe' || policy === 'never') s.owner = client;
    s.active++;
    s.opened++;
    return new H2BackStream(s, owner);
  }

  /** A connection carries no stream any more: keep it within pool-max-conn, or close it. */
  idle(s: H2BackSession): void {
    s.idleSince = Date.now();
    if (this.maxIdle >= 0 && this.idleCount > this.maxIdle) {
      s.destroy();
      return;
    }
    if (this.maxReuse >= 0 && s.opened > this.maxReuse) {
      s.destroy();
      return;
    }
    if (this.purgeDelay === 0) {
      setImmediate(() => {
        if (s.active === 0) s.destroy();
      });
    } else if (this.purgeTimer === null) {
      this.purgeTimer = setInterval(() => this.purge(), this.purgeDelay);
      this.purgeTimer.unref();
    }
  }

  forget(s: H2BackSession): void {
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
  }

  /** Closes half of the idle connections, oldest first (pool-purge-delay), as for HTTP/1. */
  purge(): void {
    const idle = this.sessions.filter((s) => s.active === 0).sort((a, b) => a.idleSince - b.idleSince);
    for (const s of idle.slice(0, Math.ceil(idle.length / 2))) s.destroy();
    if (this.sessions.length === 0 && this.purgeTimer !== null) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = null;
    }
  }

  closeAll(): void {
    for (const s of [...this.sessions]) s.retire();
    if (this.purgeTimer !== null) {
      clearInterval(this.purgeTimer);
      this.purgeTimer = null;
    }
  }
}

/** One request on an HTTP/2 server connection: the server side of one Stream. */
export class H2BackStream implements ServerSide {
  readonly multiplexed = true;
  readonly server: Server;
  readonly uses: number;
  private owner: ServerOwner | null = null;
  private st: http2.ClientHttp2Stream | null = null;
  private method = 'GET';
  responseStarted = false;
  refused = false;
  /** The response ended; the request was sent whole (END_STREAM). */
  private ended = false;
  private reqEnded = false;
  private trailers: HtxHeaders | undefined;
  private released = false;

  constructor(
    readonly session: H2BackSession,
    owner: ServerOwner,
  ) {
    this.server = session.server;
    this.uses = session.opened;
    this.owner = owner;
  }

  get connected(): boolean {
    return this.session.ready;
  }

  get reusable(): boolean {
    return !this.session.dead;
  }

  get transportUp(): boolean {
    return this.session.transportUp;
  }

  /** The server chose http/1.1 by ALPN: the request goes over HTTP/1 (see H2BackSession.takeSocket). */
  get switched(): boolean {
    return this.session.handedOver;
  }

  whenConnected(cb: () => void): void {
    this.session.whenConnected(cb, () => {
      // The stream's owner sees `switched` and moves to HTTP/1; not a failure.
      if (this.session.handedOver) {
        cb();
        return;
      }
      this.refused = true;
      this.owner?.onServerClose(new Error('connection failed'));
    });
  }

  attach(owner: ServerOwner, method: string): void {
    this.owner = owner;
    this.method = method;
  }

  sendRequest(req: HtxRequest, hop: H1Hop, body: readonly Buffer[], ended: boolean, trailers: HtxHeaders | undefined): boolean {
    const bodyless = hop.framing === BodyKind.None || (ended && body.length === 0 && (trailers === undefined || trailers.length === 0));
    let st: http2.ClientHttp2Stream;
    try {
      st = this.session.session!.request(requestToH2(req, this.session.scheme), { endStream: bodyless, waitForTrailers: !bodyless });
    } catch {
      // The connection went away between the choice and the request: refused, never sent.
      this.refused = true;
      queueMicrotask(() => this.owner?.onServerClose(new Error('connection closed')));
      return true;
    }
    this.st = st;
    if (bodyless) this.reqEnded = true;
    st.on('response', (_h: http2.IncomingHttpHeaders, flags: number, raw?: string[]) => this.onHead(raw ?? [], (flags & NGHTTP2_FLAG_END_STREAM) !== 0));
    st.on('headers', (_h: http2.IncomingHttpHeaders, flags: number, raw?: string[]) => this.onHead(raw ?? [], (flags & NGHTTP2_FLAG_END_STREAM) !== 0));
    st.on('data', (d: Buffer) => {
      this.responseStarted = true;
      this.owner?.onServerData(d);
      this.owner?.endServerBatch();
    });
    st.on('trailers', (_h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => {
      if (raw !== undefined) this.owner?.onServerTrailers(trailersFromH2(raw));
    });
    onEndStream(st, () => {
      if (this.ended) return;
      this.ended = true;
      this.owner?.onServerEnd();
    });
    st.on('wantTrailers', () => endWithTrailers(st, this.trailers, NGHTTP2_CANCEL));
    st.on('drain', () => this.owner?.onServerDrain());
    st.on('error', () => {});
    st.on('close', () => this.onClose());
    let ok = true;
    if (!bodyless) {
      for (const b of body) ok = st.write(b) && ok;
      if (ended) this.sendEnd(trailers);
    }
    return ok;
  }

  private onHead(raw: string[], endStream: boolean): void {
    this.responseStarted = true;
    const o = this.owner;
    if (o === null) return;
    const res = responseFromH2(raw, this.method === 'HEAD');
    if (typeof res === 'string') {
      o.onServerParseError(H1ErrorKind.Syntax, res);
      return;
    }
    o.beginServerBatch();
    o.onServerResponse(res);
    // A response ends with its head when bodyless or when the HEADERS frame carried END_STREAM.
    if ((res.bodyKind === BodyKind.None || endStream) && res.status >= 200 && this.owner === o && !this.ended) {
      this.ended = true;
      o.onServerEnd();
    }
    o.endServerBatch();
  }

  private onClose(): void {
    const st = this.st;
    if (st !== null && st.rstCode === NGHTTP2_REFUSED_STREAM && !this.responseStarted) {
      this.refused = true;
      // The server takes fewer streams than were sent (before its SETTINGS were known, or it
      // lowered its limit): no more than it carries now goes to this connection.
      this.session.capAt(this.session.active - 1);
    }
    // The slot is given back first, so that a retry sees the connection as it is now.
    this.release();
    const o = this.owner;
    if (o !== null && !this.ended) o.onServerClose(st !== null && st.rstCode !== 0 ? new Error(`RST_STREAM ${st.rstCode}`) : undefined);
  }

  sendData(b: Buffer): boolean {
    const st = this.st;
    if (st === null || st.destroyed || this.reqEnded) return true;
    return st.write(b);
  }

  sendEnd(trailers: HtxHeaders | undefined): void {
    const st = this.st;
    if (st === null || st.destroyed || this.reqEnded) return;
    this.reqEnded = true;
    this.trailers = trailers;
    st.end();
  }

  pause(): void {
    this.st?.pause();
  }

  resume(): void {
    this.st?.resume();
  }

  sendRaw(b: Buffer): boolean {
    return this.sendData(b);
  }

  endRaw(): void {
    this.sendEnd(undefined);
  }

  detach(): void {
    this.owner = null;
    const st = this.st;
    // A response not read to its end: the stream is cancelled, the connection goes on.
    if (st !== null && !st.closed && !st.destroyed && !(this.ended && this.reqEnded)) st.close(NGHTTP2_CANCEL);
    if (st === null || st.closed || st.destroyed) this.release();
  }

  close(_graceful = true): void {
    // A finished stream closed again is the private connection of a client that went away.
    if (this.released && this.session.isPrivate) {
      this.session.retire();
      return;
    }
    const st = this.st;
    if (st !== null && !st.closed && !st.destroyed) st.close(NGHTTP2_CANCEL);
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.session.streamDone();
  }
}
