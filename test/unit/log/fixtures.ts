// Shared records for the log tests: the examples of HAProxy's configuration.txt section 8.2.
// Tests run with TZ=UTC so that local-time renderings are stable.

import type { LogRecord } from '../../../src/log/index.js';
import { newLogRecord } from '../../../src/log/index.js';
import type { LogTarget } from '../../../src/config/model.js';

process.env.TZ = 'UTC';

/** 06/Feb/2009:12:14:14.655 UTC, the request date of the httplog example. */
export const HTTP_DATE = Date.UTC(2009, 1, 6, 12, 14, 14, 655);

/** The `option httplog` example: "GET /index.html" served by static/srv1 via http-in. */
export function httpRecord(over: Partial<LogRecord> = {}): LogRecord {
  const r = newLogRecord();
  Object.assign(r, {
    clientIp: '10.0.1.2',
    clientPort: 33317,
    frontendIp: '10.0.3.31',
    frontendPort: 8012,
    backendSrcIp: '10.0.3.31',
    backendSrcPort: 41234,
    serverIp: '10.0.4.1',
    serverPort: 8000,
    acceptDate: HTTP_DATE - 12,
    requestDate: HTTP_DATE,
    frontendName: 'http-in',
    backendName: 'static',
    serverName: 'srv1',
    Th: 2,
    Ti: 10,
    TR: 10,
    Tw: 0,
    Tc: 30,
    Tr: 69,
    Ta: 109,
    Tt: 121,
    Td: 0,
    status: 200,
    bytesOut: 2750,
    bytesIn: 123,
    termState: '----',
    actconn: 1,
    feconn: 1,
    beconn: 1,
    srvconn: 1,
    requestLine: 'GET /index.html HTTP/1.1',
    method: 'GET',
    uri: '/index.html',
    httpVersion: 'HTTP/1.1',
    http: true,
    requestCounter: 7,
    logCount: 3,
  } satisfies Partial<LogRecord>);
  return Object.assign(r, over);
}

/** The `option tcplog` example: fnt -> bck/srv1, 212 bytes, 3 retries. */
export function tcpRecord(over: Partial<LogRecord> = {}): LogRecord {
  const r = newLogRecord();
  Object.assign(r, {
    clientIp: '10.0.1.2',
    clientPort: 33313,
    frontendIp: '10.0.3.31',
    frontendPort: 8012,
    acceptDate: Date.UTC(2009, 1, 6, 12, 12, 51, 443),
    requestDate: Date.UTC(2009, 1, 6, 12, 12, 51, 443),
    frontendName: 'fnt',
    backendName: 'bck',
    serverName: 'srv1',
    Tw: 0,
    Tc: 0,
    Tt: 5007,
    bytesOut: 212,
    termState: '--',
    retries: 3,
  } satisfies Partial<LogRecord>);
  return Object.assign(r, over);
}

/** A target with HAProxy's defaults; override what the test needs. */
export function target(over: Partial<LogTarget> = {}): LogTarget {
  return {
    kind: 'stdout',
    format: 'raw',
    facility: 16,
    maxLevel: 7,
    minLevel: 0,
    len: 1024,
    loc: { file: 'test.cfg', line: 1 },
    ...over,
  };
}
