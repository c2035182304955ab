// An incremental HTTP/1 message reader for the test peers (origin server, raw client, HTTP client).
// It is deliberately independent of sluice's own codec: a test that parsed with the code under
// test would agree with that code's bugs. It is tolerant where a test peer has to be (bare LF,
// obs-fold are reported, not fatal) and precise about framing, which is what tests look at.

/** One header field as received: original name case, value with surrounding blanks trimmed. */
export type HeaderField = [name: string, value: string];

export interface H1Message {
  kind: 'request' | 'response';
  /** "HTTP/1.1", "HTTP/1.0" as written on the start line. */
  version: string;
  /** Requests only. */
  method: string;
  uri: string;
  /** Responses only. */
  status: number;
  reason: string;
  headers: HeaderField[];
  trailers: HeaderField[];
  /** How the body was delimited. */
  framing: 'none' | 'length' | 'chunked' | 'close';
  /** The decoded body (chunked coding removed). */
  body: Buffer;
  /** False when the connection ended before the message did. */
  complete: boolean;
  /** The head exactly as received, up to and including the blank line. */
  rawHead: string;
}

export class H1ParseError extends Error {}

/** First value of header `name` (case-insensitive), or undefined. */
export function headerValue(headers: readonly HeaderField[], name: string): string | undefined {
  const l = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === l) return v;
  return undefined;
}

/** Every value of header `name` (case-insensitive), in order. */
export function headerValues(headers: readonly HeaderField[], name: string): string[] {
  const l = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === l).map(([, v]) => v);
}

/** True when a comma-separated header (Connection, Transfer-Encoding) lists `token`. */
export function headerHasToken(headers: readonly HeaderField[], name: string, token: string): boolean {
  const t = token.toLowerCase();
  return headerValues(headers, name).some((v) =>
    v.split(',').some((p) => p.trim().toLowerCase() === t),
  );
}

export interface ReaderEvents {
  /** The head of a message is parsed (before its body); interim 1xx responses too. */
  onHead?(msg: H1Message): void;
  /** A message is complete (interim 1xx responses are reported here too, with an empty body). */
  onMessage(msg: H1Message): void;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'close' | 'done';

/**
 * Reads a byte stream of HTTP/1 messages. Push bytes with `push`, signal EOF with `end`.
 * For responses, call `expect(method)` once per request sent so that HEAD responses are framed
 * right. Throws H1ParseError on bytes that cannot be framed.
 */
export class H1Reader {
  private buf: Buffer = Buffer.alloc(0);
  private state: State = 'head';
  private cur: H1Message | null = null;
  private chunks: Buffer[] = [];
  private remaining = 0;
  private methods: string[] = [];
  /** Set after a message that turns the connection into a tunnel (101, 2xx to CONNECT). */
  tunnel = false;

  constructor(
    readonly kind: 'request' | 'response',
    private readonly ev: ReaderEvents,
    private readonly maxHead = 65536,
  ) {}

  /** Registers the method of a request whose response will be read next (responses only). */
  expect(method: string): void {
    this.methods.push(method.toUpperCase());
  }

  /** Bytes buffered but not consumed yet (after a tunnel switch, the tunnel's first bytes). */
  leftover(): Buffer {
    return this.buf;
  }

  push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    this.run();
  }

  /** The peer closed: completes a close-delimited body, or reports a truncated message. */
  end(): void {
    this.run();
    if (this.cur && this.state !== 'head') {
      const msg = this.cur;
      msg.complete = this.state === 'close';
      this.finish();
      this.ev.onMessage(msg);
    }
  }

  /** True when no message is in progress (nothing, or only part of a head, was received). */
  idle(): boolean {
    return this.cur === null;
  }

  private run(): void {
    for (;;) {
      if (this.tunnel) return;
      switch (this.state) {
        case 'head':
          if (!this.readHead()) return;
          break;
        case 'length': {
          if (this.buf.length === 0) return;
          const n = Math.min(this.remaining, this.buf.length);
          this.chunks.push(this.buf.subarray(0, n));
          this.buf = this.buf.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) this.complete();
          break;
        }
        case 'chunk-size': {
          const line = this.takeLine();
          if (line === null) return;
          const sizeText = line.split(';')[0]!.trim();
          if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new H1ParseError(`bad chunk size line '${line}'`);
          this.remaining = parseInt(sizeText, 16);
          this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          if (this.buf.length === 0) return;
          const n = Math.min(this.remaining, this.buf.length);
          this.chunks.push(this.buf.subarray(0, n));
          this.buf = this.buf.subarray(n);
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          const line = this.takeLine();
          if (line === null) return;
          if (line !== '') throw new H1ParseError('missing CRLF after chunk data');
          this.state = 'chunk-size';
          break;
        }
        case 'trailers': {
          const line = this.takeLine();
          if (line === null) return;
          if (line === '') {
            this.complete();
            break;
          }
          const c = line.indexOf(':');
          if (c <= 0) throw new H1ParseError(`bad trailer line '${line}'`);
          this.cur!.trailers.push([line.slice(0, c), line.slice(c + 1).trim()]);
          break;
        }
        case 'close':
          if (this.buf.length === 0) return;
          this.chunks.push(this.buf);
          this.buf = Buffer.alloc(0);
          return;
        case 'done':
          return;
      }
    }
  }

  private takeLine(): string | null {
    const i = this.buf.indexOf(10);
    if (i < 0) {
      if (this.buf.length > this.maxHead) throw new H1ParseError('line too long');
      return null;
    }
    const end = i > 0 && this.buf[i - 1] === 13 ? i - 1 : i;
    const line = this.buf.subarray(0, end).toString('latin1');
    this.buf = this.buf.subarray(i + 1);
    return line;
  }

  private readHead(): boolean {
    // Leading empty lines before a request are allowed (RFC 9112 §2.2).
    while (this.kind === 'request' && this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10) {
      this.buf = this.buf.subarray(2);
    }
    let end = this.buf.indexOf(CRLFCRLF);
    let sepLen = 4;
    const lf = this.buf.indexOf(LFLF);
    if (lf >= 0 && (end < 0 || lf < end)) {
      end = lf;
      sepLen = 2;
    }
    if (end < 0) {
      if (this.buf.length > this.maxHead) throw new H1ParseError('head too large');
      return false;
    }
    const rawHead = this.buf.subarray(0, end + sepLen).toString('latin1');
    this.buf = this.buf.subarray(end + sepLen);
    const lines = rawHead.slice(0, end).split(/\r?\n/);
    const msg: H1Message = {
      kind: this.kind,
      version: '',
      method: '',
      uri: '',
      status: 0,
      reason: '',
      headers: [],
      trailers: [],
      framing: 'none',
      body: Buffer.alloc(0),
      complete: true,
      rawHead,
    };
    const start = lines[0]!;
    if (this.kind === 'request') {
      const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) (HTTP\/\d\.\d)$/.exec(start);
      if (!m) throw new H1ParseError(`bad request line '${start}'`);
      msg.method = m[1]!;
      msg.uri = m[2]!;
      msg.version = m[3]!;
    } else {
      const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(start);
      if (!m) throw new H1ParseError(`bad status line '${start}'`);
      msg.version = m[1]!;
      msg.status = Number(m[2]);
      msg.reason = m[3] ?? '';
    }
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if ((line[0] === ' ' || line[0] === '\t') && msg.headers.length > 0) {
        // obs-fold: join to the previous field so that tests can see what was sent.
        const last = msg.headers[msg.headers.length - 1]!;
        last[1] = `${last[1]} ${line.trim()}`;
        continue;
      }
      const c = line.indexOf(':');
      if (c <= 0) throw new H1ParseError(`bad header line '${line}'`);
      msg.headers.push([line.slice(0, c), line.slice(c + 1).trim()]);
    }
    this.cur = msg;
    this.chunks = [];
    this.ev.onHead?.(msg);
    this.frame(msg);
    return true;
  }

  private frame(msg: H1Message): void {
    const te = headerValues(msg.headers, 'transfer-encoding');
    const cl = headerValues(msg.headers, 'content-length');
    if (msg.kind === 'response') {
      const s = msg.status;
      if (s >= 100 && s < 200) {
        // Interim responses carry no body and do not answer the request; 101 ends HTTP/1.
        if (s === 101) {
          this.methods.shift();
          this.tunnel = true;
        }
        this.complete();
        return;
      }
      const method = this.methods.shift() ?? 'GET';
      if (method === 'HEAD' || s === 204 || s === 304) return this.complete();
      if (method === 'CONNECT' && s >= 200 && s < 300) {
        this.tunnel = true;
        return this.complete();
      }
    }
    if (te.length > 0) {
      const codings = te.join(',').split(',').map((x) => x.trim().toLowerCase());
      if (codings[codings.length - 1] === 'chunked') {
        msg.framing = 'chunked';
        this.state = 'chunk-size';
        return;
      }
      if (msg.kind === 'request') throw new H1ParseError('transfer-encoding without chunked last');
      msg.framing = 'close';
      this.state = 'close';
      return;
    }
    if (cl.length > 0) {
      const vals = new Set(cl.join(',').split(',').map((x) => x.trim()));
      if (vals.size !== 1) throw new H1ParseError(`conflicting content-length '${cl.join(',')}'`);
      const v = [...vals][0]!;
      if (!/^\d+$/.test(v)) throw new H1ParseError(`bad content-length '${v}'`);
      msg.framing = 'length';
      this.remaining = Number(v);
      if (this.remaining === 0) return this.complete();
      this.state = 'length';
      return;
    }
    if (msg.kind === 'request') return this.complete();
    msg.framing = 'close';
    this.state = 'close';
  }

  private complete(): void {
    const msg = this.cur!;
    this.finish();
    this.ev.onMessage(msg);
  }

  private finish(): void {
    const msg = this.cur!;
    msg.body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = [];
    this.cur = null;
    this.state = this.tunnel ? 'done' : 'head';
  }
}

/**
 * Parses the HTTP/1 responses in `data` (as a raw client collected it), stopping silently at bytes
 * that are not HTTP. `methods` gives the request methods in order (HEAD matters); `eof` says the
 * connection was closed after `data` (a truncated last message then appears with complete=false).
 */
export function parseResponses(data: Buffer, methods: string[] = [], eof = true): H1Message[] {
  const out: H1Message[] = [];
  const r = new H1Reader('response', { onMessage: (m) => out.push(m) });
  for (const m of methods) r.expect(m);
  try {
    r.push(data);
    if (eof) r.end();
  } catch (e) {
    if (!(e instanceof H1ParseError)) throw e;
  }
  return out;
}

/**
 * True when `data` holds at least `count` complete final responses (1xx interim ones do not
 * count). A close-delimited body is never complete before EOF. Malformed data counts as complete
 * so that a waiting client stops and lets the test look at the bytes.
 */
export function hasCompleteResponses(data: Buffer, count = 1, methods: string[] = []): boolean {
  let n = 0;
  const r = new H1Reader('response', {
    onMessage: (m) => {
      if (m.status >= 200 || m.status === 101) n++;
    },
  });
  for (const m of methods) r.expect(m);
  try {
    r.push(data);
  } catch {
    return true;
  }
  return n >= count;
}
