// HTTP/2 servers for tests of the server side (cleartext, prior knowledge): a node:http2 server
// that records every connection and stream exactly as it arrived (END_STREAM seen, body sha256,
// content-length or not, trailers) and answers as the query string of each request says, the way
// origin.ts does for HTTP/1. Tests that need a misbehaving server (GOAWAY, RST_STREAM, refused
// streams, a dying connection) hook `onStream` and take over the streams they want.
//
//   echo=1        body is a JSON H2EchoReport of the request, sent once the request ended
//   size=N        body of N bytes of bodyPattern (default 0)
//   cl=1          with a content-length field (otherwise none: the end is END_STREAM)
//   empty=1       HEADERS with END_STREAM, no DATA at all
//   status=N      :status (default 200)
//   chunk=N       write the body in pieces of N bytes (default 16384)
//   trailers=1    end with a trailer block (x-trailer: done) instead of END_STREAM on DATA
//   delay=MS      wait before answering
//   hold=1        never answer (the stream stays open until the test or the client ends it)
//   early=1       answer without waiting for the request's end
//
// Unless `early=1`, every answer waits for the request's END_STREAM: a server that never sees it
// never answers, which is how failure mode 2 of design.md shows up.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { bodyPattern } from './origin.js';

/** What `echo=1` answers, as JSON. */
export interface H2EchoReport {
  method: string;
  path: string;
  scheme: string | null;
  authority: string | null;
  /** Regular fields as received, [name, value] pairs. */
  headers: Array<[string, string]>;
  trailers: Array<[string, string]>;
  contentLength: string | null;
  bodyLength: number;
  bodySha256: string;
  /** 1-based index of the connection (in accept order) and the stream id on it. */
  session: number;
  streamId: number;
}

/** A request as the server saw it, recorded when its stream closed. */
export interface H2PeerRequest {
  session: number;
  streamId: number;
  method: string;
  path: string;
  query: URLSearchParams;
  rawHeaders: string[];
  body: Buffer;
  trailers: string[] | null;
  /**
   * 'end' was emitted: END_STREAM arrived, or the stream was reset (node:http2 ends the readable
   * side of a reset stream too). Only `ended && rstCode === 0` means a request that ended cleanly.
   */
  ended: boolean;
  /** RST_STREAM code the stream closed with (0 when it closed cleanly). */
  rstCode: number;
}

/** One request stream as it is being received: handed to `onStream`. */
export interface H2PeerStream {
  session: number;
  stream: http2.ServerHttp2Stream;
  headers: http2.IncomingHttpHeaders;
  rawHeaders: string[];
  query: URLSearchParams;
  /** Resolves with the body once END_STREAM arrived (never rejects; pending forever otherwise). */
  body: Promise<Buffer>;
  /** Answers as the query string says (the default behaviour). */
  answer(): void;
}

export interface H2PeerOptions {
  /** SETTINGS the server sends (maxConcurrentStreams, initialWindowSize...). */
  settings?: http2.Settings;
  /** Takes over a stream: return true when handled, false for the default answer. */
  onStream?(s: H2PeerStream, peer: H2Peer): boolean;
  /** Listen on this port instead of one from the OS (to come back on the same port). */
  port?: number;
}

function pairsOf(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * The server. Events: 'session' (index), 'stream' (H2PeerStream), 'request' (H2PeerRequest),
 * 'sessionClose' (index).
 */
export class H2Peer extends EventEmitter {
  readonly server: http2.Http2Server;
  port = 0;
  /** Connections accepted so far, and open now. */
  sessionsTotal = 0;
  sessionsOpen = 0;
  /** Streams open now, per connection index, and the highest count seen on any connection. */
  readonly openStreams = new Map<number, number>();
  maxConcurrent = 0;
  /** Requests whose stream closed, in closing order. */
  readonly requests: H2PeerRequest[] = [];
  readonly sessions = new Map<number, http2.ServerHttp2Session>();
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly opts: H2PeerOptions = {}) {
    super();
    this.server = http2.createServer({ settings: opts.settings ?? {} });
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('session', (sess: http2.ServerHttp2Session) => this.onSession(sess));
    this.server.on('stream', (st, h, _f, raw) => this.onStream(st, h, raw));
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: this.opts.port ?? 0 }, () => {
        this.server.removeListener('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  private onSession(sess: http2.ServerHttp2Session): void {
    const id = ++this.sessionsTotal;
    this.sessionsOpen++;
    this.sessions.set(id, sess);
    this.openStreams.set(id, 0);
    (sess as unknown as { peerIndex: number }).peerIndex = id;
    sess.on('error', () => {});
    sess.on('close', () => {
      this.sessionsOpen--;
      this.sessions.delete(id);
      this.emit('sessionClose', id);
    });
    this.emit('session', id);
  }

  private onStream(st: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders, raw: string[]): void {
    const session = (st.session as unknown as { peerIndex: number }).peerIndex;
    const path = String(h[':path'] ?? '/');
    const q = path.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
    const open = (this.openStreams.get(session) ?? 0) + 1;
    this.openStreams.set(session, open);
    this.maxConcurrent = Math.max(this.maxConcurrent, open);
    const chunks: Buffer[] = [];
    let ended = false;
    let trailers: string[] | null = null;
    let gotBody: (b: Buffer) => void = () => {};
    const body = new Promise<Buffer>((r) => (gotBody = r));
    st.on('data', (d: Buffer) => chunks.push(d));
    st.on('trailers', (_t, _f, rawT: string[]) => (trailers = rawT));
    st.on('end', () => {
      ended = true;
      gotBody(Buffer.concat(chunks));
    });
    st.on('error', () => {});
    st.on('close', () => {
      this.openStreams.set(session, (this.openStreams.get(session) ?? 1) - 1);
      const rec: H2PeerRequest = {
        session,
        streamId: st.id ?? 0,
        method: String(h[':method'] ?? ''),
        path,
        query,
        rawHeaders: raw,
        body: Buffer.concat(chunks),
        trailers,
        ended,
        rstCode: st.rstCode ?? 0,
      };
      this.requests.push(rec);
      this.emit('request', rec);
    });
    const ps: H2PeerStream = {
      session,
      stream: st,
      headers: h,
      rawHeaders: raw,
      query,
      body,
      answer: () => void this.answer(ps, () => trailers),
    };
    this.emit('stream', ps);
    if (this.opts.onStream?.(ps, this)) return;
    ps.answer();
  }

  private async answer(ps: H2PeerStream, trailersOf: () => string[] | null): Promise<void> {
    const { stream: st, query: q, headers: h } = ps;
    if (q.get('hold') === '1') return;
    const reqBody = q.get('early') === '1' ? null : await ps.body;
    const delay = Number(q.get('delay') ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (st.destroyed || st.closed) return;
    const status = Number(q.get('status') ?? 200);
    let body: Buffer;
    const head: http2.OutgoingHttpHeaders = { ':status': status, 'x-server': 'h2peer' };
    if (q.get('echo') === '1') {
      const b = reqBody ?? Buffer.alloc(0);
      const report: H2EchoReport = {
        method: String(h[':method'] ?? ''),
        path: String(h[':path'] ?? ''),
        scheme: h[':scheme'] === undefined ? null : String(h[':scheme']),
        authority: h[':authority'] === undefined ? null : String(h[':authority']),
        headers: pairsOf(ps.rawHeaders),
        trailers: pairsOf(trailersOf() ?? []),
        contentLength: h['content-length'] === undefined ? null : String(h['content-length']),
        bodyLength: b.length,
        bodySha256: sha256(b),
        session: ps.session,
        streamId: st.id ?? 0,
      };
      body = Buffer.from(JSON.stringify(report));
      head['content-type'] = 'application/json';
      head['content-length'] = body.length;
    } else {
      body = bodyPattern(Number(q.get('size') ?? 0));
      if (q.get('cl') === '1') head['content-length'] = body.length;
    }
    const withTrailers = q.get('trailers') === '1';
    try {
      if (q.get('empty') === '1' || status === 204 || status === 304 || h[':method'] === 'HEAD') {
        st.respond(head, { endStream: true });
        return;
      }
      st.respond(head, { waitForTrailers: withTrailers });
      if (withTrailers) st.once('wantTrailers', () => st.sendTrailers({ 'x-trailer': 'done' }));
      const size = Math.max(1, Number(q.get('chunk') ?? 16384));
      for (let i = 0; i < body.length; i += size) st.write(body.subarray(i, i + size));
      st.end();
    } catch {
      // The client went away meanwhile.
    }
  }

  /**
   * Resolves once `pred(this)` holds, re-checked on every event of the server and every 20 ms (for
   * state the test keeps itself); rejects after timeoutMs.
   */
  waitFor(pred: (p: this) => boolean, what = 'condition', timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => check(), 20);
      const check = (): void => {
        if (!pred(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `h2 peer: ${what} not met within ${timeoutMs} ms (sessions=${this.sessionsTotal} open=${this.sessionsOpen} ` +
              `requests=${this.requests.length})`,
          ),
        );
      }, timeoutMs);
      const events = ['session', 'stream', 'request', 'sessionClose'];
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        for (const e of events) this.off(e, check);
      };
      for (const e of events) this.on(e, check);
      check();
    });
  }

  /** Destroys every connection at once, without a frame (the listener stays). */
  killConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /**
   * The server process dies: its sockets close with no GOAWAY nor RST_STREAM (which `close()`
   * would send first), and nothing listens any more.
   */
  die(): Promise<void> {
    this.killConnections();
    return this.close();
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    for (const s of this.sessions.values()) s.destroy();
    this.killConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Sends a response head and `bytes` of body, then RST_STREAM `code` without END_STREAM. (A plain
 * `stream.close(code)` in node:http2 first ends the stream with an empty DATA frame carrying
 * END_STREAM, which a proxy rightly takes for a complete response; waiting for trailers that never
 * come keeps the stream open until the reset.)
 */
export function respondThenReset(st: http2.ServerHttp2Stream, head: http2.OutgoingHttpHeaders, bytes: Buffer, code: number): void {
  st.respond(head, { waitForTrailers: true });
  st.write(bytes, () => setTimeout(() => st.close(code), 50));
}

/** Starts an HTTP/2 cleartext server on 127.0.0.1. */
export function startH2Peer(opts: H2PeerOptions = {}): Promise<H2Peer> {
  return new H2Peer(opts).listen();
}

/** The sha256 of a buffer, hex: what the echo reports carry. */
export { sha256 };
