// HTTP clients for tests: a small HTTP/1.1 client on raw sockets (keep-alive and pipelining on
// one connection, exact header case) and a wrapper around the real curl binary.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { requireBinary } from './bins.js';
import { makeTempDir } from './proc.js';
import { H1Reader, headerHasToken, headerValue, type H1Message, type HeaderField } from './wire.js';

export interface RequestOptions {
  method?: string;
  /** Request target, default "/". */
  path?: string;
  /** Sent in this order and case. Host (127.0.0.1:port) and Content-Length are added if absent. */
  headers?: Record<string, string> | HeaderField[];
  body?: string | Buffer;
  /** Send the body with chunked transfer coding (in chunks of this many bytes; true = one chunk). */
  chunked?: boolean | number;
  /** "HTTP/1.1" (default) or "HTTP/1.0". */
  version?: string;
  /** Bound on this exchange, default 10000 ms; the connection is destroyed on expiry. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  reason: string;
  version: string;
  headers: HeaderField[];
  trailers: HeaderField[];
  body: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  framing: H1Message['framing'];
  /** Interim 1xx responses received before this one. */
  interim: H1Message[];
  /** The response says the connection will not be reused (Connection: close or close-delimited). */
  connectionClose: boolean;
  /** First value of a header, case-insensitive. */
  header(name: string): string | undefined;
}

interface Pending {
  method: string;
  interim: H1Message[];
  resolve(r: HttpResponse): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

function toResponse(m: H1Message, interim: H1Message[]): HttpResponse {
  return {
    status: m.status,
    reason: m.reason,
    version: m.version,
    headers: m.headers,
    trailers: m.trailers,
    body: m.body,
    text: m.body.toString('utf8'),
    framing: m.framing,
    interim,
    connectionClose: m.framing === 'close' || headerHasToken(m.headers, 'connection', 'close'),
    header: (name) => headerValue(m.headers, name),
  };
}

/** Serializes a request the way RequestOptions describes. */
export function buildRequest(port: number, o: RequestOptions): Buffer {
  const method = o.method ?? 'GET';
  const fields: HeaderField[] = Array.isArray(o.headers) ? [...o.headers] : Object.entries(o.headers ?? {});
  const has = (n: string): boolean => fields.some(([k]) => k.toLowerCase() === n);
  const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
  if (!has('host')) fields.unshift(['Host', `127.0.0.1:${port}`]);
  let payload: Buffer[] = [];
  if (o.chunked) {
    if (!has('transfer-encoding')) fields.push(['Transfer-Encoding', 'chunked']);
    const b = body ?? Buffer.alloc(0);
    const size = typeof o.chunked === 'number' ? Math.max(1, o.chunked) : Math.max(1, b.length);
    for (let i = 0; i < b.length; i += size) {
      const part = b.subarray(i, i + size);
      payload.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
    }
    payload.push(Buffer.from('0\r\n\r\n'));
  } else if (body !== undefined) {
    if (!has('content-length') && !has('transfer-encoding')) fields.push(['Content-Length', String(body.length)]);
    payload = [body];
  }
  let head = `${method} ${o.path ?? '/'} ${o.version ?? 'HTTP/1.1'}\r\n`;
  for (const [k, v] of fields) head += `${k}: ${v}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), ...payload]);
}

/**
 * One client connection. Requests sent while others are outstanding are pipelined; responses are
 * matched in order. A close by the server fails the requests still waiting.
 */
export class HttpClient {
  private readonly pending: Pending[] = [];
  private readonly reader: H1Reader;
  closed = false;

  private constructor(
    readonly socket: net.Socket,
    readonly port: number,
  ) {
    this.reader = new H1Reader('response', {
      onMessage: (m) => {
        const p = this.pending[0];
        if (!p) return;
        if (m.status < 200 && m.status !== 101) {
          p.interim.push(m);
          return;
        }
        this.pending.shift();
        clearTimeout(p.timer);
        if (!m.complete) {
          p.reject(new Error(`response truncated by the close (status ${m.status}, ${m.body.length} body bytes)`));
          return;
        }
        p.resolve(toResponse(m, p.interim));
      },
    });
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      try {
        this.reader.push(d);
      } catch (e) {
        this.failAll(new Error(`bad response: ${(e as Error).message}`));
        socket.destroy();
      }
    });
    socket.on('end', () => {
      try {
        this.reader.end();
      } catch {
        // reported below as a close before the response
      }
    });
    socket.on('error', (e) => this.failAll(e));
    socket.on('close', () => {
      this.closed = true;
      this.failAll(new Error('connection closed before the response was complete'));
    });
  }

  /** Opens a connection to host:port (default 127.0.0.1). */
  static connect(port: number, host = '127.0.0.1'): Promise<HttpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host });
      s.once('error', reject);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(new HttpClient(s, port));
      });
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(e);
    }
  }

  /** Sends one request on this connection and resolves with its response. */
  request(o: RequestOptions = {}): Promise<HttpResponse> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    const method = (o.method ?? 'GET').toUpperCase();
    return new Promise((resolve, reject) => {
      const timeoutMs = o.timeoutMs ?? 10000;
      const timer = setTimeout(() => {
        reject(new Error(`no response within ${timeoutMs} ms`));
        this.socket.destroy();
      }, timeoutMs);
      this.pending.push({ method, interim: [], resolve, reject, timer });
      this.reader.expect(method);
      this.socket.write(buildRequest(this.port, o));
    });
  }

  /** Closes the connection (FIN) and resolves once it is fully closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A peer that never closes its side must not hold the test.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }
}

/** One request on a fresh connection to 127.0.0.1:port, closed afterwards. */
export async function request(port: number, o: RequestOptions = {}, host = '127.0.0.1'): Promise<HttpResponse> {
  const c = await HttpClient.connect(port, host);
  try {
    return await c.request(o);
  } finally {
    c.socket.destroy();
  }
}

export interface CurlResult {
  /** curl's exit code (0 = transfer fine; 7 = connect failed, 28 = timeout, 52 = empty reply, ...). */
  exitCode: number | null;
  /** Last response's status, 0 when none. */
  status: number;
  /** "1.1", "2", ... as curl reports it. */
  httpVersion: string;
  /** Header fields of the last response (interim and redirect heads are in `rawHeaders`). */
  headers: HeaderField[];
  rawHeaders: string;
  body: Buffer;
  text: string;
  stderr: string;
  header(name: string): string | undefined;
}

/**
 * Runs the real curl with `args` (URL and options) and collects the last response's status,
 * headers and body. Adds `-s -S --max-time 10` before `args`, which can override them.
 */
export async function curl(args: string[], opts: { timeoutMs?: number } = {}): Promise<CurlResult> {
  const bin = requireBinary('curl');
  const dir = makeTempDir('sluice-curl-');
  const bodyFile = path.join(dir, 'body');
  const headFile = path.join(dir, 'head');
  const argv = ['-s', '-S', '--max-time', '10', '-o', bodyFile, '-D', headFile, '-w', '%{http_code} %{http_version}', ...args];
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const read = (f: string): Buffer => (fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
  const rawHeaders = read(headFile).toString('latin1');
  const body = read(bodyFile);
  fs.rmSync(dir, { recursive: true, force: true });
  const [code, version] = out.trim().split(' ');
  // -D writes one block per response (1xx, redirects); the last non-empty block is the final one.
  const blocks = rawHeaders.split(/\r?\n\r?\n/).filter((b) => b.trim() !== '');
  const last = blocks[blocks.length - 1] ?? '';
  const headers: HeaderField[] = [];
  for (const line of last.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.push([line.slice(0, i), line.slice(i + 1).trim()]);
  }
  return {
    exitCode,
    status: Number(code ?? 0) || 0,
    httpVersion: version ?? '',
    headers,
    rawHeaders,
    body,
    text: body.toString('utf8'),
    stderr: err,
    header: (name) => headerValue(headers, name),
  };
}
