// Log lines rendered from compiled formats, compared byte for byte with HAProxy: the examples
// of configuration.txt 8.2 and lines captured from a real HAProxy 2.6 (see comments).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { HTTP_DATE, httpRecord, tcpRecord } from './fixtures.js';
import {
  compileLogFormat,
  formatLogLine,
  formatConnectLog,
  HTTPLOG_FORMAT,
  HTTPLOG_CLF_FORMAT,
  TCPLOG_FORMAT,
  TCPLOG_CLF_FORMAT,
  type LogRecord,
} from '../../../src/log/index.js';

function fmt(f: string, rec: LogRecord, opts: Parameters<typeof compileLogFormat>[1] = {}): string {
  return formatLogLine(compileLogFormat(f, opts), rec);
}

test('option httplog: the example of configuration.txt 8.2.3, byte for byte', () => {
  assert.equal(
    fmt(HTTPLOG_FORMAT, httpRecord()),
    '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- ' +
      '1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"',
  );
});

test('option httplog with captured headers prints {...} blocks', () => {
  const rec = httpRecord({ capturedReqHeaders: ['1wt.eu'], capturedResHeaders: [''] });
  assert.equal(
    fmt(HTTPLOG_FORMAT, rec),
    '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- ' +
      '1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"',
  );
});

test('option tcplog: the example of configuration.txt 8.2.2', () => {
  assert.equal(
    fmt(TCPLOG_FORMAT, tcpRecord()),
    '10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0',
  );
});

test('TLS frontends get "~" after %ft; redispatch puts "+" before %rc; unreached timers are -1', () => {
  const rec = httpRecord({ ssl: true, redispatched: true, retries: 3, Tc: -1, Tr: -1, serverName: '<NOSRV>', status: 503 });
  assert.equal(
    fmt(HTTPLOG_FORMAT, rec),
    '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in~ static/<NOSRV> 10/0/-1/-1/109 503 2750 - - ---- ' +
      '1/1/1/1/+3 0/0 "GET /index.html HTTP/1.1"',
  );
});

test('option logasap: "+" before %Tt, %Ta, %Tu and %B', () => {
  assert.equal(fmt('%Tt %Ta %Tu %B %U', httpRecord(), { logasap: true }), '+121 +109 +111 +2750 123');
});

test('option httplog clf: same shape as a line from HAProxy 2.6', () => {
  // HAProxy 2.6, `option httplog clf`, two request header captures, one response capture:
  // 127.0.0.1 - - [21/Nov/2026:07:56:44 +0000] "GET /p/a%20th?q=1&x=#22y#22 HTTP/1.1" 200 73 "" ""
  // 43202 800 "clf" "clf" "<NOSRV>" 0 -1 -1 -1 0 LR-- 1 1 0 0 0 0 0 "" "" "127.0.0.1:18434"
  // "a#22b#7Cc#7Bd#7D#23\]e" ""
  const date = Date.UTC(2026, 10, 21, 7, 56, 44, 800);
  const rec = httpRecord({
    clientIp: '127.0.0.1', clientPort: 43202, acceptDate: date, requestDate: date,
    frontendName: 'clf', backendName: 'clf', serverName: '<NOSRV>',
    TR: 0, Tw: -1, Tc: -1, Tr: -1, Ta: 0, status: 200, bytesOut: 73, termState: 'LR--',
    actconn: 1, feconn: 1, beconn: 0, srvconn: 0,
    requestLine: 'GET /p/a%20th?q=1&x="y" HTTP/1.1',
    capturedReqHeaders: ['127.0.0.1:18434', 'a"b|c{d}#\\]e'], capturedResHeaders: [''],
  });
  assert.equal(
    fmt(HTTPLOG_CLF_FORMAT, rec),
    '127.0.0.1 - - [21/Nov/2026:07:56:44 +0000] "GET /p/a%20th?q=1&x=#22y#22 HTTP/1.1" 200 73 "" "" ' +
      '43202 800 "clf" "clf" "<NOSRV>" 0 -1 -1 -1 0 LR-- 1 1 0 0 0 0 0 "" "" "127.0.0.1:18434" ' +
      '"a#22b#7Cc#7Bd#7D#23\\]e" ""',
  );
});

test('option httplog clf without captures ends with a separator space, like HAProxy', () => {
  const line = fmt(HTTPLOG_CLF_FORMAT, httpRecord());
  assert.equal(
    line,
    '10.0.1.2 - - [06/Feb/2009:12:14:14 +0000] "GET /index.html HTTP/1.1" 200 2750 "" "" 33317 643 ' +
      '"http-in" "static" "srv1" 10 0 30 69 109 ---- 1 1 1 1 0 0 0 "" "" ',
  );
});

test('option tcplog clf', () => {
  assert.equal(
    fmt(TCPLOG_CLF_FORMAT, tcpRecord()),
    '10.0.1.2 - - [06/Feb/2009:12:12:51 +0000] "TCP " 000 212 "" "" 33313 443 "fnt" "bck" "srv1" ' +
      '0 0 0 5007 0 ---- 0 0 0 0 3 0 0 "" "" ',
  );
});

test('a custom format with %o, quoting, hex and escapes, as HAProxy 2.6 printed it', () => {
  // HAProxy 2.6 printed, for `curl -H 'X-Foo: a"b|c{d}#\]e' http://127.0.0.1:18437/p/ath?q=1&x=y]`:
  // "127.0.0.1" "custom" "GET" "/p/ath?q=1&x=y]" "/p/ath" "?q=1&x=y]" "HTTP/1.1" "/p/ath" LR LR--
  // "" "" 7F000001 C9F2 6B014ED0 GET /p/ath?q=1&x=y\] HTTP/1.1
  // "{127.0.0.1:18437|a#22b#7Cc#7Bd#7D#23\\\]e}" 8 0 113 0 1795247824 0 0
  const f =
    '%{+Q}o %ci %ft %HM %HU %HP %HQ %HV %HPO %ts %tsc %CC %ID %{+X}ci %{+X}cp %{+X}Ts %{-Q,+E}r ' +
    '%{+E}hr %Tq %Tu %U %sq %{+Q}Ts %rt %lc';
  const date = 1795247824 * 1000 + 100;
  const rec = httpRecord({
    clientIp: '127.0.0.1', clientPort: 51698, acceptDate: date, requestDate: date + 8,
    frontendName: 'custom', termState: 'LR--', Th: 0, Ti: 0, TR: 8, Tt: 0, bytesIn: 113,
    requestLine: 'GET /p/ath?q=1&x=y] HTTP/1.1', requestCounter: 0, logCount: 0,
    capturedReqHeaders: ['127.0.0.1:18437', 'a"b|c{d}#\\]e'],
  });
  assert.equal(
    fmt(f, rec),
    '"127.0.0.1" "custom" "GET" "/p/ath?q=1&x=y]" "/p/ath" "?q=1&x=y]" "HTTP/1.1" "/p/ath" LR LR-- ' +
      '"" "" 7F000001 C9F2 6B014ED0 GET /p/ath?q=1&x=y\\] HTTP/1.1 ' +
      '"{127.0.0.1:18437|a#22b#7Cc#7Bd#7D#23\\\\\\]e}" 8 0 113 0 1795247824 0 0',
  );
});

test('every alias on one record', () => {
  const rec = httpRecord({
    capturedReqHeaders: ['h1', ''], capturedResHeaders: ['r1'],
    capturedReqCookie: 'SID=abc', capturedResCookie: '-', uniqueId: 'ID-1',
    sslVersion: 'TLSv1.3', sslCipher: 'TLS_AES_256_GCM_SHA384', ssl: true,
  });
  const cases: Array<[string, string]> = [
    ['%ci', '10.0.1.2'], ['%cp', '33317'], ['%fi', '10.0.3.31'], ['%fp', '8012'],
    ['%bi', '10.0.3.31'], ['%bp', '41234'], ['%si', '10.0.4.1'], ['%sp', '8000'],
    ['%t', '06/Feb/2009:12:14:14.643'], ['%tr', '06/Feb/2009:12:14:14.655'],
    ['%T', '06/Feb/2009:12:14:14 +0000'], ['%trg', '06/Feb/2009:12:14:14 +0000'],
    ['%Tl', '06/Feb/2009:12:14:14 +0000'], ['%trl', '06/Feb/2009:12:14:14 +0000'],
    ['%Ts', String(Math.floor((HTTP_DATE - 12) / 1000))], ['%ms', '643'],
    ['%f', 'http-in'], ['%ft', 'http-in~'], ['%b', 'static'], ['%s', 'srv1'],
    ['%sslv', 'TLSv1.3'], ['%sslc', 'TLS_AES_256_GCM_SHA384'],
    ['%Th', '2'], ['%Ti', '10'], ['%TR', '10'], ['%Tq', '22'], ['%Tw', '0'], ['%Tc', '30'],
    ['%Tr', '69'], ['%Td', '0'], ['%Ta', '109'], ['%Tt', '121'], ['%Tu', '111'],
    ['%ST', '200'], ['%B', '2750'], ['%U', '123'], ['%CC', 'SID=abc'], ['%CS', '-'],
    ['%ts', '--'], ['%tsc', '----'], ['%ac', '1'], ['%fc', '1'], ['%bc', '1'], ['%sc', '1'],
    ['%rc', '0'], ['%sq', '0'], ['%bq', '0'],
    ['%hr', '{h1|}'], ['%hrl', 'h1 -'], ['%hs', '{r1}'], ['%hsl', 'r1'],
    ['%r', 'GET /index.html HTTP/1.1'], ['%HM', 'GET'], ['%HU', '/index.html'], ['%HP', '/index.html'],
    ['%HPO', '/index.html'], ['%HQ', ''], ['%HV', 'HTTP/1.1'],
    ['%rt', '7'], ['%lc', '3'], ['%H', hostname()], ['%pid', String(process.pid)], ['%ID', 'ID-1'],
  ];
  for (const [f, want] of cases) assert.equal(fmt(f, rec), want, f);
});

test('hexadecimal forms (+X)', () => {
  const rec = httpRecord({ clientIp: '::ffff:10.0.1.2', frontendIp: '2001:db8::1', frontendPort: 443 });
  assert.equal(fmt('%{+X}ci', rec), '00000000000000000000FFFF0A000102');
  assert.equal(fmt('%{+X}fi:%{+X}fp', rec), '20010DB8000000000000000000000001:01BB');
  assert.equal(fmt('%{+X}ms %{+X}rt %{+X}lc', rec), '283 0007 0003');
  assert.equal(fmt('%{+X}pid', rec), process.pid.toString(16).toUpperCase().padStart(4, '0'));
});

test('HTTP parts of odd request lines', () => {
  const absolute = httpRecord({ requestLine: 'GET http://example.com:8080/a/b?x=1 HTTP/1.1' });
  assert.equal(fmt('%HU|%HP|%HPO|%HQ|%HV', absolute), 'http://example.com:8080/a/b?x=1|http://example.com:8080/a/b|/a/b|?x=1|HTTP/1.1');
  const connect = httpRecord({ requestLine: 'CONNECT example.com:443 HTTP/1.1' });
  assert.equal(fmt('%HM|%HU|%{+Q}HPO', connect), 'CONNECT|example.com:443|""');
  const http09 = httpRecord({ requestLine: 'GET /' });
  assert.equal(fmt('%HU %HV', http09), '/ HTTP/0.9');
  const verbOnly = httpRecord({ requestLine: 'GARBAGE' });
  assert.equal(fmt('%HM %HU %HP %HV %r', verbOnly), '<BADREQ> <BADREQ> <BADREQ> <BADREQ> GARBAGE');
  const none = httpRecord({ requestLine: '' });
  assert.equal(fmt('%r %HM %HQ %{+Q}r', none), '<BADREQ> <BADREQ> <BADREQ> "<BADREQ>"');
});

test('TCP streams: no status, no cookies, no request', () => {
  const rec = tcpRecord({ status: -1, capturedReqCookie: 'x=1' });
  assert.equal(fmt('%ST %CC %{+Q}CS %r', rec), '0 - "" <BADREQ>');
});

test('non-printable characters are escaped as #XX in requests and headers', () => {
  const rec = httpRecord({
    requestLine: 'GET /a\tb\x01"#\x7f\xe9 HTTP/1.1',
    capturedReqHeaders: ['x{y}|z\r\n', 'ü'],
  });
  assert.equal(fmt('%r', rec), 'GET /a#09b#01#22#23#7F#E9 HTTP/1.1');
  assert.equal(fmt('%HU', rec), '/a');
  assert.equal(fmt('%hr', rec), '{x#7By#7D#7Cz#0D#0A|#FC}');
  // Characters above 0xFF (a string decoded as UTF-8) are escaped byte by byte.
  assert.equal(fmt('%hr', httpRecord({ capturedReqHeaders: ['€'] })), '{#E2#82#AC}');
});

test('+E escapes ", \\ and ] in plain strings; +Q quotes', () => {
  const rec = httpRecord({ frontendName: 'a"b\\c]d', uniqueId: '' });
  assert.equal(fmt('%{+E}f', rec), 'a\\"b\\\\c\\]d');
  assert.equal(fmt('%{+Q,+E}f', rec), '"a\\"b\\\\c\\]d"');
  assert.equal(fmt('%{+Q}ID %ID %{-M}ID|', rec), '"" - |');
});

test('separators print one space; header captures that are not configured vanish with theirs', () => {
  const rec = httpRecord();
  assert.equal(fmt('  %ci   %hr   %hs   %b  ', rec), '10.0.1.2 static ');
  assert.equal(fmt('%ci %hr %b', rec, { mergeSpaces: false }), '10.0.1.2  static');
});

test('an empty field keeps its place between its separators, as HAProxy', () => {
  const rec = httpRecord({ requestLine: 'GET /index.html HTTP/1.1' });
  assert.equal(fmt('%ci %HQ %b', rec), '10.0.1.2  static');
});

test('the "Connect from" line of frontends without a log format', () => {
  assert.equal(
    formatConnectLog(httpRecord({ clientPort: 33312, frontendName: 'www' })),
    'Connect from 10.0.1.2:33312 to 10.0.3.31:8012 (www/HTTP)',
  );
  assert.equal(
    formatConnectLog(tcpRecord({ frontendIp: '' })),
    'Connect from 10.0.1.2:33313 to undetermined address:0 (fnt/TCP)',
  );
});
