// HTTP/2 clients for tests: a node:http2 client session that records, for each stream, exactly how
// it ended (END_STREAM seen, or RST_STREAM and its code) along with status, headers, body and
// trailers; and wrappers around the real nghttp and h2load binaries. Cleartext (prior knowledge)
// or TLS with ALPN h2.
import { spawn } from 'node:child_process';
import * as http2 from 'node:http2';
import type * as tls from 'node:tls';
import { requireBinary } from './bins.js';

/** What one HTTP/2 stream delivered. Never a rejection for a stream-level failure: see `rstCode`. */
export interface H2Response {
  /** :status, 0 when no response head arrived. */
  status: number;
  /** Response header fields as received, pseudo-headers included: [name, value, ...]. */
  rawHeaders: string[];
  /** Interim (1xx) header blocks, in order. */
  interim: string[][];
  body: Buffer;
  /** Trailer fields ([name, value, ...]), null when none came. */
  rawTrailers: string[] | null;
  /** The server ended the stream with END_STREAM (the response is complete). */
  ended: boolean;
  /** RST_STREAM code the stream closed with (0 = NO_ERROR, 2 = INTERNAL_ERROR, 7 = REFUSED_STREAM...). */
  rstCode: number;
  /** A stream or session error message, if any. */
  error: string | null;
  /** First value of a response header (lower-case name). */
  header(name: string): string | undefined;
  /** First value of a trailer field. */
  trailer(name: string): string | undefined;
}

export interface H2RequestOptions {
  /** Default GET. */
  method?: string;
  /** Default "/". */
  path?: string;
  /** Default "http"/"https" after the connection. */
  scheme?: string;
  /** :authority; default the host:port connected to; null sends none. */
  authority?: string | null;
  /** Regular fields, in this order; an array value sends the field once per value. */
  headers?: Array<[string, string]>;
  /** Request body; sent in `chunkSize` pieces (default all at once). No content-length is added. */
  body?: Buffer | string;
  chunkSize?: number;
  /** Trailer fields sent after the body (as a HEADERS frame with END_STREAM). */
  trailers?: Record<string, string>;
  /** Leave the request open after the body (no END_STREAM): the test ends it. */
  keepOpen?: boolean;
  /** Bound on the whole exchange, default 10000 ms; the stream is reset with CANCEL on expiry. */
  timeoutMs?: number;
  /** Called with the stream once created (to watch it or reset it). */
  onStream?(s: http2.ClientHttp2Stream): void;
}

export interface H2ConnectOptions {
  /** TLS: the options of tls.connect (servername, ca, cert, key...); ALPN h2 is asked. */
  tls?: tls.ConnectionOptions;
  /** SETTINGS we send. */
  settings?: http2.Settings;
  host?: string;
}

function pairs(h: http2.IncomingHttpHeaders, raw: string[] | undefined): string[] {
  if (raw !== undefined) return raw;
  const out: string[] = [];
  for (const [k, v] of Object.entries(h)) {
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else if (v !== undefined) out.push(k, String(v));
  }
  return out;
}

function first(raw: string[] | null, name: string): string | undefined {
  if (raw === null) return undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) return raw[i + 1];
  return undefined;
}

/** One HTTP/2 client connection. */
export class H2Client {
  /** GOAWAY frames received: [error code, last stream id]. */
  readonly goaways: Array<[number, number]> = [];
  /** The server's SETTINGS, once received. */
  remoteSettings: http2.Settings | null = null;
  closed = false;
  private readonly settingsSeen: Promise<void>;

  private constructor(
    readonly session: http2.ClientHttp2Session,
    readonly authority: string,
    readonly scheme: string,
  ) {
    session.on('error', () => {});
    session.on('goaway', (code: number, last: number) => this.goaways.push([code, last]));
    session.on('close', () => (this.closed = true));
    this.settingsSeen = new Promise((resolve) => {
      session.once('remoteSettings', (s: http2.Settings) => {
        this.remoteSettings = s;
        resolve();
      });
      session.once('close', () => resolve());
    });
  }

  /** Connects to 127.0.0.1:port (prior knowledge, or TLS with ALPN h2) and waits for the server's SETTINGS. */
  static async connect(port: number, opts: H2ConnectOptions = {}): Promise<H2Client> {
    const host = opts.host ?? '127.0.0.1';
    const scheme = opts.tls ? 'https' : 'http';
    const authority = `${opts.tls?.servername ?? host}:${port}`;
    const session = await new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const s = http2.connect(`${scheme}://${host}:${port}`, {
        ...(opts.tls ?? {}),
        ...(opts.tls ? { ALPNProtocols: ['h2'] } : {}),
        settings: { enablePush: false, ...(opts.settings ?? {}) },
      });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`h2 connect to ${port}: no connection within 5000 ms`));
      }, 5000);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const c = new H2Client(session, authority, scheme);
    await Promise.race([c.settingsSeen, new Promise((r) => setTimeout(r, 5000))]);
    return c;
  }

  /** Sends one request and resolves once its stream is closed, however it closed. */
  request(o: H2RequestOptions = {}): Promise<H2Response> {
    const headers: http2.OutgoingHttpHeaders = {
      ':method': o.method ?? 'GET',
      ':path': o.path ?? '/',
      ':scheme': o.scheme ?? this.scheme,
    };
    if (o.authority !== null) headers[':authority'] = o.authority ?? this.authority;
    for (const [k, v] of o.headers ?? []) {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    const body = o.body === undefined ? null : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
    const endStream = body === null && o.trailers === undefined && !o.keepOpen;
    return new Promise((resolve) => {
      const res = {
        status: 0,
        rawHeaders: [] as string[],
        interim: [] as string[][],
        chunks: [] as Buffer[],
        rawTrailers: null as string[] | null,
        ended: false,
        error: null as string | null,
      };
      let st: http2.ClientHttp2Stream;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let hardTimer: NodeJS.Timeout | undefined;
      const settle = (r: H2Response): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(hardTimer);
        resolve(r);
      };
      try {
        st = this.session.request(headers, {
          endStream,
          waitForTrailers: o.trailers !== undefined,
        });
      } catch (e) {
        resolve(finish(0, (e as Error).message));
        return;
      }
      let cancelled = false;
      timer = setTimeout(() => {
        cancelled = true;
        res.error ??= `no end within ${o.timeoutMs ?? 10000} ms`;
        st.close(http2.constants.NGHTTP2_CANCEL);
        // A stream whose writes are blocked by flow control may never report 'close': give up on it.
        hardTimer = setTimeout(() => {
          st.destroy();
          settle(finish(st.rstCode ?? http2.constants.NGHTTP2_CANCEL, null));
        }, 500);
      }, o.timeoutMs ?? 10000);
      function finish(rstCode: number, err: string | null): H2Response {
        const body = Buffer.concat(res.chunks);
        return {
          status: res.status,
          rawHeaders: res.rawHeaders,
          interim: res.interim,
          body,
          rawTrailers: res.rawTrailers,
          ended: res.ended,
          rstCode,
          error: err ?? res.error,
          header: (n) => first(res.rawHeaders, n),
          trailer: (n) => first(res.rawTrailers, n),
        };
      }
      st.on('headers', (h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => res.interim.push(pairs(h, raw)));
      st.on('response', (h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => {
        res.status = Number(h[':status'] ?? 0);
        res.rawHeaders = pairs(h, raw);
      });
      st.on('trailers', (h: http2.IncomingHttpHeaders, _f: number, raw?: string[]) => (res.rawTrailers = pairs(h, raw)));
      st.on('data', (d: Buffer) => res.chunks.push(d));
      // Node ends the readable side itself when a reset arrives while we still send ('aborted'
      // first) or when we cancel: only an 'end' before either is the server's END_STREAM.
      let aborted = false;
      st.on('aborted', () => (aborted = true));
      st.on('end', () => (res.ended = !aborted && !cancelled));
      st.on('error', (e: Error) => (res.error ??= e.message));
      st.on('wantTrailers', () => st.sendTrailers(o.trailers ?? {}));
      st.on('close', () => settle(finish(st.rstCode ?? 0, null)));
      o.onStream?.(st);
      if (body !== null) {
        const size = o.chunkSize ?? Math.max(1, body.length);
        for (let i = 0; i < body.length; i += size) st.write(body.subarray(i, i + size));
        if (!o.keepOpen) st.end();
      }
    });
  }

  /** Resolves once a GOAWAY arrived (true) or after timeoutMs (false). */
  waitGoaway(timeoutMs = 5000): Promise<boolean> {
    if (this.goaways.length > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.session.off('goaway', on);
        resolve(false);
      }, timeoutMs);
      const on = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.session.once('goaway', on);
    });
  }

  /** Resolves once the session is closed (true) or after timeoutMs (false). */
  waitClosed(timeoutMs = 5000): Promise<boolean> {
    if (this.closed || this.session.destroyed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.session.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Closes gracefully (GOAWAY) and destroys the session if it lingers. */
  async close(): Promise<void> {
    if (this.session.destroyed) return;
    const done = new Promise<void>((r) => this.session.close(() => r()));
    const timer = setTimeout(() => this.session.destroy(), 1000);
    await done;
    clearTimeout(timer);
  }

  destroy(): void {
    this.session.destroy();
  }
}

/** One request on a fresh connection, closed afterwards. */
export async function h2Request(port: number, o: H2RequestOptions = {}, c: H2ConnectOptions = {}): Promise<H2Response> {
  const client = await H2Client.connect(port, c);
  try {
    return await client.request(o);
  } finally {
    client.destroy();
  }
}

export interface ToolResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin args`, killed after timeoutMs (default 20000); never rejects once spawned. */
function runTool(name: string, args: string[], timeoutMs = 20000): Promise<ToolResult> {
  const child = spawn(requireBinary(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout: out, stderr: err });
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ exitCode: null, stdout: out, stderr: `${err}${e.message}` });
    });
  });
}

/** Runs the real `nghttp` with `args` (adds nothing: pass -v, -n, URLs yourself). */
export function nghttp(args: string[], opts: { timeoutMs?: number } = {}): Promise<ToolResult> {
  return runTool('nghttp', args, opts.timeoutMs);
}

/** The SETTINGS the server sent, read from `nghttp -v` output: name -> value. */
export function nghttpServerSettings(verbose: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = verbose.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/recv SETTINGS frame <length=\d+, flags=0x00,/.test(lines[i]!)) continue;
    for (let j = i + 1; j < lines.length; j++) {
      const m = /^\s+\[(SETTINGS_[A-Z_]+)\(0x[0-9a-f]+\):(\d+)\]/.exec(lines[j]!);
      if (m) out[m[1]!] = Number(m[2]);
      else if (!/^\s+\(niv=\d+\)/.test(lines[j]!)) break;
    }
    break;
  }
  return out;
}

export interface H2loadResult extends ToolResult {
  succeeded: number;
  failed: number;
  errored: number;
  /** Counts by status class, "2xx" ... "5xx". */
  status: Record<string, number>;
}

/** Runs the real `h2load` with `args` and reads its request summary. */
export async function h2load(args: string[], opts: { timeoutMs?: number } = {}): Promise<H2loadResult> {
  const r = await runTool('h2load', args, opts.timeoutMs ?? 30000);
  const m = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(r.stdout);
  const s = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(r.stdout);
  return {
    ...r,
    succeeded: Number(m?.[1] ?? -1),
    failed: Number(m?.[2] ?? -1),
    errored: Number(m?.[3] ?? -1),
    status: { '2xx': Number(s?.[1] ?? -1), '3xx': Number(s?.[2] ?? -1), '4xx': Number(s?.[3] ?? -1), '5xx': Number(s?.[4] ?? -1) },
  };
}
