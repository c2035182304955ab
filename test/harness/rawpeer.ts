// Scripted raw TCP peers for protocol edge tests: a client that writes exact bytes and collects
// everything it gets back, and a server that hands each accepted connection to a script.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { hasCompleteResponses, parseResponses, type H1Message } from './wire.js';

/** A predicate over everything received so far on a connection. */
export type DataPredicate = (data: Buffer) => boolean;

/**
 * One TCP connection driven by a test script, on either side. It keeps every received byte in
 * `received` and knows how the peer ended it: FIN (`ended`), RST (`reset`), or still open.
 */
export class RawConn extends EventEmitter {
  private chunks: Buffer[] = [];
  private size = 0;
  private joined: Buffer = Buffer.alloc(0);
  /** The peer sent FIN. */
  ended = false;
  /** The connection is fully closed (either way). */
  closed = false;
  /** The connection ended with ECONNRESET (or EPIPE after the peer's RST). */
  reset = false;
  /** The last socket error message, if any. */
  error: string | null = null;

  constructor(readonly socket: net.Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.size += d.length;
      this.emit('change');
    });
    socket.on('end', () => {
      this.ended = true;
      this.emit('change');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.message;
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') this.reset = true;
    });
    socket.on('close', () => {
      this.closed = true;
      this.emit('change');
    });
  }

  /** Everything received so far. */
  get received(): Buffer {
    if (this.joined.length !== this.size) {
      this.joined = Buffer.concat(this.chunks, this.size);
      this.chunks = [this.joined];
    }
    return this.joined;
  }

  /** Received bytes as latin1 text (byte-exact). */
  text(): string {
    return this.received.toString('latin1');
  }

  /** Writes bytes (strings are sent as latin1, one byte per char); resolves once flushed. */
  write(bytes: string | Buffer): Promise<void> {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve();
      this.socket.write(b, () => resolve());
    });
  }

  /** Sends FIN (half-close): the peer can still answer. */
  end(): void {
    this.socket.end();
  }

  /** Closes the connection with an RST. */
  resetAndDestroy(): void {
    this.socket.resetAndDestroy();
  }

  /** Closes the connection at once (FIN if possible). */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Resolves with `received` once `pred` holds on it, or once the peer ended or closed the
   * connection, or after timeoutMs (default 5000); check `ended`/`closed` to tell which.
   */
  waitFor(pred: DataPredicate, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!pred(this.received) && !this.ended && !this.closed) return;
        done();
      };
      const done = (): void => {
        clearTimeout(timer);
        this.off('change', check);
        resolve(this.received);
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('change', check);
      check();
    });
  }

  /** Resolves true once at least `n` bytes arrived, false if the connection ended first or on timeout. */
  async waitBytes(n: number, timeoutMs = 5000): Promise<boolean> {
    await this.waitFor((d) => d.length >= n, timeoutMs);
    return this.size >= n;
  }

  /** Resolves true once the socket is fully closed, false after timeoutMs (default 5000). */
  waitClose(timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(true);
      const timer = setTimeout(() => {
        this.socket.off('close', onClose);
        resolve(false);
      }, timeoutMs);
      const onClose = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.socket.once('close', onClose);
    });
  }

  /** Parses the HTTP/1 responses received so far (`methods` in request order matter for HEAD). */
  responses(methods: string[] = []): H1Message[] {
    return parseResponses(this.received, methods, this.ended || this.closed);
  }
}

/** Connects to host:port (default 127.0.0.1) and resolves with the connection once established. */
export function rawConnect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    const onError = (e: Error): void => {
      clearTimeout(timer);
      reject(e);
    };
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeListener('error', onError);
      resolve(new RawConn(s));
    });
    s.once('error', onError);
  });
}

export interface RawRequestOptions {
  host?: string;
  /** Bound on the whole exchange, default 5000 ms. */
  timeoutMs?: number;
  /** Stop collecting once this holds (default: one complete response, or the peer closing). */
  until?: DataPredicate;
  /** With several parts, pause this long between them (to split a message at chosen bytes). */
  pauseMs?: number;
  /** Half-close after the last part. */
  end?: boolean;
  /** Methods of the requests sent, in order, for response framing (HEAD has no body). */
  methods?: string[];
}

export interface RawResult {
  data: Buffer;
  /** `data` as latin1 text. */
  text: string;
  /** The peer sent FIN or closed. */
  closed: boolean;
  /** The peer reset the connection. */
  reset: boolean;
  /** Neither `until` nor a close happened within the bound. */
  timedOut: boolean;
  /** The complete responses found in `data`. */
  responses: H1Message[];
}

/** A predicate for RawRequestOptions.until: `n` complete final responses have arrived. */
export function untilResponses(n: number, methods: string[] = []): DataPredicate {
  return (d) => hasCompleteResponses(d, n, methods);
}

/**
 * Connects, writes `bytes` (or each part in turn), and collects everything received until
 * `opts.until` holds, the peer closes, or the timeout. Never rejects after connecting: the result
 * says how it ended. The connection is closed before resolving.
 */
export async function rawRequest(
  port: number,
  bytes: string | Buffer | Array<string | Buffer>,
  opts: RawRequestOptions = {},
): Promise<RawResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  const methods = opts.methods ?? [];
  const until = opts.until ?? untilResponses(1, methods);
  const conn = await rawConnect(port, opts.host, timeoutMs);
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    await conn.write(parts[i]!);
  }
  if (opts.end) conn.end();
  const data = await conn.waitFor(until, Math.max(1, deadline - Date.now()));
  const closed = conn.ended || conn.closed;
  const timedOut = !closed && !until(data);
  // After the peer's FIN, send ours and let the socket close: an RST racing with the FIN (peer
  // closed with unread data) is seen then, so `reset` is reliable.
  if (closed && !conn.closed) {
    conn.end();
    await conn.waitClose(200);
  }
  const result: RawResult = {
    data,
    text: data.toString('latin1'),
    closed,
    reset: conn.reset,
    timedOut,
    responses: parseResponses(data, methods, closed),
  };
  conn.destroy();
  return result;
}

/** A scripted server: `script` runs for each accepted connection. */
export interface RawServer {
  port: number;
  server: net.Server;
  /** Every connection accepted so far, in order. */
  conns: RawConn[];
  /** Connections currently open. */
  open(): number;
  /** Resolves once `n` connections were accepted in total (rejects after timeoutMs). */
  waitConnections(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Listens on host (default 127.0.0.1) port 0 and runs `script(conn)` for every connection. A
 * script error destroys that connection. The connection is half-open capable.
 */
export function startRawServer(
  script: (conn: RawConn) => void | Promise<void>,
  host = '127.0.0.1',
): Promise<RawServer> {
  const conns: RawConn[] = [];
  const events = new EventEmitter();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    const conn = new RawConn(s);
    conns.push(conn);
    events.emit('conn');
    Promise.resolve()
      .then(() => script(conn))
      .catch(() => conn.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.removeListener('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        server,
        conns,
        open: () => conns.filter((c) => !c.closed).length,
        waitConnections: (n, timeoutMs = 5000) =>
          new Promise((res, rej) => {
            const check = (): void => {
              if (conns.length < n) return;
              clearTimeout(timer);
              events.off('conn', check);
              res();
            };
            const timer = setTimeout(() => {
              events.off('conn', check);
              rej(new Error(`raw server: ${conns.length} of ${n} connections within ${timeoutMs} ms`));
            }, timeoutMs);
            events.on('conn', check);
            check();
          }),
        close: () => {
          for (const c of conns) c.destroy();
          return new Promise<void>((res) => server.close(() => res()));
        },
      });
    });
  });
}
