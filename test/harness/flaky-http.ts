// An HTTP/1 server that misbehaves on cue, for retry tests: for each complete request it asks a
// plan what to do (close without a byte, reset, answer junk or half a header block, hang, or give
// a real answer), and records what it received. The plan sees how many times this server has seen
// the same request target, so "fail the first attempt, answer the next" is one line, and a test
// that runs the same scenario through several proxies keeps them apart by target alone.
// Built on startRawServer; every answer closes its connection, so that one attempt is one
// connection and the proxy never has an idle connection to this server.
import { startRawServer, type RawConn, type RawServer } from './rawpeer.js';
import { H1Reader, type HeaderField } from './wire.js';

/** What the server does with one request. A number is a complete answer with that status. */
export type FlakyReply =
  /** FIN without a byte of answer. */
  | 'close'
  /** RST without a byte of answer. */
  | 'reset'
  /** Bytes that are not HTTP, then FIN. */
  | 'junk'
  /** A status line and part of the header block, then FIN. */
  | 'partial'
  /** No answer; the connection closes when the proxy closes it. */
  | 'hang'
  | number;

export interface FlakyRequest {
  method: string;
  uri: string;
  headers: HeaderField[];
  body: Buffer;
  /** 1-based: how many requests for this target this server has received, this one included. */
  attempt: number;
  /** 1-based index of the connection it came on. */
  conn: number;
  /** What the plan answered. */
  reply: FlakyReply;
}

export interface FlakyServer {
  name: string;
  port: number;
  raw: RawServer;
  /** Every complete request, in arrival order. */
  requests: FlakyRequest[];
  /** The requests for one target. */
  requestsFor(uri: string): FlakyRequest[];
  /** Resolves once `n` requests for `uri` arrived (rejects after timeoutMs, default 5000). */
  waitRequests(uri: string, n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const REASON: Record<number, string> = {
  200: 'OK', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  425: 'Too Early', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * Starts the server on 127.0.0.1. Answers carry `X-Server: <name>` and a body naming the server
 * and the status, with Content-Length and `Connection: close`.
 */
export async function startFlakyServer(name: string, plan: (req: FlakyRequest) => FlakyReply): Promise<FlakyServer> {
  const requests: FlakyRequest[] = [];
  const seen = new Map<string, number>();
  const waiters = new Set<() => void>();
  let conns = 0;

  const act = async (c: RawConn, reply: FlakyReply): Promise<void> => {
    if (reply === 'hang') return;
    if (reply === 'reset') return c.resetAndDestroy();
    if (reply === 'junk') await c.write('\x00\x01 not HTTP at all \xff\xfe\r\n\r\n');
    else if (reply === 'partial') await c.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Serv');
    else if (typeof reply === 'number') {
      const body = `${name} ${reply}\n`;
      await c.write(
        `HTTP/1.1 ${reply} ${REASON[reply] ?? 'Status'}\r\nX-Server: ${name}\r\nContent-Length: ${body.length}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
    }
    c.end();
  };

  const raw = await startRawServer((c) => {
    const conn = ++conns;
    let busy = false;
    const reader = new H1Reader('request', {
      onMessage: (m) => {
        // One request per connection: a proxy that pipelines behind it gets nothing more.
        if (busy) return;
        busy = true;
        const attempt = (seen.get(m.uri) ?? 0) + 1;
        seen.set(m.uri, attempt);
        const req: FlakyRequest = { method: m.method, uri: m.uri, headers: m.headers, body: m.body, attempt, conn, reply: 'close' };
        req.reply = plan(req);
        requests.push(req);
        for (const w of [...waiters]) w();
        void act(c, req.reply).catch(() => c.destroy());
      },
    });
    c.socket.on('data', (d: Buffer) => {
      try {
        reader.push(d);
      } catch {
        c.destroy();
      }
    });
    // The proxy closing its side ends a hanging exchange.
    c.socket.on('end', () => c.end());
  });

  const requestsFor = (uri: string): FlakyRequest[] => requests.filter((r) => r.uri === uri);
  return {
    name,
    port: raw.port,
    raw,
    requests,
    requestsFor,
    waitRequests: (uri, n, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (requestsFor(uri).length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`flaky server ${name}: ${requestsFor(uri).length} of ${n} requests for ${uri} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => raw.close(),
  };
}
