// The two endpoints a Stream talks to, independent of the HTTP version spoken on each.
// The client side is the stream half of a client-side mux (h1s on an H1FrontConn, h2s on an
// H2FrontConn); the server side is the stream half of a server-side mux. The stream gives them
// version-neutral messages (htx) and they put them on the wire in their own syntax.

import type { SampleValue } from '../acl/index.js';
import type { HtxHeaders, HtxRequest, HtxResponse } from '../htx/index.js';
import type { H1Hop } from '../proto/h1/index.js';
import type { H1ErrorKind } from '../proto/h1/index.js';
import type { Server } from '../backend/index.js';
import type { Frontend } from '../proxy/frontend.js';
import type { TlsInfo } from '../net/tls.js';

/** What the stream sees of the client connection and the stream half carrying its request. */
export interface ClientSide {
  readonly fe: Frontend;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly localIp: string;
  readonly localPort: number;
  /** When the connection was accepted, and when it last became idle (for %Tt, %Ti). */
  readonly acceptDate: number;
  readonly idleSince: number;
  /** When the first byte of the current request arrived. */
  readonly reqStart: number;
  /** The client connection (the same object for every request it carries): HTTP/2 server
   * connections are reserved to one under http-reuse safe and never. */
  readonly clientConn: object;
  /** Requests started on this client connection (http-reuse: the first one is special). */
  readonly reqCount: number;
  /** Bytes of the current request's head as received (%U). */
  readonly headBytes: number;
  /** `sess.*` variables, created on first use. */
  sessVars: Map<string, SampleValue> | null;
  /** Server connection kept for this client alone (http-reuse never), or null. */
  privateConn: ServerSide | null;
  /** The TLS session of the client connection, null in clear. */
  readonly tls: TlsInfo | null;
  /** The connection closes after the current exchange (graceful stop, errors, Connection: close). */
  closeAfter: boolean;
  /**
   * The client connection is gone (reset) while the stream goes on with the server: what is
   * written to it is dropped (see HttpStream.outlivesClient).
   */
  readonly clientGone: boolean;

  /** An interim response (1xx) as it comes (dropped for clients that cannot take it). */
  sendInterim(res: HtxResponse): void;
  /**
   * The response head. It may wait to leave with the first body bytes. `close` asks to close the
   * client connection after the response; the result says whether it will be (the client side may
   * have to, to delimit the body). A Tunnel response switches the connection to a tunnel.
   */
  sendHead(res: HtxResponse, close: boolean): boolean;
  /** Response body bytes; false when the client's buffer is full (onClientDrain follows). */
  sendData(data: Buffer): boolean;
  /** The end of the response, with its trailers if any. */
  sendEnd(trailers: HtxHeaders | undefined): void;
  /** Writes a response head still waiting for body bytes (end of a server read). */
  flush(): void;
  /** A complete response built by sluice, as HTTP/1 bytes (the way HAProxy keeps its errorfiles). */
  sendLocal(raw: Buffer): void;
  /** Bytes written to the client for the current request (%B). */
  readonly bytesOut: number;

  /** Backpressure towards the client: stop reading its request body, and read again. */
  pauseReading(): void;
  resumeReading(): void;
  /** `timeout client` runs while the stream waits for the client (to read, to send). */
  armClient(): void;
  disarm(): void;
  /** Ends the exchange abruptly: closes (resets when not `graceful`) the stream's client side. */
  close(graceful?: boolean): void;
  /** The stream is finished; the connection goes on with the next request or closes. */
  streamDone(s: object, close: boolean): void;
}

/** What a Stream implements to receive the events of its server side. */
export interface ServerOwner {
  onServerResponse(res: HtxResponse): void;
  onServerData(data: Buffer): void;
  onServerTrailers(t: HtxHeaders): void;
  onServerEnd(): void;
  onServerParseError(kind: H1ErrorKind, reason: string): void;
  /** The server closed or reset the connection or stream (err undefined for a clean FIN). */
  onServerClose(err: Error | undefined): void;
  /** The server side can take more request bytes. */
  onServerDrain(): void;
  /**
   * Brackets the events of one read from the server, so that everything they write to the client
   * (a head and the body that came with it) leaves in one system call.
   */
  beginServerBatch(): void;
  endServerBatch(): void;
}

/**
 * The server side of one request: an HTTP/1 connection carrying it (H1BackConn), or a stream on
 * a shared HTTP/2 connection (H2BackStream).
 */
export interface ServerSide {
  readonly server: Server;
  /** Requests carried by the connection so far, this one included: above 1 it was reused. */
  readonly uses: number;
  /** The connection can carry another request. */
  readonly reusable: boolean;
  /** Several requests share the connection at once (HTTP/2): it pools itself. */
  readonly multiplexed: boolean;
  readonly connected: boolean;
  /** Some of the response arrived for the current request. */
  readonly responseStarted: boolean;
  /** The server refused the request without processing it (REFUSED_STREAM, GOAWAY): safe to send again. */
  readonly refused: boolean;
  /**
   * The server chose the other HTTP version by ALPN: once connected, the request moves to a
   * connection of that version (the same socket when the stream takes it), without a retry.
   */
  readonly switched: boolean;
  /**
   * The TCP connection was established: a failure while connecting came after it (a TLS
   * handshake refused), and is retried without HAProxy's turn-around pause.
   */
  readonly transportUp: boolean;
  attach(owner: ServerOwner, method: string): void;
  detach(): void;
  /** Closes (HTTP/1: the connection, FIN when graceful; HTTP/2: the stream, RST). */
  close(graceful?: boolean): void;
  /** Calls `cb` once connected, at once if it already is. */
  whenConnected(cb: () => void): void;
  /** The request head with `hop`'s framing, the body received so far, and its end when `ended`. */
  sendRequest(req: HtxRequest, hop: H1Hop, body: readonly Buffer[], ended: boolean, trailers: HtxHeaders | undefined): boolean;
  sendData(b: Buffer): boolean;
  sendEnd(trailers: HtxHeaders | undefined): void;
  /** Backpressure from the client: stop reading the response, and read again. */
  pause(): void;
  resume(): void;
  /** Tunnel bytes (after 101 or CONNECT), and the client's end of them. */
  sendRaw(b: Buffer): boolean;
  endRaw(): void;
}
