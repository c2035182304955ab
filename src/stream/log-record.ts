// Turns a finished stream (or a request that never became one, or a TCP session) into the
// LogRecord that the log module formats.

import { newLogRecord, type LogRecord } from '../log/index.js';
import { termState } from '../core/errors.js';
import type { Frontend } from '../proxy/frontend.js';
import type { Pending, Server } from '../backend/index.js';
import type { ClientSide } from './sides.js';
import type { HttpStream } from './http-stream.js';
import type { TlsInfo } from '../net/tls.js';

let requestCounter = 0;

/** The next request counter (%rt), taken when a stream starts, as HAProxy numbers streams. */
export function nextRequestCounter(): number {
  return requestCounter++;
}

/** A record for a connection of the frontend `fe`, with every other field "not reached". */
export function connLogRecord(fe: Frontend, clientIp: string, clientPort: number, localIp: string, localPort: number, acceptDate: number, counter = nextRequestCounter()): LogRecord {
  const rec = newLogRecord();
  rec.clientIp = clientIp;
  rec.clientPort = clientPort;
  rec.frontendIp = localIp;
  rec.frontendPort = localPort;
  rec.acceptDate = rec.requestDate = acceptDate;
  rec.frontendName = rec.backendName = fe.name;
  rec.Ti = 0;
  rec.actconn = fe.ctx.actconn;
  rec.feconn = fe.feconn;
  rec.requestCounter = counter;
  rec.http = fe.config.mode === 'http';
  return rec;
}

/** Fills the server-side fields from the server that handled the exchange. */
export function setServer(rec: LogRecord, srv: Server | null): void {
  if (!srv) return;
  rec.backendName = srv.backend.name;
  rec.serverName = srv.name;
  rec.serverIp = srv.host;
  rec.serverPort = srv.port;
  rec.srvconn = srv.served;
  rec.beconn = srv.backend.beconn;
}

/** Where the exchange waited: its places in server and backend queues (%sq, %bq). */
export function setQueuePlaces(rec: LogRecord, p: Pending): void {
  rec.srvQueue = p.qSrvPos;
  rec.backendQueue = p.qBePos;
}

/** The client connection's TLS session (%sslv, %sslc, the `~` after the frontend name). */
export function setTls(rec: LogRecord, t: TlsInfo | null): void {
  if (t === null) return;
  rec.ssl = true;
  rec.sslVersion = t.version;
  rec.sslCipher = t.cipher;
}

/** The record for an HTTP request. With `s` null, `front` describes a request that failed early. */
export function buildHttpLogRecord(s: HttpStream | null, front: ClientSide = s!.front, status = -1, ts = '----'): LogRecord {
  const fe = front.fe;
  const now = Date.now();
  const rec = connLogRecord(fe, front.clientIp, front.clientPort, front.localIp, front.localPort, front.acceptDate, s === null ? nextRequestCounter() : s.reqId);
  const reqStart = front.reqStart || now;
  rec.http = true;
  setTls(rec, front.tls);
  rec.requestDate = reqStart;
  rec.Ti = Math.max(0, reqStart - front.idleSince);
  rec.Tt = now - front.acceptDate;
  rec.Ta = now - reqStart;
  rec.status = status;
  rec.termState = ts;
  rec.requestLine = '<BADREQ>';
  rec.method = '<BADREQ>';
  if (s === null) return rec;
  const req = s.req;
  const end = s.tEnd >= 0 ? s.tEnd : now;
  const ver = req.version === 10 ? 'HTTP/1.0' : req.version === 20 ? 'HTTP/2.0' : 'HTTP/1.1';
  rec.TR = Math.max(0, s.tStart - reqStart);
  rec.Tw = s.tw;
  rec.Tc = s.tc;
  rec.Tr = s.tr;
  rec.Ta = end - reqStart;
  rec.Tt = end - front.acceptDate;
  rec.Td = s.tResponse >= 0 ? end - s.tResponse : -1;
  rec.status = s.status;
  rec.bytesOut = s.bytesOut;
  rec.bytesIn = s.bytesIn;
  rec.termState = termState(s.cause, s.phase);
  if (s.be) {
    rec.backendName = s.be.name;
    rec.beconn = s.be.beconn;
  }
  setServer(rec, s.lastSrv);
  rec.retries = s.retriesDone;
  rec.redispatched = s.redispatched;
  setQueuePlaces(rec, s);
  // HAProxy keeps at most tune.http.logurilen (1024) bytes of the request line.
  const line = `${s.origMethod} ${s.origUri} ${ver}`;
  rec.requestLine = line.length > 1024 ? line.slice(0, 1024) : line;
  rec.method = s.origMethod;
  rec.uri = s.origUri;
  rec.httpVersion = ver;
  const reqSlots = fe.config.reqCaptures.length;
  if (reqSlots > 0) rec.capturedReqHeaders = captured(s.reqCaps, reqSlots);
  const resSlots = fe.config.resCaptures.length;
  if (resSlots > 0) rec.capturedResHeaders = captured(s.resCaps, resSlots);
  return rec;
}

/** The values of `n` capture slots, "" for those that captured nothing. */
function captured(caps: ReadonlyArray<string | null> | null, n: number): string[] {
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = caps?.[i] ?? '';
  return out;
}
