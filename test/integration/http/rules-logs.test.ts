// What HTTP rules leave in the httplog line, each scenario run on sluice and on haproxy 2.6:
// header captures (`capture request/response header`, `http-request capture`) in the `{...}`
// blocks, truncated and escaped; the request line as received even after set-path/set-method;
// `set-log-level silent`; the termination state of each kind of rule answer (deny PR--,
// return/redirect/auth LR--, http-response deny PH--) and of failed header rewrites.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  rawConnect,
  startOrigin,
  untilResponses,
  headerValue,
  type EchoReport,
  type Origin,
  type RawConn,
} from '../../harness/index.js';
import { sideTest, startSides, type Side, type Sides } from '../../harness/sides.js';
import { lineFor, linesFor } from '../log/lines.js';

const CONFIG = `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend logs
    bind 127.0.0.1:{{port:logs}}
    capture request header Host len 5
    capture request header User-Agent len 32
    http-request capture req.hdr(x-cap) len 5
    capture response header X-Server len 3
    capture response header Content-Type len 20
    http-request set-log-level silent if { path /quiet }
    http-request set-method PUT if { path /orig }
    http-request set-path /rewritten if { path /orig }
    http-request deny if { path /deny }
    http-request return status 200 if { path /ret }
    http-request redirect location /elsewhere if { path /redir }
    http-request auth realm Logs if { path /auth }
    http-request add-header X-Fill1 %[req.hdr(x-fill)] if { path /fill }
    http-request add-header X-Fill2 %[req.hdr(x-fill)] if { path /fill }
    http-request add-header X-Fill3 %[req.hdr(x-fill)] if { path /fill }
    http-request add-header X-Fill4 %[req.hdr(x-fill)] if { path /fill }
    http-request add-header X-Fill5 %[req.hdr(x-fill)] if { path /fill }
    http-request add-header X-Fill6 %[req.hdr(x-fill)] if { path /fill }
    http-request set-var(txn.fill) req.hdr(x-fill) if { path /rfill }
    default_backend be

backend be
    http-response deny if { res.hdr(x-deny) -m found }
    http-response add-header X-Fill1 %[var(txn.fill)] if { var(txn.fill) -m found }
    http-response add-header X-Fill2 %[var(txn.fill)] if { var(txn.fill) -m found }
    http-response add-header X-Fill3 %[var(txn.fill)] if { var(txn.fill) -m found }
    http-response add-header X-Fill4 %[var(txn.fill)] if { var(txn.fill) -m found }
    http-response add-header X-Fill5 %[var(txn.fill)] if { var(txn.fill) -m found }
    http-response add-header X-Fill6 %[var(txn.fill)] if { var(txn.fill) -m found }
    server s1 127.0.0.1:{{origin}}
`;

/** httplog with both capture blocks: the fields this file looks at. */
const HTTPLOG_CAPTURES = new RegExp(
  String.raw`^(?<ci>[0-9.]+):(?<cp>\d+) \[[^\]]+\] (?<ft>\S+) (?<b>[^\s/]+)/(?<s>\S+) \S+ (?<ST>-1|\d{3}) (?<B>\+?\d+) ` +
    String.raw`(?<CC>\S+) (?<CS>\S+) (?<tsc>[-A-Za-z]{4}) \S+ \S+ \{(?<reqcap>[^}]*)\} \{(?<rescap>[^}]*)\} "(?<r>[^"]*)"$`,
);

type Fields = Record<string, string>;

function parse(line: string): Fields {
  const m = HTTPLOG_CAPTURES.exec(line);
  assert.ok(m?.groups, `not an httplog line with two capture blocks:\n${line}`);
  return m.groups;
}

let origin: Origin;
let sides: Sides;

before(async () => {
  origin = await startOrigin('origin-one');
  sides = await startSides(CONFIG, { values: { origin: origin.port } });
});

after(async () => {
  await sides?.stop();
  await origin?.close();
});

const S = (): Sides => sides;

async function open(side: Side, t: { after(fn: () => void): void }): Promise<RawConn> {
  const c = await rawConnect(side.port('logs'));
  t.after(() => c.destroy());
  return c;
}

/** Sends `head` (a request head without its final CRLF) and resolves with the response and its log line. */
async function exchange(side: Side, head: string, t: { after(fn: () => void): void }, body = '') {
  const mark = side.proc.mark();
  const c = await open(side, t);
  const cp = c.socket.localPort!;
  await c.write(`${head}\r\n${body}`);
  await c.waitFor(untilResponses(1), 4000);
  const [res] = c.responses();
  assert.ok(res, `no response:\n${c.text()}`);
  const log = parse(await lineFor(side.proc, cp, 3000, mark));
  return { res, log, c };
}

sideTest('request and response header captures fill the {...} blocks, truncated to their length', S, async (side, t) => {
  const { log } = await exchange(
    side,
    'GET /?hdr=Content-Type:text/html;charset=utf-8;and-more HTTP/1.1\r\nHost: captures.test\r\n' +
      'User-Agent: a-client/1.0\r\nX-Cap: 1234567890\r\n',
    t,
  );
  // Declaration order: Host, User-Agent, then the slot of http-request capture.
  assert.equal(log.reqcap, 'captu|a-client/1.0|12345');
  assert.equal(log.rescap, 'ori|text/html;charset=ut');
});

sideTest('a header that is absent leaves its slot empty', S, async (side, t) => {
  const { log } = await exchange(side, 'GET / HTTP/1.1\r\nHost: h\r\n', t);
  assert.equal(log.reqcap, 'h||');
  assert.equal(log.rescap, 'ori|');
});

sideTest('captured values are escaped: space, quote, braces, pipe and # as #XX', S, async (side, t) => {
  const { log } = await exchange(side, 'GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: a b"c{d|e}f#g\r\n', t);
  assert.equal(log.reqcap, 'h|a b#22c#7Bd#7Ce#7Df#23g|');
});

sideTest('the logged request line is the one received, before set-method and set-path', S, async (side, t) => {
  const { res, log } = await exchange(side, 'GET /orig?x=1 HTTP/1.1\r\nHost: h\r\n', t);
  assert.equal(res.status, 200);
  assert.equal(log.r, 'GET /orig?x=1 HTTP/1.1');
  const last = origin.requests[origin.requests.length - 1]!;
  assert.equal(last.method, 'PUT', 'the server got the rewritten method');
  assert.equal(last.uri, '/rewritten?x=1', 'and the rewritten path, query kept');
});

sideTest('set-log-level silent: no line for that request, the others are logged', S, async (side, t) => {
  const quiet = await open(side, t);
  const qp = quiet.socket.localPort!;
  await quiet.write('GET /quiet HTTP/1.1\r\nHost: h\r\n\r\n');
  await quiet.waitFor(untilResponses(1), 3000);
  assert.equal(quiet.responses()[0]?.status, 200);
  quiet.destroy();
  // A request after it, on another connection: once its line is out, the quiet one had its chance.
  const { log } = await exchange(side, 'GET /loud HTTP/1.1\r\nHost: h\r\n', t);
  assert.equal(log.r, 'GET /loud HTTP/1.1');
  assert.deepEqual(linesFor(side.proc, qp), []);
});

const ANSWERS: Array<[string, string, number, string]> = [
  ['deny', '/deny', 403, 'PR--'],
  ['return', '/ret', 200, 'LR--'],
  ['redirect', '/redir', 302, 'LR--'],
  ['auth', '/auth', 401, 'LR--'],
];
for (const [what, path, status, tsc] of ANSWERS) {
  sideTest(`http-request ${what} is logged ${status} ${tsc}, <NOSRV>, response captures empty`, S, async (side, t) => {
    const { res, log } = await exchange(side, `GET ${path} HTTP/1.1\r\nHost: h\r\n`, t);
    assert.equal(res.status, status);
    assert.equal(log.ST, String(status));
    assert.equal(log.tsc, tsc);
    assert.equal(log.b, 'logs');
    assert.equal(log.s, '<NOSRV>');
    assert.equal(log.reqcap, 'h||');
    assert.equal(log.rescap, '|');
  });
}

sideTest('http-response deny is logged 502 PH--, with the server and its captured headers', S, async (side, t) => {
  const { res, log } = await exchange(side, 'GET /?hdr=X-Deny:1 HTTP/1.1\r\nHost: h\r\n', t);
  assert.equal(res.status, 502);
  assert.equal(log.ST, '502');
  assert.equal(log.tsc, 'PH--');
  assert.equal(log.b, 'be');
  assert.equal(log.s, 's1');
  assert.equal(log.rescap, 'ori|');
});

// Six copies of a 3000-byte header do not fit the 16 kB buffer beside the request.
const FILL = 'f'.repeat(3000);

sideTest('a request header rewrite that does not fit fails: 500, PR--, nothing reaches the server', S, async (side, t) => {
  const before = origin.requestCount;
  const { res, log } = await exchange(side, `GET /fill HTTP/1.1\r\nHost: h\r\nX-Fill: ${FILL}\r\n`, t);
  assert.equal(res.status, 500);
  assert.equal(log.ST, '500');
  assert.equal(log.tsc, 'PR--');
  assert.equal(origin.requestCount, before);
});

sideTest('a response header rewrite that does not fit fails: 500, PH--', S, async (side, t) => {
  const { res, log } = await exchange(side, `GET /rfill HTTP/1.1\r\nHost: h\r\nX-Fill: ${FILL}\r\n`, t);
  assert.equal(res.status, 500);
  assert.equal(headerValue(res.headers, 'x-fill1'), undefined);
  assert.equal(log.ST, '500');
  assert.equal(log.tsc, 'PH--');
});

sideTest('the same rewrites that fit are done (the buffer limit is what fails them)', S, async (side, t) => {
  const { res } = await exchange(side, `GET /fill?echo=1 HTTP/1.1\r\nHost: h\r\nX-Fill: ${'f'.repeat(100)}\r\n`, t);
  assert.equal(res.status, 200);
  const echo = JSON.parse(res.body.toString()) as EchoReport;
  assert.equal(headerValue(echo.headers, 'x-fill6'), 'f'.repeat(100));
});
