// Renders a compiled log format for one LogRecord. This runs once per logged request, so it is
// a single loop with a switch per node: no regular expressions, no closures, no allocation
// beyond the output string itself.
//
// Rules that decide the exact bytes (HAProxy's sess_build_logline):
// - a separator prints one space, and only after a text or a tag, even one that printed an empty
//   value; header captures (%hr %hs %hrl %hsl) that print nothing do not count;
// - strings obey the flags: Q quotes them, M prints "-" when empty, E escapes '"' '\' ']';
// - numbers are never quoted; X prints IPs, ports and a few counters in hexadecimal;
// - the request line and its parts escape non-printable characters, '"' and '#' as "#XX";
//   captured headers also escape '{', '|' and '}'.

import { hostname } from 'node:os';
import type { LogRecord } from './types.js';
import { Alias, LfFlag, NodeKind, type LfNode, type LogFormat, type SampleValue } from './format.js';
import { EncodeMap, encodeWithMap, escapeRfc5424, hexPad, ipToHex } from './encode.js';
import { formatDateGmt, formatDateLocal, formatDateMs, formatMillis } from './dates.js';

const HOSTNAME = hostname();
const BADREQ = '<BADREQ>';

/** A string item (lf_text): Q quotes, E escapes, M prints "-" for an empty value. */
function text(s: string, flags: number): string {
  if (flags & LfFlag.Esc) s = escapeRfc5424(s);
  if (flags & LfFlag.Quote) return '"' + s + '"';
  if (s.length === 0 && flags & LfFlag.Mandatory) return '-';
  return s;
}

/** A string item that is never "-" (lf_rawtext inside a quoted var-text): Q quotes, E escapes. */
function varText(s: string, flags: number): string {
  if (flags & LfFlag.Esc) s = escapeRfc5424(s);
  return flags & LfFlag.Quote ? '"' + s + '"' : s;
}

/** An already encoded string item (request line, headers): only Q applies. */
function quoted(s: string, flags: number): string {
  return flags & LfFlag.Quote ? '"' + s + '"' : s;
}

function absentAddr(ip: string): boolean {
  return ip.length === 0 || ip === '-';
}

function ip(addr: string, flags: number): string {
  if (absentAddr(addr)) return text('', flags);
  if (flags & LfFlag.Hex) {
    const hex = ipToHex(addr);
    if (hex !== undefined) return hex;
  }
  return text(addr, flags);
}

function port(addr: string, p: number, flags: number): string {
  if (absentAddr(addr)) return text('', flags);
  return flags & LfFlag.Hex ? hexPad(p, 4) : '' + p;
}

function isSpHt(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Index just past the first token of the request line, or -1 when no blank follows it. */
function afterMethod(line: string): number {
  const n = line.length;
  let i = 0;
  while (i < n && !isSpHt(line.charCodeAt(i))) i++;
  return i === n ? -1 : i;
}

/** Start of the URI (after the method and its blanks), or -1 when there is no blank. */
function uriStart(line: string): number {
  let i = afterMethod(line);
  if (i < 0) return -1;
  while (i < line.length && isSpHt(line.charCodeAt(i))) i++;
  return i;
}

/** End of the token starting at `i` (first blank, or also '?' with `stopAtQuery`). */
function tokenEnd(line: string, i: number, stopAtQuery: boolean): number {
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (isSpHt(c) || (stopAtQuery && c === 0x3f)) break;
    i++;
  }
  return i;
}

function httpMethod(line: string): string {
  const end = afterMethod(line);
  return end < 0 ? BADREQ : line.slice(0, end);
}

function httpUri(line: string, stopAtQuery: boolean): string {
  const start = uriStart(line);
  return start < 0 ? BADREQ : line.slice(start, tokenEnd(line, start, stopAtQuery));
}

function httpVersion(line: string): string {
  const start = uriStart(line);
  if (start < 0) return BADREQ;
  let i = tokenEnd(line, start, false);
  while (i < line.length && isSpHt(line.charCodeAt(i))) i++;
  return i === line.length ? 'HTTP/0.9' : line.slice(i);
}

/** The query string with its '?', from the first '?' of the line to the next blank. */
function httpQuery(line: string): string {
  const q = line.indexOf('?');
  if (q < 0) return '';
  return line.slice(q, tokenEnd(line, q, false));
}

/** The path alone: no scheme, no authority, no query ("" for "*" and authority forms). */
function httpPathOnly(line: string): string {
  const uri = httpUri(line, false);
  if (uri === BADREQ) return BADREQ;
  let path: string;
  if (uri.length === 0 || uri === '*') return '';
  if (uri.charCodeAt(0) === 0x2f) {
    path = uri;
  } else {
    const scheme = uri.indexOf('://');
    if (scheme < 0) return '';
    let i = scheme + 3;
    while (i < uri.length) {
      const c = uri.charCodeAt(i);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      i++;
    }
    path = uri.slice(i);
  }
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function headerBlock(values: readonly string[], flags: number): string {
  const esc = (flags & LfFlag.Esc) !== 0;
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += '|';
    out += encodeWithMap(values[i]!, EncodeMap.Header, esc);
  }
  return quoted(out + '}', flags);
}

function headerList(values: readonly string[], flags: number): string {
  const esc = (flags & LfFlag.Esc) !== 0;
  const q = (flags & LfFlag.Quote) !== 0;
  let out = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ' ';
    const v = values[i]!;
    if (q) out += '"' + encodeWithMap(v, EncodeMap.Header, esc) + '"';
    else out += v.length === 0 ? '-' : encodeWithMap(v, EncodeMap.Header, esc);
  }
  return out;
}

function counter(n: number, flags: number): string {
  return flags & LfFlag.Hex ? hexPad(n, 4) : '' + n;
}

/** A captured cookie; the stream stores "-" for "not captured". */
function cookie(v: string, rec: LogRecord, flags: number): string {
  return text(rec.http && v !== '-' ? v : '', flags);
}

function sampleText(v: SampleValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  return '' + v;
}

function renderSample(node: LfNode, fmt: LogFormat, ctx: unknown): string {
  const v = node.fn === null ? undefined : node.fn(ctx);
  if (fmt.httpEncode) return encodeWithMap(sampleText(v), EncodeMap.Http, false);
  return text(sampleText(v), node.flags);
}

function renderAlias(node: LfNode, fmt: LogFormat, rec: LogRecord): string {
  const f = node.flags;
  const plus = fmt.logasap ? '+' : '';
  switch (node.alias) {
    case Alias.ClientIp: return ip(rec.clientIp, f);
    case Alias.ClientPort: return port(rec.clientIp, rec.clientPort, f);
    case Alias.FrontendIp: return ip(rec.frontendIp, f);
    case Alias.FrontendPort: return port(rec.frontendIp, rec.frontendPort, f);
    case Alias.BackendIp: return ip(rec.backendSrcIp, f);
    case Alias.BackendPort: return port(rec.backendSrcIp, rec.backendSrcPort, f);
    case Alias.ServerIp: return ip(rec.serverIp, f);
    case Alias.ServerPort: return port(rec.serverIp, rec.serverPort, f);
    case Alias.DateMs: return formatDateMs(rec.acceptDate);
    case Alias.ReqDateMs: return formatDateMs(rec.requestDate);
    case Alias.DateGmt: return formatDateGmt(rec.acceptDate);
    case Alias.ReqDateGmt: return formatDateGmt(rec.requestDate);
    case Alias.DateLocal: return formatDateLocal(rec.acceptDate);
    case Alias.ReqDateLocal: return formatDateLocal(rec.requestDate);
    case Alias.Timestamp: return counter(Math.floor(rec.acceptDate / 1000), f);
    case Alias.Millis: {
      const ms = formatMillis(rec.acceptDate);
      return f & LfFlag.Hex ? hexPad(+ms, 2) : ms;
    }
    case Alias.Frontend: return text(rec.frontendName, f);
    case Alias.FrontendXprt: return varText(rec.ssl ? rec.frontendName + '~' : rec.frontendName, f);
    case Alias.Backend: return text(rec.backendName, f);
    case Alias.Server: return text(rec.serverName, f);
    case Alias.SslCipher: return text(rec.sslCipher, f);
    case Alias.SslVersion: return text(rec.sslVersion, f);
    case Alias.Th: return '' + rec.Th;
    case Alias.Ti: return '' + rec.Ti;
    case Alias.TR: return '' + rec.TR;
    case Alias.Tq: return '' + (rec.TR < 0 ? -1 : rec.Th + (rec.Ti > 0 ? rec.Ti : 0) + rec.TR);
    case Alias.Tw: return '' + rec.Tw;
    case Alias.Tc: return '' + rec.Tc;
    case Alias.Tr: return '' + rec.Tr;
    case Alias.Td: return '' + rec.Td;
    case Alias.Ta: return plus + rec.Ta;
    case Alias.Tt: return plus + rec.Tt;
    case Alias.Tu: return plus + (rec.Tt - (rec.Ti > 0 ? rec.Ti : 0));
    // Without an HTTP transaction HAProxy has no status and prints 0.
    case Alias.Status: return '' + (rec.http ? rec.status : 0);
    case Alias.Bytes: return plus + rec.bytesOut;
    case Alias.BytesUp: return '' + rec.bytesIn;
    case Alias.CookieReq: return cookie(rec.capturedReqCookie, rec, f);
    case Alias.CookieRes: return cookie(rec.capturedResCookie, rec, f);
    // Termination states ignore Q and M (HAProxy writes them as raw text).
    case Alias.TermState: return termState(rec.termState, 2);
    case Alias.TermStateCk: return termState(rec.termState, 4);
    case Alias.ActConn: return '' + rec.actconn;
    case Alias.FeConn: return '' + rec.feconn;
    case Alias.BeConn: return '' + rec.beconn;
    case Alias.SrvConn: return '' + rec.srvconn;
    case Alias.Retries: return (rec.redispatched ? '+' : '') + rec.retries;
    case Alias.SrvQueue: return '' + rec.srvQueue;
    case Alias.BackendQueue: return '' + rec.backendQueue;
    // Without captures configured the header blocks print nothing at all.
    case Alias.HdrReq: return rec.capturedReqHeaders.length ? headerBlock(rec.capturedReqHeaders, f) : '';
    case Alias.HdrRes: return rec.capturedResHeaders.length ? headerBlock(rec.capturedResHeaders, f) : '';
    case Alias.HdrReqList: return rec.capturedReqHeaders.length ? headerList(rec.capturedReqHeaders, f) : '';
    case Alias.HdrResList: return rec.capturedResHeaders.length ? headerList(rec.capturedResHeaders, f) : '';
    case Alias.Request:
    case Alias.HttpMethod:
    case Alias.HttpUri:
    case Alias.HttpPath:
    case Alias.HttpPathOnly:
    case Alias.HttpQuery:
    case Alias.HttpVersion:
      return quoted(encodeWithMap(requestPart(node.alias, rec), EncodeMap.Url, (f & LfFlag.Esc) !== 0), f);
    case Alias.ReqCounter: return counter(rec.requestCounter, f);
    case Alias.LogCount: return counter(rec.logCount, f);
    case Alias.Hostname: return text(HOSTNAME, f);
    case Alias.Pid: return counter(process.pid, f);
    case Alias.UniqueId: return text(rec.uniqueId, f);
  }
}

function termState(ts: string, len: number): string {
  if (ts.length === len) return ts;
  return ts.length > len ? ts.slice(0, len) : ts + '----'.slice(0, len - ts.length);
}

/** The part of the request line an HTTP alias shows; "<BADREQ>" when there is no request. */
function requestPart(alias: Alias, rec: LogRecord): string {
  const line = rec.requestLine;
  if (!rec.http || line.length === 0) return BADREQ;
  switch (alias) {
    case Alias.HttpMethod: return httpMethod(line);
    case Alias.HttpUri: return httpUri(line, false);
    case Alias.HttpPath: return httpUri(line, true);
    case Alias.HttpPathOnly: return httpPathOnly(line);
    case Alias.HttpQuery: return httpQuery(line);
    case Alias.HttpVersion: return httpVersion(line);
    default: return line;
  }
}

/** Header captures print nothing at all, separators included, when none is configured. */
function isCapture(a: Alias): boolean {
  return a === Alias.HdrReq || a === Alias.HdrRes || a === Alias.HdrReqList || a === Alias.HdrResList;
}

/**
 * Renders `fmt` for `rec`. `sampleCtx` is handed to the `%[...]` expressions (the stream).
 * The result has no trailing newline and is not truncated: the sinks cap it per target.
 */
export function formatLogLine(fmt: LogFormat, rec: LogRecord, sampleCtx?: unknown): string {
  const nodes = fmt.nodes;
  let out = '';
  // Starts true so that leading separators print nothing.
  let lastIsSpace = true;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    switch (node.kind) {
      case NodeKind.Separator:
        if (!lastIsSpace) {
          out += ' ';
          lastIsSpace = true;
        }
        break;
      case NodeKind.Text:
        out += node.text;
        lastIsSpace = false;
        break;
      case NodeKind.Alias:
      case NodeKind.Sample: {
        const v = node.kind === NodeKind.Alias ? renderAlias(node, fmt, rec) : renderSample(node, fmt, sampleCtx);
        out += v;
        // As HAProxy: a tag counts as printed even when its value is empty, so the field keeps
        // its separators; only header captures that are not configured vanish entirely.
        if (v.length > 0 || !isCapture(node.alias)) lastIsSpace = false;
        break;
      }
    }
  }
  return out;
}
