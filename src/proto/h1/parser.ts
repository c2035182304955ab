// Sans-IO HTTP/1.x message parser (RFC 9112): bytes in, events out. It never touches a socket.
// One parser object parses one message at a time: after `onEnd` it stops consuming and `feed`
// returns the offset where the next (pipelined) message starts; `reset()` readies it again.
//
// Strictness is our first defence against request smuggling: invalid header names, bare CR,
// conflicting Content-Length values, Transfer-Encoding not ending in chunked on a request, spaces
// before the colon, and oversized heads are errors, never guesses.

import {
  BodyKind,
  hasToken,
  headerDel,
  HTX_BLK,
  HTX_HDR,
  htxAdjust,
  htxDataSize,
  htxRequestSize,
  htxResponseSize,
  type HtxHeaders,
  type HtxRequest,
  type HtxResponse,
} from '../../htx/index.js';

export const enum H1State {
  Head = 0,
  BodyLength = 1,
  ChunkSize = 2,
  ChunkData = 3,
  ChunkDataEnd = 4,
  Trailers = 5,
  UntilClose = 6,
  Done = 7,
  Error = 8,
  Tunnel = 9,
}

/** Why a message could not be parsed. The muxes map these to 400 (requests) or 502 (responses). */
export const enum H1ErrorKind {
  /** Syntax error in the start line or a header. */
  Syntax = 1,
  /** The head did not fit in the buffer (see H1Limits) or had too many fields. */
  TooLarge = 2,
  /** Invalid framing: bad or conflicting Content-Length, bad Transfer-Encoding, bad chunk. */
  Framing = 3,
  /** The connection closed in the middle of a message. */
  Truncated = 4,
}

export interface H1ParserEvents {
  /** A complete request head (request parser). */
  onRequest(req: HtxRequest): void;
  /** A complete response head (response parser); 1xx interim responses come through here too. */
  onResponse(res: HtxResponse): void;
  /** Body payload, de-chunked. The buffer is a view of the input: copy it to keep it. */
  onData(data: Buffer): void;
  /** Trailer fields after a chunked body (only called when there are some). */
  onTrailers(trailers: HtxHeaders): void;
  /** End of message. */
  onEnd(): void;
  /** A parse error; the parser is in the Error state afterwards. `offset` is where it happened in the head. */
  onError(kind: H1ErrorKind, reason: string): void;
}

export interface H1Limits {
  /** Largest head accepted, in bytes as received (HAProxy: what its input buffer can hold). */
  maxHead: number;
  /**
   * Largest head accepted in HAProxy's own accounting of it (htx/size.ts), which is what
   * HAProxy checks against tune.bufsize - tune.maxrewrite; unchecked when absent.
   */
  maxHtx?: number;
  /** Largest number of header fields. */
  maxHeaders: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

const EMPTY = Buffer.alloc(0);

/** Parses one HTTP/1.x request or response at a time. */
export class H1Parser {
  state: H1State = H1State.Head;
  /** Body bytes left (Length) or left in the current chunk (ChunkData). */
  remaining = 0;
  /** For response parsers: the method of the request being answered (HEAD / CONNECT change framing). */
  requestMethod = '';
  /** Bytes of head accumulated across reads while the head is incomplete. */
  private pending: Buffer = EMPTY;
  private trailerLines: Buffer = EMPTY;
  /** Head bytes of the current message (for %hr-like accounting and logs). */
  headBytes = 0;
  /** The head just parsed came in one read (what HAProxy's first read takes differs). */
  private headInOneRead = true;

  constructor(
    readonly isRequest: boolean,
    private readonly ev: H1ParserEvents,
    private readonly limits: H1Limits,
  ) {}

  /** Readies the parser for the next message on the same connection. */
  reset(): void {
    this.state = H1State.Head;
    this.remaining = 0;
    this.pending = EMPTY;
    this.trailerLines = EMPTY;
    this.headBytes = 0;
  }

  /** True while a message has begun (some of its head or body was received) but not ended. */
  get inMessage(): boolean {
    return (this.state !== H1State.Head && this.state !== H1State.Done && this.state !== H1State.Error) ||
      (this.state === H1State.Head && this.pending.length > 0);
  }

  /**
   * Consumes bytes from `buf` starting at `start`. Returns the offset where parsing stopped:
   * `buf.length` when everything was consumed, less when the message ended (Done) and a pipelined
   * message follows, or at an error.
   */
  feed(buf: Buffer, start = 0): number {
    let pos = start;
    while (pos < buf.length) {
      switch (this.state) {
        case H1State.Head:
          pos = this.feedHead(buf, pos);
          break;
        case H1State.BodyLength: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          const data = pos === 0 && n === buf.length ? buf : buf.subarray(pos, pos + n);
          pos += n;
          this.ev.onData(data);
          if (this.remaining === 0 && this.state === H1State.BodyLength) this.finishMessage();
          break;
        }
        case H1State.ChunkSize:
          pos = this.feedChunkSize(buf, pos);
          break;
        case H1State.ChunkData: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          const data = buf.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) {
            this.state = H1State.ChunkDataEnd;
            this.remaining = 2; // CRLF expected (LF alone tolerated)
          }
          this.ev.onData(data);
          break;
        }
        case H1State.ChunkDataEnd: {
          const c = buf[pos]!;
          if (c === CR && this.remaining === 2) {
            this.remaining = 1;
            pos++;
          } else if (c === LF) {
            pos++;
            this.state = H1State.ChunkSize;
            this.pending = EMPTY;
          } else {
            return this.fail(H1ErrorKind.Framing, 'missing CRLF after chunk data', pos);
          }
          break;
        }
        case H1State.Trailers:
          pos = this.feedTrailers(buf, pos);
          break;
        case H1State.UntilClose:
        case H1State.Tunnel: {
          const data = pos === 0 ? buf : buf.subarray(pos);
          pos = buf.length;
          this.ev.onData(data);
          break;
        }
        case H1State.Done:
        case H1State.Error:
          return pos;
      }
    }
    return pos;
  }

  /**
   * The connection was closed by the peer. Ends a close-delimited body; anything else in
   * progress is a truncated message.
   */
  finish(): void {
    if (this.state === H1State.UntilClose) {
      this.finishMessage();
    } else if (this.inMessage) {
      this.state = H1State.Error;
      this.ev.onError(H1ErrorKind.Truncated, 'connection closed in the middle of a message');
    }
  }

  /** Switches to raw pass-through (after 101 or a 2xx answer to CONNECT): every byte is data. */
  startTunnel(): void {
    this.state = H1State.Tunnel;
  }

  private fail(kind: H1ErrorKind, reason: string, pos: number): number {
    this.state = H1State.Error;
    this.ev.onError(kind, reason);
    return pos;
  }

  private finishMessage(): void {
    this.state = H1State.Done;
    this.ev.onEnd();
  }

  // ---- head ----

  private feedHead(buf: Buffer, pos: number): number {
    // Skip empty lines before a request (RFC 9112 2.2 allows a server to ignore them).
    if (this.pending.length === 0) {
      while (pos < buf.length && (buf[pos] === CR || buf[pos] === LF)) pos++;
      if (pos === buf.length) return pos;
    }
    let data: Buffer;
    let base: number;
    if (this.pending.length > 0) {
      data = Buffer.concat([this.pending, buf.subarray(pos)]);
      base = this.pending.length;
    } else {
      data = buf;
      base = pos;
    }
    const scanFrom = this.pending.length > 0 ? Math.max(0, this.pending.length - 3) : pos;
    const end = findHeadEnd(data, scanFrom);
    const headStart = this.pending.length > 0 ? 0 : pos;
    if (end < 0) {
      if (data.length - headStart > this.limits.maxHead) {
        return this.fail(H1ErrorKind.TooLarge, 'head too large', buf.length);
      }
      this.pending = Buffer.from(data.subarray(headStart));
      return buf.length;
    }
    if (end - headStart > this.limits.maxHead) return this.fail(H1ErrorKind.TooLarge, 'head too large', buf.length);
    this.headBytes = end - headStart;
    const consumedOfBuf = this.pending.length > 0 ? end - base + pos : end;
    this.headInOneRead = this.pending.length === 0;
    this.pending = EMPTY;
    const ok = this.isRequest ? this.parseRequestHead(data, headStart, end) : this.parseResponseHead(data, headStart, end);
    if (!ok) return buf.length;
    return consumedOfBuf;
  }

  /** Parses header lines in data[from, end) into `out`; returns an error string or null. */
  private parseFields(data: Buffer, from: number, end: number, out: HtxHeaders): string | null {
    let p = from;
    let count = 0;
    while (p < end) {
      const eol = findLF(data, p, end);
      let lineEnd = eol;
      if (lineEnd > p && data[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === p) return null; // the empty line ending the head
      const first = data[p]!;
      if (first === SP || first === HT) {
        // obs-fold: replace the folding by a space in the previous value (RFC 9112 5.2).
        // As HAProxy, the line break bytes become spaces and the continuation is kept as is.
        if (out.length === 0) return 'folded line without a header';
        const err = checkValue(data, p, lineEnd);
        if (err) return err;
        const brk = p >= 2 && data[p - 2] === CR ? '  ' : ' ';
        out[out.length - 1] = out[out.length - 1] + brk + latin1(data, p, trimEndWs(data, p, lineEnd));
        p = eol + 1;
        continue;
      }
      let c = p;
      while (c < lineEnd && TCHAR[data[c]!] === 1) c++;
      if (c === p || c >= lineEnd || data[c] !== COLON) return 'invalid header name';
      const name = latin1(data, p, c);
      let a = c + 1;
      while (a < lineEnd && (data[a] === SP || data[a] === HT)) a++;
      const b = trimEndWs(data, a, lineEnd);
      const err = checkValue(data, a, b);
      if (err) return err;
      out.push(name, latin1(data, a, b));
      // HAProxy's tune.http.maxhdr counts the end-of-headers marker too.
      if (++count >= this.limits.maxHeaders) return 'too many headers';
      p = eol + 1;
    }
    return null;
  }

  private parseRequestHead(data: Buffer, start: number, end: number): boolean {
    const eol = findLF(data, start, end);
    let lineEnd = eol;
    if (data[lineEnd - 1] === CR) lineEnd--;
    // method SP request-target SP HTTP-version
    let p = start;
    while (p < lineEnd && TCHAR[data[p]!] === 1) p++;
    if (p === start || data[p] !== SP) return this.headError('invalid method');
    const method = latin1(data, start, p);
    const uStart = ++p;
    while (p < lineEnd && data[p]! > SP && data[p]! !== 127) p++;
    if (p === uStart || data[p] !== SP) return this.headError('invalid request target');
    const uri = latin1(data, uStart, p);
    p++;
    const version = parseVersion(data, p, lineEnd);
    if (version < 0) return this.headError('invalid HTTP version');
    const headers: HtxHeaders = [];
    const err = this.parseFields(data, eol + 1, end, headers);
    if (err) return this.headError(err);
    const req: HtxRequest = {
      method,
      uri,
      version,
      headers,
      bodyKind: BodyKind.None,
      contentLength: -1,
      wantClose: version < 11,
      expectContinue: false,
      upgrade: '',
      normalizedUri: false,
      bodyWithHead: 0,
    };
    let te = false;
    let hosts = 0;
    let connection = '';
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i]!;
      switch (n.length) {
        case 4:
          if (n.toLowerCase() === 'host') hosts++;
          break;
        case 6:
          if (n.toLowerCase() === 'expect' && headers[i + 1]!.toLowerCase() === '100-continue') req.expectContinue = true;
          break;
        case 7:
          if (n.toLowerCase() === 'upgrade') req.upgrade = headers[i + 1]!;
          break;
        case 10:
          if (n.toLowerCase() === 'connection') connection = connection ? connection + ',' + headers[i + 1] : headers[i + 1]!;
          break;
        case 14:
          if (n.toLowerCase() === 'content-length') {
            const r = this.applyContentLength(req, headers[i + 1]!);
            if (r) return this.headError(r, H1ErrorKind.Framing);
          }
          break;
        case 17:
          if (n.toLowerCase() === 'transfer-encoding') {
            te = true;
          }
          break;
      }
    }
    if (hosts > 1) return this.headError('several Host headers');
    if (hosts === 0 && version === 11) return this.headError('missing Host header');
    if (hosts === 1 && !authorityMatchesHost(uri, headers)) return this.headError('authority differs from Host');
    if (te) {
      // Transfer-Encoding wins over Content-Length (which is removed) and must end in chunked
      // for a request; the connection closes after such an ambiguous message (RFC 9112 6.3).
      const tev = joinValues(headers, 'transfer-encoding');
      if (!endsWithChunked(tev)) return this.headError('Transfer-Encoding without chunked', H1ErrorKind.Framing);
      if (req.contentLength >= 0) {
        headerDel(headers, 'content-length');
        req.wantClose = true;
      }
      if (version < 11) req.wantClose = true;
      req.contentLength = -1;
      req.bodyKind = BodyKind.Chunked;
    }
    if (!this.fitsHtx(req, htxRequestSize(req), data, start, end)) return false;
    this.applyConnection(req, connection);
    this.ev.onRequest(req);
    if (this.state !== H1State.Head) return true; // the handler switched state (tunnel, error)
    this.startBody(req.bodyKind, req.contentLength);
    return true;
  }

  private parseResponseHead(data: Buffer, start: number, end: number): boolean {
    const eol = findLF(data, start, end);
    let lineEnd = eol;
    if (data[lineEnd - 1] === CR) lineEnd--;
    // HTTP-version SP status-code SP [reason-phrase]
    if (lineEnd - start < 12 || data[start + 8] !== SP) return this.headError('invalid status line');
    const version = parseVersion(data, start, start + 8);
    if (version < 0) return this.headError('invalid HTTP version');
    const d0 = data[start + 9]! - 48;
    const d1 = data[start + 10]! - 48;
    const d2 = data[start + 11]! - 48;
    if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return this.headError('invalid status code');
    const status = d0 * 100 + d1 * 10 + d2;
    let reason = '';
    if (lineEnd > start + 12) {
      if (data[start + 12] !== SP) return this.headError('invalid status line');
      reason = latin1(data, start + 13, lineEnd);
    }
    const headers: HtxHeaders = [];
    const err = this.parseFields(data, eol + 1, end, headers);
    if (err) return this.headError(err);
    const res: HtxResponse = {
      status,
      reason,
      version,
      headers,
      bodyKind: BodyKind.UntilClose,
      contentLength: -1,
      wantClose: version < 11,
      bodyWithHead: 0,
    };
    let te = false;
    let connection = '';
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i]!;
      if (n.length === 14 && n.toLowerCase() === 'content-length') {
        const r = this.applyContentLength(res, headers[i + 1]!);
        if (r) return this.headError(r, H1ErrorKind.Framing);
      } else if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') {
        te = true;
      } else if (n.length === 10 && n.toLowerCase() === 'connection') {
        connection = connection ? connection + ',' + headers[i + 1] : headers[i + 1]!;
      }
    }
    if (res.contentLength >= 0) res.bodyKind = BodyKind.Length;
    if (te) {
      const tev = joinValues(headers, 'transfer-encoding');
      if (res.contentLength >= 0) {
        headerDel(headers, 'content-length');
        res.contentLength = -1;
        res.wantClose = true;
      }
      // A response whose coding does not end in chunked is delimited by the close.
      res.bodyKind = endsWithChunked(tev) ? BodyKind.Chunked : BodyKind.UntilClose;
      if (version < 11) res.wantClose = true;
    }
    this.applyConnection(res, connection);
    const m = this.requestMethod;
    if (status < 200) {
      res.bodyKind = status === 101 ? BodyKind.Tunnel : BodyKind.None;
      res.contentLength = -1;
    } else if (m === 'CONNECT' && status < 300) {
      res.bodyKind = BodyKind.Tunnel;
      res.contentLength = -1;
    } else if (m === 'HEAD' || status === 204 || status === 304) {
      res.bodyKind = BodyKind.None;
    }
    if (res.bodyKind === BodyKind.UntilClose) res.wantClose = true;
    if (!this.fitsHtx(res, htxResponseSize(res), data, start, end)) return false;
    this.ev.onResponse(res);
    if (this.state !== H1State.Head) return true;
    if (status < 200 && status !== 101) {
      // Interim response: the final one follows on the same parser.
      return true;
    }
    if (res.bodyKind === BodyKind.Tunnel) {
      // Every later byte from the server belongs to the tunnel.
      this.state = H1State.Tunnel;
      return true;
    }
    this.startBody(res.bodyKind, res.contentLength);
    return true;
  }

  /**
   * Checks the head in data[start, end), of `size` (htx/size.ts), against maxHtx, and records
   * on `msg` the room HAProxy's buffer gives the body bytes that follow in this read, as far
   * as HAProxy's read would have taken them.
   */
  private fitsHtx(msg: HtxRequest | HtxResponse, size: number, data: Buffer, start: number, end: number): boolean {
    const max = this.limits.maxHtx;
    if (max === undefined) return true;
    const after = data.length - end;
    // HAProxy's copy is never larger than our fields: what it leaves out is looked for only
    // when it may matter, the fields alone being over the limit or a body filling the rest.
    const htx = size > max || after > max - size - HTX_BLK ? size + htxAdjust(msg.headers) : size;
    if (htx > max) return this.headError('head too large', H1ErrorKind.TooLarge);
    if (after === 0 || msg.bodyKind === BodyKind.None || msg.bodyKind === BodyKind.Tunnel) return true;
    // HAProxy's first read takes tune.bufsize - tune.maxrewrite bytes (maxHtx is that less the
    // message header), the next ones fill its input buffer (maxHead); its message buffer then
    // takes data up to maxHtx, less a block.
    const read = this.headInOneRead ? max + HTX_HDR : this.limits.maxHead;
    const avail = Math.min(after, read - (end - start));
    const cap = max - htx - HTX_BLK;
    if (msg.bodyKind === BodyKind.Chunked) msg.bodyWithHead = chunkedRoom(data, end, end + avail, cap);
    else msg.bodyWithHead = htxDataSize(Math.min(avail, cap, msg.bodyKind === BodyKind.Length ? msg.contentLength : avail));
    return true;
  }

  private startBody(kind: BodyKind, len: number): void {
    switch (kind) {
      case BodyKind.Length:
        if (len === 0) {
          this.finishMessage();
        } else {
          this.remaining = len;
          this.state = H1State.BodyLength;
        }
        break;
      case BodyKind.Chunked:
        this.state = H1State.ChunkSize;
        this.pending = EMPTY;
        break;
      case BodyKind.UntilClose:
        this.state = H1State.UntilClose;
        break;
      default:
        this.finishMessage();
    }
  }

  private applyContentLength(msg: { contentLength: number; bodyKind: BodyKind }, value: string): string | null {
    // A list of identical values is accepted (RFC 9110 8.6); anything else is an error.
    let v = -1;
    let start = 0;
    for (;;) {
      let end = value.indexOf(',', start);
      if (end < 0) end = value.length;
      const part = value.slice(start, end).trim();
      if (part.length === 0 || part.length > 15) return 'invalid Content-Length';
      let n = 0;
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i) - 48;
        if (c < 0 || c > 9) return 'invalid Content-Length';
        n = n * 10 + c;
      }
      if (v >= 0 && v !== n) return 'conflicting Content-Length values';
      v = n;
      if (end === value.length) break;
      start = end + 1;
    }
    if (msg.contentLength >= 0 && msg.contentLength !== v) return 'conflicting Content-Length values';
    msg.contentLength = v;
    msg.bodyKind = BodyKind.Length;
    return null;
  }

  private applyConnection(msg: { wantClose: boolean; version: number }, connection: string): void {
    if (!connection) return;
    if (hasToken(connection, 'close')) msg.wantClose = true;
    else if (msg.version < 11 && hasToken(connection, 'keep-alive')) msg.wantClose = false;
  }

  private headError(reason: string, kind: H1ErrorKind = H1ErrorKind.Syntax): false {
    this.state = H1State.Error;
    this.ev.onError(kind, reason);
    return false;
  }

  // ---- chunked ----

  private feedChunkSize(buf: Buffer, pos: number): number {
    // chunk-size [ chunk-ext ] CRLF, possibly split across reads: accumulate the line.
    const eol = buf.indexOf(LF, pos);
    if (eol < 0) {
      this.pending = this.pending.length ? Buffer.concat([this.pending, buf.subarray(pos)]) : Buffer.from(buf.subarray(pos));
      if (this.pending.length > 4096) return this.fail(H1ErrorKind.Framing, 'chunk size line too long', buf.length);
      return buf.length;
    }
    let line: Buffer;
    if (this.pending.length) {
      line = Buffer.concat([this.pending, buf.subarray(pos, eol)]);
      this.pending = EMPTY;
    } else {
      line = buf.subarray(pos, eol);
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    let size = 0;
    let i = 0;
    for (; i < end; i++) {
      const h = HEX[line[i]!]!;
      if (h < 0) break;
      if (i >= 15) return this.fail(H1ErrorKind.Framing, 'chunk size too large', buf.length);
      size = size * 16 + h;
    }
    if (i === 0) return this.fail(H1ErrorKind.Framing, 'invalid chunk size', buf.length);
    // Only whitespace then ';' extensions may follow the size; no bare CR anywhere.
    for (let j = i; j < end; j++) {
      const c = line[j]!;
      if (c === CR || c === 0) return this.fail(H1ErrorKind.Framing, 'invalid chunk extension', buf.length);
      if (c !== SP && c !== HT && c !== 59 && j === i) return this.fail(H1ErrorKind.Framing, 'invalid chunk size', buf.length);
    }
    if (size === 0) {
      this.state = H1State.Trailers;
      this.trailerLines = EMPTY;
    } else {
      this.state = H1State.ChunkData;
      this.remaining = size;
    }
    return eol + 1;
  }

  private feedTrailers(buf: Buffer, pos: number): number {
    // The trailer section ends with an empty line; the common case is just CRLF.
    const data = this.trailerLines.length ? Buffer.concat([this.trailerLines, buf.subarray(pos)]) : buf.subarray(pos);
    const prior = this.trailerLines.length;
    let end = -1;
    if (data.length >= 1 && data[0] === LF) end = 1;
    else if (data.length >= 2 && data[0] === CR && data[1] === LF) end = 2;
    else {
      const e = findHeadEnd(data, 0);
      if (e >= 0) end = e;
    }
    if (end < 0) {
      if (data.length > this.limits.maxHead) return this.fail(H1ErrorKind.TooLarge, 'trailers too large', buf.length);
      this.trailerLines = Buffer.from(data);
      return buf.length;
    }
    this.trailerLines = EMPTY;
    if (end > 2) {
      const trailers: HtxHeaders = [];
      const err = this.parseFields(data, 0, end, trailers);
      if (err) return this.fail(H1ErrorKind.Framing, 'invalid trailer: ' + err, buf.length);
      if (trailers.length) this.ev.onTrailers(trailers);
    }
    const consumed = pos + end - prior;
    if (this.state === H1State.Trailers) this.finishMessage();
    return consumed;
  }
}

/** Index just past the blank line ending a head (CRLFCRLF, or LF LF), or -1. */
export function findHeadEnd(data: Buffer, from: number): number {
  // A plain loop: heads are short, and a native indexOf call per line costs more than the scan.
  const len = data.length;
  for (let i = from; i < len; i++) {
    if (data[i] !== LF) continue;
    const n = data[i + 1];
    if (n === LF) return i + 2;
    if (n === CR && data[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Index of the next LF in data[from, end), or `end`. */
function findLF(data: Buffer, from: number, end: number): number {
  for (let i = from; i < end; i++) if (data[i] === LF) return i;
  return end;
}

// Buffer's latin1Slice is the fastest bytes-to-string path; it exists at run time but is not typed.
type Latin1Sliceable = { latin1Slice(start: number, end: number): string };
function latin1(data: Buffer, a: number, b: number): string {
  return (data as unknown as Latin1Sliceable).latin1Slice(a, b);
}

function trimEndWs(data: Buffer, a: number, b: number): number {
  while (b > a && (data[b - 1] === SP || data[b - 1] === HT)) b--;
  return b;
}

/** Field values may not contain NUL, CR or LF (RFC 9110 5.5). */
function checkValue(data: Buffer, a: number, b: number): string | null {
  for (let i = a; i < b; i++) {
    const c = data[i]!;
    if (c === 0 || c === CR || c === LF) return 'invalid character in header value';
  }
  return null;
}

/** "HTTP/1.1" at data[a, b) -> 11; -1 if invalid. */
function parseVersion(data: Buffer, a: number, b: number): number {
  if (b - a !== 8) return -1;
  if (data[a] !== 72 || data[a + 1] !== 84 || data[a + 2] !== 84 || data[a + 3] !== 80 || data[a + 4] !== 47 || data[a + 6] !== 46) return -1;
  const maj = data[a + 5]! - 48;
  const min = data[a + 7]! - 48;
  if (maj !== 1 || min < 0 || min > 9) return -1;
  return 10 + min;
}

function joinValues(h: HtxHeaders, lname: string): string {
  let v = '';
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.toLowerCase() === lname) v = v ? v + ',' + h[i + 1] : h[i + 1]!;
  }
  return v;
}

/** The coding list ends with `chunked`, applied once only (RFC 9112 6.1). */
function endsWithChunked(v: string): boolean {
  const parts = v.split(',');
  for (let i = 0; i < parts.length - 1; i++) if (parts[i]!.trim().toLowerCase() === 'chunked') return false;
  const last = parts[parts.length - 1]!.trim().toLowerCase();
  return last === 'chunked';
}

/**
 * For an absolute-form target ("http://a.b/x"), the authority must equal the Host header
 * (case-insensitive), as HAProxy requires; other forms always match.
 */
function authorityMatchesHost(uri: string, headers: HtxHeaders): boolean {
  const sep = uri.indexOf('://');
  if (sep <= 0 || uri.charCodeAt(0) === 47) return true;
  const start = sep + 3;
  let end = start;
  while (end < uri.length) {
    const c = uri.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break;
    end++;
  }
  let auth = uri.slice(start, end);
  const at = auth.lastIndexOf('@');
  if (at >= 0) auth = auth.slice(at + 1);
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 4 && headers[i]!.toLowerCase() === 'host') return headers[i + 1]!.toLowerCase() === auth.toLowerCase();
  }
  return true;
}

/**
 * The room HAProxy's buffer gives the chunked body in data[from, end): the data of the chunks
 * there in one block (at most `cap` bytes), then, once the last chunk and the trailer section
 * are in, the trailer fields and the end-of-trailers block. The framing is only walked here:
 * `feed` checks it.
 */
function chunkedRoom(data: Buffer, from: number, end: number, cap: number): number {
  let n = 0;
  let p = from;
  for (;;) {
    let size = 0;
    const s = p;
    while (p < end && HEX[data[p]!]! >= 0 && p - s < 13) size = size * 16 + HEX[data[p++]!]!;
    if (p === s) break;
    while (p < end && data[p] !== LF) p++;
    if (p++ >= end) break;
    if (size === 0) return htxDataSize(n) + trailersRoom(data, p, end);
    const avail = end - p;
    if (size > cap || size + 2 > avail) {
      // HAProxy copies whole chunks first; the rest of this one goes through a second step
      // that keeps room for a block of its own, though it extends the first one.
      n += Math.max(0, Math.min(size, avail, cap - HTX_BLK));
      break;
    }
    n += size;
    cap -= size;
    p += size;
    if (data[p] === CR) p++;
    if (data[p] !== LF) break;
    p++;
  }
  return htxDataSize(n);
}

/** The trailer fields in data[from, end) and the end-of-trailers block, 0 until the section is whole. */
function trailersRoom(data: Buffer, from: number, end: number): number {
  let room = HTX_BLK + 1;
  let p = from;
  while (p < end) {
    const eol = findLF(data, p, end);
    if (eol >= end) return 0;
    let lineEnd = eol;
    if (lineEnd > p && data[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === p) return room;
    let c = p;
    while (c < lineEnd && data[c] !== COLON) c++;
    let a = c + 1;
    while (a < lineEnd && (data[a] === SP || data[a] === HT)) a++;
    room += HTX_BLK + (c - p) + (trimEndWs(data, a, lineEnd) - Math.min(a, lineEnd));
    p = eol + 1;
  }
  return 0;
}
