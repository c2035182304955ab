// The server side of HTTP/1: one connection to a server (h1c) carrying one request at a time
// (h1s). While a Stream owns it, parser events go to that Stream; while idle it sits in its
// server's pool, and any byte or close from the server retires it.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { BodyKind, type HtxHeaders, type HtxRequest, type HtxResponse } from '../htx/index.js';
import {
  chunkEnd,
  chunkHeader,
  H1ErrorKind,
  H1Parser,
  lastChunk,
  serializeRequestHead,
  type H1Hop,
  type H1Limits,
  type H1ParserEvents,
} from '../proto/h1/index.js';
import type { Server } from '../backend/index.js';
import type { ServerOwner, ServerSide } from '../stream/sides.js';

/** What a Stream implements to receive a server connection's events. */
export type H1BackOwner = ServerOwner;

const READ_BUFFER = Buffer.allocUnsafe(65536);

export class H1BackConn implements H1ParserEvents, ServerSide {
  readonly multiplexed = false;
  readonly refused = false;
  readonly parser: H1Parser;
  owner: H1BackOwner | null = null;
  /** Requests sent over this connection so far. */
  uses = 0;
  /** When it became idle (ms), for purging. */
  idleSince = 0;
  /** The client connection this one is reserved for (http-reuse never), or null. */
  privateTo: object | null = null;
  connected = false;
  closed = false;
  /** The server closed its side (FIN received): not reusable. */
  peerEnded = false;
  /** Counted in its pool's `used` (between attach and detach). */
  private inUse = false;
  /** Position in the pool's idle list, -1 when not idle. */
  idleIndex = -1;
  onIdleClose: ((c: H1BackConn) => void) | null = null;
  /** Framing of the request body being sent. */
  private reqFraming: BodyKind = BodyKind.None;

  constructor(
    readonly socket: net.Socket,
    readonly server: Server,
    limits: H1Limits,
  ) {
    this.parser = new H1Parser(false, this, limits);
    socket.setNoDelay(true);
    socket.on('end', this.onEndL);
    socket.on('error', this.onErrorL);
    socket.on('close', this.onCloseL);
    socket.on('drain', this.onDrainL);
    socket.once('connect', () => (this.transportUp = true));
  }

  transportUp = false;

  private readonly onEndL = (): void => this.onSocketEnd();
  private readonly onErrorL = (e: Error): void => this.onSocketClose(e);
  private readonly onCloseL = (): void => this.onSocketClose(undefined);
  private readonly onDrainL = (): void => this.owner?.onServerDrain();

  /** The name the connection was opened for (its SNI): pooled connections are reused for it only. */
  connName = '';
  /** The event that says the connection is ready: 'connect', or 'secureConnect' over TLS. */
  private readyEvent = 'connect';

  /**
   * Opens a TLS connection with `opts` (tls.connect options); reads come as 'data' events. When
   * the server's ALPN decides the protocol (`server.mux` 'alpn') and it chooses h2, nothing is
   * read: the connection is `switched` and its socket goes to an HTTP/2 session.
   */
  static connectTls(server: Server, opts: tls.ConnectionOptions, limits: H1Limits): H1BackConn {
    const socket = tls.connect(opts);
    const conn = new H1BackConn(socket, server, limits);
    conn.readyEvent = 'secureConnect';
    conn.connName = opts.servername ?? '';
    socket.once('secureConnect', () => {
      if (server.mux === 'alpn' && socket.alpnProtocol === 'h2') {
        server.alpnH2 = true;
        conn.switched = true;
        conn.releaseSocket();
        return;
      }
      if (server.mux === 'alpn') server.alpnH2 = false;
      socket.on('data', (d: Buffer) => conn.onSocketData(d));
    });
    return conn;
  }

  /** An HTTP/1 connection on a TLS socket already open (an HTTP/2 one whose server chose http/1.1). */
  static adoptTls(server: Server, socket: tls.TLSSocket, limits: H1Limits, name: string): H1BackConn {
    const conn = new H1BackConn(socket, server, limits);
    conn.connected = conn.transportUp = true;
    conn.connName = name;
    socket.on('data', (d: Buffer) => conn.onSocketData(d));
    return conn;
  }

  /** The server chose h2 by ALPN: the socket is for an HTTP/2 session (see takeSocket). */
  switched = false;

  /** The socket of a `switched` connection, once: the connection keeps nothing of it. */
  takeSocket(): tls.TLSSocket | null {
    if (!this.switched || this.closed) return null;
    this.closed = true;
    return this.socket as tls.TLSSocket;
  }

  /** Stops listening to the socket (it is handed over). */
  private releaseSocket(): void {
    const s = this.socket;
    s.off('end', this.onEndL);
    s.off('error', this.onErrorL);
    s.off('close', this.onCloseL);
    s.off('drain', this.onDrainL);
    // Until the new owner listens, an error must not be unhandled.
    s.on('error', () => {});
  }

  /**
   * Opens a connection to `host:port`; `connected` becomes true on 'connect'. `preamble` (a PROXY
   * protocol header) goes first; `key` then names the connection in the pool (it is reused only
   * for the same header, that is the same client connection, as HAProxy's connection hash).
   */
  static connect(server: Server, host: string, port: number, limits: H1Limits, preamble: Buffer | null = null, key = ''): H1BackConn {
    let conn: H1BackConn | null = null;
    // Reads land in one shared buffer and come straight to the parser, without the Readable
    // stream machinery (push, 'data' event, read-more tick) that costs more than the parsing.
    // Each read is copied out first, since what is parsed may be kept or queued for writing.
    const socket = net.connect({
      host,
      port,
      family: server.family,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          const d = Buffer.allocUnsafe(n);
          d.set(buf.subarray(0, n));
          conn!.onSocketData(d);
          return true;
        },
      },
    });
    conn = new H1BackConn(socket, server, limits);
    if (preamble !== null) socket.write(preamble);
    conn.connName = key;
    return conn;
  }

  /** Attaches a Stream before sending a request, readying the parser for the response. */
  attach(owner: H1BackOwner, method: string): void {
    this.owner = owner;
    this.uses++;
    if (!this.inUse) {
      this.inUse = true;
      this.server.pool.acquired();
    }
    this.parser.reset();
    this.parser.requestMethod = method;
  }

  /**
   * Sends the request head with `hop`'s framing, then the body received so far (and its end when
   * `ended`), in one system call. Returns false when the socket's buffer is full.
   */
  sendRequest(req: HtxRequest, hop: H1Hop, body: readonly Buffer[], ended: boolean, trailers: HtxHeaders | undefined): boolean {
    this.reqFraming = hop.framing;
    const sock = this.socket;
    const head = serializeRequestHead(req, hop);
    if (body.length === 0 && !(ended && hop.framing === BodyKind.Chunked)) return sock.write(head, 'latin1');
    sock.cork();
    let ok = sock.write(head, 'latin1');
    for (const b of body) ok = this.sendData(b) && ok;
    if (ended) this.sendEnd(trailers);
    sock.uncork();
    return ok;
  }

  /** Request body bytes, framed as the head announced. */
  sendData(b: Buffer): boolean {
    const sock = this.socket;
    if (this.reqFraming !== BodyKind.Chunked) return sock.write(b);
    sock.cork();
    sock.write(chunkHeader(b.length), 'latin1');
    sock.write(b);
    const ok = sock.write(chunkEnd());
    sock.uncork();
    return ok;
  }

  /** The end of the request body (the last chunk and trailers when chunked). */
  sendEnd(trailers: HtxHeaders | undefined): void {
    if (this.reqFraming === BodyKind.Chunked) this.socket.write(lastChunk(trailers));
  }

  get responseStarted(): boolean {
    return this.parser.headBytes > 0;
  }

  whenConnected(cb: () => void): void {
    if (this.connected) {
      cb();
      return;
    }
    this.socket.once(this.readyEvent, () => {
      this.connected = true;
      cb();
    });
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  sendRaw(b: Buffer): boolean {
    return this.socket.write(b);
  }

  endRaw(): void {
    this.socket.end();
  }

  /** Detaches the Stream (response complete or abandoned). */
  detach(): void {
    this.owner = null;
    // A connection paused while its client was slow reads again: in the pool it must see the
    // server's close, and its next request needs the response.
    if (this.socket.isPaused()) this.socket.resume();
    if (this.inUse) {
      this.inUse = false;
      this.server.pool.released();
    }
  }

  /** True when the connection can carry another request. */
  get reusable(): boolean {
    return this.connected && !this.closed && !this.peerEnded && !this.socket.destroyed;
  }

  /** Closes the connection: FIN when `graceful`, otherwise a reset. */
  close(graceful = true): void {
    if (this.closed) return;
    this.closed = true;
    if (graceful) this.socket.destroySoon();
    // Node can reset a plain TCP socket only: a TLS socket owns its TCP handle (reset throws).
    else if (this.socket instanceof tls.TLSSocket) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  onSocketData(d: Buffer): void {
    const o = this.owner;
    if (o) {
      o.beginServerBatch();
      this.parser.feed(d);
      o.endServerBatch();
      return;
    }
    // Bytes from a server on an idle connection: nothing can be paired with them.
    this.close(false);
    this.onIdleClose?.(this);
  }

  private onSocketEnd(): void {
    this.peerEnded = true;
    if (this.owner) {
      this.parser.finish();
      // finish() ends a close-delimited body; otherwise the owner learns it is gone.
      if (this.owner) this.owner.onServerClose(undefined);
    } else {
      this.close(true);
      this.onIdleClose?.(this);
    }
  }

  private onSocketClose(err: Error | undefined): void {
    const wasClosed = this.closed;
    this.closed = true;
    if (this.owner) {
      const o = this.owner;
      if (!err && !this.peerEnded) this.parser.finish();
      if (this.owner === o) o.onServerClose(err);
    } else if (!wasClosed) {
      this.onIdleClose?.(this);
    }
    if (err) this.socket.destroy();
  }

  // ---- parser events: forwarded to the owning Stream ----
  onRequest(_req: HtxRequest): void {}
  onResponse(res: HtxResponse): void {
    this.owner?.onServerResponse(res);
  }
  onData(data: Buffer): void {
    this.owner?.onServerData(data);
  }
  onTrailers(t: HtxHeaders): void {
    this.owner?.onServerTrailers(t);
  }
  onEnd(): void {
    this.owner?.onServerEnd();
  }
  onError(kind: H1ErrorKind, reason: string): void {
    this.owner?.onServerParseError(kind, reason);
  }
}
