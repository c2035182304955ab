// The two endpoints a Stream talks to, independent of the HTTP version spoken on each.
// The client side is the stream half of a client-side mux (h1s on an H1FrontConn, h2s on an
// H2FrontConn); the server side is the stream half of a server-side mux. The stream gives them
// version-neutral messages (htx) and they put them on the wire in their own syntax.

import type { SampleValue } from '../acl/index.js';
import type { HtxHeaders, HtxResponse } from '../htx/index.js';
import type { Frontend } from '../proxy/frontend.js';
import type { H1BackConn } from '../mux/h1-back.js';

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
  /** Requests started on this client connection (http-reuse: the first one is special). */
  readonly reqCount: number;
  /** Bytes of the current request's head as received (%U). */
  readonly headBytes: number;
  /** `sess.*` variables, created on first use. */
  sessVars: Map<string, SampleValue> | null;
  /** Server connection kept for this client alone (http-reuse never), or null. */
  privateConn: H1BackConn | null;
  /** The connection closes after the current exchange (graceful stop, errors, Connection: close). */
  closeAfter: boolean;

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
