// A query-driven HTTP/1.1 origin server on raw sockets, so that tests control the exact framing a
// proxy receives from its server. What it answers is chosen by the query string of each request:
//
//   status=N      status code (default 200)
//   size=N        body bytes (default 0), a repeating pattern (see bodyPattern)
//   chunked=1     chunked transfer coding (chunk=N sets the chunk size, default 4096)
//   close=1       Connection: close, then close after the response
//   noclen=1      no Content-Length: the body ends when the connection closes
//   delay=MS      wait before answering
//   hdr=Name:Val  add a header (repeatable)
//   echo=1        body is a JSON EchoReport of what was received
//   garbage=1     answer with bytes that are not HTTP, then close
//   reset=1       close the connection with a TCP RST instead of answering
//   hang=1        never answer
//   100=1         send "100 Continue" as soon as the request head is read
//
// Every response carries `X-Server: <name>`. Requests are answered in order (pipelining works),
// connections are kept alive unless the request or the query says otherwise.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { H1Reader, headerHasToken, type H1Message, type HeaderField } from './wire.js';

/** What `echo=1` answers, as JSON. */
export interface EchoReport {
  server: string;
  method: string;
  uri: string;
  version: string;
  /** Header fields in order, names in their original case. */
  headers: HeaderField[];
  trailers: HeaderField[];
  framing: H1Message['framing'];
  bodyLength: number;
  bodySha256: string;
  /** Index of the connection (1-based, in accept order) and of the request on it (1-based). */
  conn: number;
  seq: number;
}

/** A request as the origin recorded it. */
export interface OriginRequest {
  method: string;
  uri: string;
  path: string;
  query: URLSearchParams;
  version: string;
  headers: HeaderField[];
  trailers: HeaderField[];
  framing: H1Message['framing'];
  body: Buffer;
  conn: number;
  seq: number;
  at: number;
}

const PATTERN = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_');

/** The body `size=n` sends: a 64-byte pattern repeated and cut at n bytes. */
export function bodyPattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += PATTERN.length) PATTERN.copy(b, i, 0, Math.min(PATTERN.length, n - i));
  return b;
}

const REASONS: Record<number, string> = {
  100: 'Continue', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Splits a request target into path and query, accepting absolute-form too. */
function splitUri(uri: string): { path: string; query: URLSearchParams } {
  let u = uri;
  const scheme = u.indexOf('://');
  if (scheme > 0 && scheme < 8) {
    const slash = u.indexOf('/', scheme + 3);
    u = slash < 0 ? '/' : u.slice(slash);
  }
  const q = u.indexOf('?');
  return q < 0
    ? { path: u, query: new URLSearchParams() }
    : { path: u.slice(0, q), query: new URLSearchParams(u.slice(q + 1)) };
}

interface ConnState {
  id: number;
  socket: net.Socket;
  seq: number;
  queue: OriginRequest[];
  busy: boolean;
  closed: boolean;
}

/**
 * The origin server. Events: 'connection' (id), 'request' (OriginRequest), 'close' (id),
 * 'error' is never emitted for client misbehaviour (answered with 400 and recorded in `errors`).
 */
export class Origin extends EventEmitter {
  readonly server: net.Server;
  port = 0;
  /** Requests fully received, in arrival order. */
  readonly requests: OriginRequest[] = [];
  /** Framing errors seen on incoming requests. */
  readonly errors: string[] = [];
  requestCount = 0;
  connectionsOpen = 0;
  connectionsTotal = 0;
  private readonly sockets = new Set<net.Socket>();

  constructor(readonly name: string) {
    super();
    // Half-open: a client that shuts down its write side still gets its pending answers.
    this.server = net.createServer({ allowHalfOpen: true }, (s) => this.onConnection(s));
  }

  /** Starts listening on host (default 127.0.0.1), port 0 unless given. */
  listen(host = '127.0.0.1', port = 0): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.removeListener('error', reject);
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  /** Stops listening and destroys every open connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Forgets recorded requests and errors and resets the totals (open connections stay counted). */
  clear(): void {
    this.requests.length = 0;
    this.errors.length = 0;
    this.requestCount = 0;
    this.connectionsTotal = 0;
  }

  /**
   * Resolves once `pred(this)` is true, re-checked on each connection, request and close;
   * rejects after timeoutMs (default 5000) with the origin's counters.
   */
  waitFor(pred: (o: this) => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pred(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `origin ${this.name}: condition not met within ${timeoutMs} ms ` +
              `(requests=${this.requestCount} open=${this.connectionsOpen} total=${this.connectionsTotal})`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('connection', check);
        this.off('request', check);
        this.off('close', check);
      };
      this.on('connection', check);
      this.on('request', check);
      this.on('close', check);
      check();
    });
  }

  private onConnection(socket: net.Socket): void {
    const c: ConnState = { id: ++this.connectionsTotal, socket, seq: 0, queue: [], busy: false, closed: false };
    this.connectionsOpen++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const reader = new H1Reader('request', {
      onHead: (m) => {
        const { query } = splitUri(m.uri);
        if (query.get('100') === '1' && !c.closed) socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      },
      onMessage: (m) => this.onRequest(c, m),
    });
    socket.on('data', (d: Buffer) => {
      if (c.closed) return;
      try {
        reader.push(d);
      } catch (e) {
        this.errors.push((e as Error).message);
        this.answerRaw(c, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', true);
      }
    });
    socket.on('end', () => {
      // A client half-close does not cancel pending answers; we close once they are written.
      if (!c.busy && c.queue.length === 0) this.finish(c);
      else c.closed = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      c.closed = true;
      this.sockets.delete(socket);
      this.connectionsOpen--;
      this.emit('close', c.id);
    });
    this.emit('connection', c.id);
  }

  private onRequest(c: ConnState, m: H1Message): void {
    const { path, query } = splitUri(m.uri);
    const req: OriginRequest = {
      method: m.method,
      uri: m.uri,
      path,
      query,
      version: m.version,
      headers: m.headers,
      trailers: m.trailers,
      framing: m.framing,
      body: m.body,
      conn: c.id,
      seq: ++c.seq,
      at: Date.now(),
    };
    this.requests.push(req);
    this.requestCount++;
    this.emit('request', req);
    c.queue.push(req);
    if (!c.busy) void this.drain(c);
  }

  private async drain(c: ConnState): Promise<void> {
    c.busy = true;
    while (c.queue.length > 0 && !c.socket.destroyed) {
      const req = c.queue.shift()!;
      const keep = await this.answer(c, req);
      if (!keep) {
        c.queue.length = 0;
        break;
      }
    }
    c.busy = false;
    if (c.closed && !c.socket.destroyed) this.finish(c);
  }

  private finish(c: ConnState): void {
    c.closed = true;
    c.socket.end();
  }

  private answerRaw(c: ConnState, bytes: string | Buffer, close: boolean): void {
    if (c.socket.destroyed) return;
    c.socket.write(bytes);
    if (close) this.finish(c);
  }

  /** Writes the answer to one request; resolves false when the connection must not be reused. */
  private async answer(c: ConnState, req: OriginRequest): Promise<boolean> {
    const q = req.query;
    const delay = Number(q.get('delay') ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (c.socket.destroyed) return false;
    if (q.get('hang') === '1') {
      await new Promise((r) => c.socket.once('close', r));
      return false;
    }
    if (q.get('reset') === '1') {
      c.socket.resetAndDestroy();
      return false;
    }
    if (q.get('garbage') === '1') {
      this.answerRaw(c, Buffer.from('\x00\x01 this is not HTTP \xff\xfe\r\n\r\n', 'latin1'), true);
      return false;
    }

    const status = Number(q.get('status') ?? 200);
    const reqClose =
      headerHasToken(req.headers, 'connection', 'close') ||
      (req.version === 'HTTP/1.0' && !headerHasToken(req.headers, 'connection', 'keep-alive'));
    const noclen = q.get('noclen') === '1';
    const close = q.get('close') === '1' || noclen || reqClose;
    const bodyless = req.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);

    let body: Buffer;
    const extra: string[] = [];
    if (q.get('echo') === '1') {
      const report: EchoReport = {
        server: this.name,
        method: req.method,
        uri: req.uri,
        version: req.version,
        headers: req.headers,
        trailers: req.trailers,
        framing: req.framing,
        bodyLength: req.body.length,
        bodySha256: createHash('sha256').update(req.body).digest('hex'),
        conn: c.id,
        seq: req.seq,
      };
      body = Buffer.from(JSON.stringify(report));
      extra.push('Content-Type: application/json');
    } else {
      body = bodyPattern(Number(q.get('size') ?? 0));
    }
    const chunked = q.get('chunked') === '1' && !noclen;

    let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\nX-Server: ${this.name}\r\n`;
    for (const h of extra) head += `${h}\r\n`;
    for (const h of q.getAll('hdr')) {
      const i = h.indexOf(':');
      if (i > 0) head += `${h.slice(0, i)}: ${h.slice(i + 1)}\r\n`;
    }
    if (status !== 204 && !(status >= 100 && status < 200) && !noclen) {
      head += chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${body.length}\r\n`;
    }
    if (close) head += 'Connection: close\r\n';
    else if (req.version === 'HTTP/1.0') head += 'Connection: keep-alive\r\n';
    head += '\r\n';

    const out: Buffer[] = [Buffer.from(head, 'latin1')];
    if (!bodyless) {
      if (chunked) {
        const size = Math.max(1, Number(q.get('chunk') ?? 4096));
        for (let i = 0; i < body.length; i += size) {
          const part = body.subarray(i, i + size);
          out.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
        }
        out.push(Buffer.from('0\r\n\r\n'));
      } else {
        out.push(body);
      }
    }
    const ok = c.socket.write(Buffer.concat(out));
    if (close) {
      this.finish(c);
      return false;
    }
    // Respect backpressure so that a slow reader of a large body does not make us buffer forever.
    if (!ok) await new Promise((r) => c.socket.once('drain', r).once('close', r));
    return true;
  }
}

/** Starts an origin called `name` on 127.0.0.1, port 0. Close it with `origin.close()`. */
export function startOrigin(name = 'origin', host = '127.0.0.1'): Promise<Origin> {
  return new Origin(name).listen(host);
}

