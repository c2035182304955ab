// HTTP rules and message bodies over real sockets, each scenario run on sluice and on haproxy 2.6
// (the reference proves the expectation): `http-request wait-for-body` on a body that arrives
// late (conditions on req.body_size see it, 100-continue is answered by the proxy, the 408 and
// its `cD` log when it never comes, `at-least`, the whole body reaching the server), the
// response-side wait, and what happens to a request body still arriving when a rule answers
// (it must never be read as a next request), and to a server response a rule denies (its
// connection must not be reused).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { createHash } from 'node:crypto';
import {
  parseResponses,
  rawConnect,
  startOrigin,
  startRawServer,
  untilResponses,
  headerValue,
  type EchoReport,
  type Origin,
  type RawConn,
  type RawServer,
} from '../../harness/index.js';
import { lazySides, sideTest, startSides, type Side, type Sides } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';

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

# A rule that decides on the body: it must see the whole of it.
frontend wfb
    bind 127.0.0.1:{{port:wfb}}
    http-request wait-for-body time 3s
    http-request return status 200 content-type text/plain lf-string "big %[req.body_len]" if { req.body_len gt 10 }
    http-request return status 200 content-type text/plain lf-string "small %[req.body_len]"

# The body never comes.
frontend wfbto
    bind 127.0.0.1:{{port:wfbto}}
    http-request wait-for-body time 400ms
    default_backend echo

# at-least: go on once 5 bytes are there, long before the time.
frontend least
    bind 127.0.0.1:{{port:least}}
    http-request wait-for-body time 20s at-least 5
    http-request set-header X-Seen %[req.body_len]
    default_backend echo

# After the wait, the request goes to the server with everything.
frontend fwd
    bind 127.0.0.1:{{port:fwd}}
    http-request wait-for-body time 3s
    http-request set-header X-Seen %[req.body_len]
    default_backend echo

# The wait in a backend's rules.
frontend bewait
    bind 127.0.0.1:{{port:bewait}}
    default_backend echowait

# Answers given while the request body is still arriving.
frontend early
    bind 127.0.0.1:{{port:early}}
    http-request deny if { path /deny }
    http-request return status 200 content-type text/plain string "local" if { path /ret }
    http-request redirect location /elsewhere if { path /redir }
    default_backend echo

# A denied response.
frontend resp
    bind 127.0.0.1:{{port:resp}}
    default_backend scripted

backend echo
    server o1 127.0.0.1:{{origin}}

backend echowait
    http-request wait-for-body time 3s
    http-request set-header X-Seen %[req.body_len]
    server o1 127.0.0.1:{{origin}}

backend scripted
    http-response wait-for-body time 400ms if { res.hdr(x-wait-short) -m found }
    http-response deny if { res.hdr(x-deny) -m found }
    server r1 127.0.0.1:{{scripted}}
`;

// The body fetches beyond req.body_len, apart so that a fetch sluice lacks fails only these.
const BODY_FETCHES = `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend reqbody
    bind 127.0.0.1:{{port:reqbody}}
    http-request wait-for-body time 3s
    http-request return status 200 content-type text/plain string "found" if { req.body -m sub ABCDEFGHIJ }
    http-request return status 200 content-type text/plain lf-string "not found, size %[req.body_size]"

frontend resp
    bind 127.0.0.1:{{port:resp}}
    default_backend scripted

backend scripted
    http-response wait-for-body time 3s if { res.hdr(x-wait) -m found }
    http-response set-header X-Res-Size %[res.body_size]
    http-response set-header X-Res-Len %[res.body_len]
    http-response set-header X-Big yes if { res.body_len gt 10 }
    server r1 127.0.0.1:{{scripted}}
`;

/** What the scripted server sends back for a path; a `pause` splits head and body. */
const LEAK = 'HTTP/1.1 200 OK\r\nX-Leaked: yes\r\nContent-Length: 6\r\n\r\nLEAKED';
const BODY30 = 'abcdefghijklmnopqrstuvwxyz0123';

let origin: Origin;
let scripted: RawServer;
let sides: Sides;
const fetches = lazySides(BODY_FETCHES, () => ({ values: { scripted: scripted.port } }));

/**
 * The scripted server: one response per request head received (bodyless requests only), chosen
 * by the path: /slowbody sends its head, then its body 200 ms later; /slowchunks the same
 * with a chunked body in two chunks; /denyme a response to deny
 * whose body is itself an HTTP response (so that a reused connection would show it); anything
 * else a small answer naming the connection.
 */
async function scriptedServer(): Promise<RawServer> {
  let connId = 0;
  return startRawServer(async (c: RawConn) => {
    const id = ++connId;
    let seen = 0;
    for (let n = 0; n < 20; n++) {
      const data = await c.waitFor((d) => d.subarray(seen).includes('\r\n\r\n'), 10000);
      const rest = data.subarray(seen);
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = rest.subarray(0, end).toString('latin1');
      seen += end + 4;
      const path = head.split(' ')[1] ?? '/';
      if (path.startsWith('/slowbody')) {
        await c.write(`HTTP/1.1 200 OK\r\nX-Wait: 1\r\nContent-Length: ${BODY30.length}\r\n\r\n`);
        await new Promise((r) => setTimeout(r, 200));
        await c.write(BODY30);
      } else if (path.startsWith('/slowchunks')) {
        await c.write('HTTP/1.1 200 OK\r\nX-Wait: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
        await new Promise((r) => setTimeout(r, 200));
        await c.write(`f\r\n${BODY30.slice(0, 15)}\r\n`);
        await new Promise((r) => setTimeout(r, 100));
        await c.write(`f\r\n${BODY30.slice(15)}\r\n0\r\n\r\n`);
      } else if (path.startsWith('/nobody')) {
        await c.write(`HTTP/1.1 200 OK\r\nX-Wait-Short: 1\r\nContent-Length: 30\r\n\r\n`);
        return;
      } else if (path.startsWith('/denyme')) {
        await c.write(`HTTP/1.1 200 OK\r\nX-Deny: 1\r\nContent-Length: ${LEAK.length}\r\n\r\n`);
        await new Promise((r) => setTimeout(r, 100));
        await c.write(LEAK);
      } else {
        const body = `conn ${id}`;
        await c.write(`HTTP/1.1 200 OK\r\nX-Conn: ${id}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
    }
  });
}

before(async () => {
  origin = await startOrigin('o1');
  scripted = await scriptedServer();
  sides = await startSides(CONFIG, { values: { origin: origin.port, scripted: scripted.port } });
});

after(async () => {
  await fetches.stop();
  await sides?.stop();
  await origin?.close();
  await scripted?.close();
});

const S = (): Sides => sides;

function postHead(path: string, length: number, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: rules.test\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Opens a connection to `name` on `side`; closed when the test ends. */
async function open(side: Side, name: string, t: { after(fn: () => void): void }): Promise<RawConn> {
  const c = await rawConnect(side.port(name));
  t.after(() => c.destroy());
  return c;
}

const BODY20 = '0123456789ABCDEFGHIJ';

sideTest('wait-for-body: a body sent after a pause is seen whole by the condition that follows', S, async (side, t) => {
  const c = await open(side, 'wfb', t);
  await c.write(postHead('/', BODY20.length));
  // Only the head so far: a proxy that did not wait would answer "small 0" now.
  await c.waitFor(() => false, 200);
  assert.equal(c.received.length, 0, 'nothing is answered while the body is awaited');
  await c.write(BODY20);
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200);
  assert.equal(r.body.toString(), 'big 20');
});

sideTest('wait-for-body: a body in two parts with a pause between them is waited for to its end', S, async (side, t) => {
  const c = await open(side, 'wfb', t);
  await c.write(postHead('/', BODY20.length) + BODY20.slice(0, 8));
  await c.waitFor(() => false, 200);
  assert.equal(c.received.length, 0, 'eight bytes of twenty: still waiting');
  await c.write(BODY20.slice(8));
  await c.waitFor(untilResponses(1));
  assert.equal(c.responses()[0]?.body.toString(), 'big 20');
});

sideTest('wait-for-body: a chunked body sent late is seen whole', S, async (side, t) => {
  const c = await open(side, 'wfb', t);
  await c.write('POST / HTTP/1.1\r\nHost: rules.test\r\nTransfer-Encoding: chunked\r\n\r\n');
  await c.waitFor(() => false, 150);
  assert.equal(c.received.length, 0);
  await c.write('7\r\n0123456\r\n');
  await c.waitFor(() => false, 150);
  await c.write('8\r\n789ABCDE\r\n0\r\n\r\n');
  await c.waitFor(untilResponses(1));
  assert.equal(c.responses()[0]?.body.toString(), 'big 15');
});

sideTest('wait-for-body: Expect: 100-continue gets "100 Continue" from the proxy while it waits', S, async (side, t) => {
  const c = await open(side, 'wfb', t);
  await c.write(postHead('/', BODY20.length, 'Expect: 100-continue\r\n'));
  await c.waitFor((d) => d.includes('\r\n\r\n'), 3000);
  assert.equal(c.text(), 'HTTP/1.1 100 Continue\r\n\r\n', 'the interim answer, and nothing else yet');
  await c.write(BODY20);
  await c.waitFor(untilResponses(1));
  const rs = c.responses();
  assert.deepEqual(rs.map((r) => r.status), [100, 200]);
  assert.equal(rs[1]!.body.toString(), 'big 20');
});

// HAProxy logged cD-- here until 2023 (commit "Report SF_FINST_R flag on error waiting the request
// body", backported to 2.6): nothing was sent to the server yet, so the request phase, cR--.
sideTest('wait-for-body: a body that never comes gets 408 after the time, logged cR--', S, async (side, t) => {
  const mark = side.proc.mark();
  const c = await open(side, 'wfbto', t);
  const cp = c.socket.localPort!;
  const t0 = Date.now();
  await c.write(postHead('/?echo=1', 100) + 'only a part');
  await c.waitFor(untilResponses(1), 4000);
  const elapsed = Date.now() - t0;
  const [r] = c.responses();
  assert.equal(r?.status, 408, c.text());
  assert.ok(elapsed >= 390, `not before the wait-for-body time (${elapsed} ms)`);
  await c.waitFor(() => false, 1000);
  assert.ok(c.ended || c.closed, 'the connection is closed after the 408');
  const f = fields(HTTPLOG, await lineFor(side.proc, cp, 3000, mark));
  assert.equal(f.ST, '408');
  assert.equal(f.tsc, 'cR--');
  assert.equal(f.s, '<NOSRV>');
});

// The 408 of timeout http-request leaves from the connection layer as the raw error file; this one
// is a stream answer, so HAProxy sends it the way it sends every reply it builds.
const PAGE_408_STREAM =
  'HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n' +
  "connection: close\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";

sideTest('wait-for-body: the 408 is sent as a stream reply (lower-case names, connection: close last)', S, async (side, t) => {
  const c = await open(side, 'wfbto', t);
  await c.write(postHead('/', 100) + 'part');
  await c.waitFor(() => false, 4000);
  assert.equal(c.text(), PAGE_408_STREAM);
});

sideTest('wait-for-body at-least: the proxy goes on once that much arrived, and the rest follows to the server', S, async (side, t) => {
  const c = await open(side, 'least', t);
  const before = origin.connectionsTotal;
  await c.write(postHead('/?echo=1', BODY20.length) + BODY20.slice(0, 6));
  // The server connection opens although the body is incomplete and the time is far away.
  await origin.waitFor((o) => o.connectionsTotal > before, 4000);
  assert.equal(c.received.length, 0);
  await c.write(BODY20.slice(6));
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200);
  const echo = JSON.parse(r.body.toString()) as EchoReport;
  assert.equal(headerValue(echo.headers, 'x-seen'), '6', 'the rules ran when 6 of 20 bytes were there');
  assert.equal(echo.bodyLength, 20);
  assert.equal(echo.bodySha256, sha(BODY20));
});

sideTest('wait-for-body: after the wait the server gets the whole body, and the rules saw all of it', S, async (side, t) => {
  const c = await open(side, 'fwd', t);
  const body = 'x'.repeat(3000) + BODY20;
  await c.write(postHead('/?echo=1', body.length));
  await c.waitFor(() => false, 150);
  await c.write(body.slice(0, 1000));
  await c.waitFor(() => false, 150);
  await c.write(body.slice(1000));
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200, c.text());
  const echo = JSON.parse(r.body.toString()) as EchoReport;
  assert.equal(headerValue(echo.headers, 'x-seen'), String(body.length));
  assert.equal(echo.bodyLength, body.length);
  assert.equal(echo.bodySha256, sha(body));
  assert.equal(echo.framing, 'length');
});

sideTest("wait-for-body in a backend's rules: the server gets the body and the rules saw all of it", S, async (side, t) => {
  const c = await open(side, 'bewait', t);
  await c.write(postHead('/?echo=1', BODY20.length));
  await c.waitFor(() => false, 150);
  assert.equal(c.received.length, 0);
  await c.write(BODY20);
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200, c.text());
  const echo = JSON.parse(r.body.toString()) as EchoReport;
  assert.equal(headerValue(echo.headers, 'x-seen'), '20');
  assert.equal(echo.bodySha256, sha(BODY20));
});

sideTest('wait-for-body on every request of a kept-alive connection', S, async (side, t) => {
  const c = await open(side, 'fwd', t);
  for (let i = 0; i < 3; i++) {
    const body = BODY20.slice(0, 10 + i * 5);
    const n = c.received.length;
    await c.write(postHead(`/?echo=1&i=${i}`, body.length) + body.slice(0, 3));
    await c.waitFor(() => false, 100);
    assert.equal(c.received.length, n, `request ${i}: waiting`);
    await c.write(body.slice(3));
    await c.waitFor((d) => untilResponses(1)(d.subarray(n)), 3000);
    const [r] = parseResponses(c.received.subarray(n), ['POST'], false);
    assert.equal(r?.status, 200, c.text());
    const echo = JSON.parse(r.body.toString()) as EchoReport;
    assert.equal(headerValue(echo.headers, 'x-seen'), String(body.length), `request ${i}`);
    assert.equal(echo.bodySha256, sha(body), `request ${i}`);
  }
});

sideTest('wait-for-body: a request without a body goes through at once', S, async (side, t) => {
  const c = await open(side, 'fwd', t);
  await c.write('GET /?echo=1 HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1), 2000);
  const [r] = c.responses();
  assert.equal(r?.status, 200);
  const echo = JSON.parse(r.body.toString()) as EchoReport;
  assert.equal(headerValue(echo.headers, 'x-seen'), '0');
});

sideTest('wait-for-body: a condition on req.body sees the body sent after a pause', fetches, async (side, t) => {
  const c = await open(side, 'reqbody', t);
  await c.write(postHead('/', BODY20.length));
  await c.waitFor(() => false, 200);
  assert.equal(c.received.length, 0);
  await c.write(BODY20);
  await c.waitFor(untilResponses(1));
  assert.equal(c.responses()[0]?.body.toString(), 'found', c.text());
});

sideTest('req.body_size is the announced Content-Length, with or without the body', fetches, async (side, t) => {
  const c = await open(side, 'reqbody', t);
  await c.write(postHead('/', 20) + 'nothing to find here');
  await c.waitFor(untilResponses(1));
  assert.equal(c.responses()[0]?.body.toString(), 'not found, size 20', c.text());
});

sideTest('http-response wait-for-body: rules see the body the server sent late; the client gets all of it', fetches, async (side, t) => {
  const c = await open(side, 'resp', t);
  await c.write('GET /slowbody HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200, c.text());
  assert.equal(headerValue(r.headers, 'x-res-size'), String(BODY30.length), 'res.body_size: the Content-Length');
  assert.equal(headerValue(r.headers, 'x-res-len'), String(BODY30.length), 'res.body_len: all of the body arrived');
  assert.equal(headerValue(r.headers, 'x-big'), 'yes');
  assert.equal(r.body.toString(), BODY30);
});

sideTest('http-response wait-for-body on a chunked body sent late: res.body_size counts all of it', fetches, async (side, t) => {
  const c = await open(side, 'resp', t);
  await c.write('GET /slowchunks HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200, c.text());
  assert.equal(headerValue(r.headers, 'x-res-size'), String(BODY30.length));
  assert.equal(headerValue(r.headers, 'x-big'), 'yes');
  assert.equal(r.body.toString(), BODY30);
});

sideTest('without wait-for-body, a response rule sees only what arrived with the head', fetches, async (side, t) => {
  const c = await open(side, 'resp', t);
  await c.write('GET /plain HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const [r] = c.responses();
  assert.equal(r?.status, 200);
  assert.match(r.body.toString(), /^conn \d+$/);
  assert.equal(headerValue(r.headers, 'x-big'), undefined);
});

/**
 * Sends `path` as a POST whose 60-byte body carries a complete request after 5 bytes, in two
 * writes around the answer; returns what the client received and whether the proxy closed.
 */
async function answerDuringBody(side: Side, path: string, t: { after(fn: () => void): void }): Promise<{ c: RawConn; smuggled: boolean }> {
  const inner = 'GET /?echo=1&smuggled=1 HTTP/1.1\r\nHost: rules.test\r\n\r\n';
  const body = 'xxxxx' + inner;
  const before = origin.requests.length;
  const c = await open(side, 'early', t);
  await c.write(postHead(path, body.length) + body.slice(0, 5));
  await c.waitFor(untilResponses(1), 3000);
  await c.write(body.slice(5));
  // Whatever the proxy does with the rest, give it the time to do it.
  await c.waitFor(() => false, 500);
  const smuggled = origin.requests.slice(before).some((q) => q.query.get('smuggled') === '1');
  return { c, smuggled };
}

/** After the answer: either the connection is closed, or the body was drained and it still works. */
async function assertConnectionSane(c: RawConn, label: string): Promise<void> {
  const rs = c.responses(['POST']);
  assert.equal(rs.filter((r) => r.status >= 200).length, 1, `${label}: exactly one answer\n${c.text()}`);
  if (c.ended || c.closed) return;
  const before = c.received.length;
  await c.write('GET /?echo=1&probe=1 HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor((d) => untilResponses(1)(d.subarray(before)), 3000);
  const next = parseResponses(c.received.subarray(before), ['GET'], c.ended);
  if (next.length === 0) {
    assert.ok(c.ended || c.closed, `${label}: the probe got no answer and the connection is still open`);
    return;
  }
  assert.equal(next[0]!.status, 200, `${label}: the probe is answered normally`);
  const echo = JSON.parse(next[0]!.body.toString()) as EchoReport;
  assert.match(echo.uri, /probe=1/, `${label}: the next request is the probe, not the body`);
}

for (const [path, status] of [
  ['/deny', 403],
  ['/ret', 200],
  ['/redir', 302],
] as const) {
  sideTest(`an answer from "${path.slice(1)}" while the body arrives: the rest of the body is never a next request`, S, async (side, t) => {
    const { c, smuggled } = await answerDuringBody(side, path, t);
    assert.equal(c.responses()[0]?.status, status, c.text());
    assert.equal(smuggled, false, 'the bytes of the body never reached the server as a request');
    await assertConnectionSane(c, path);
  });
}

// 2.6 logs sR-- (the backported change above set R on both sides); HAProxy 2.8 and later log
// sH-- (the response head was not forwarded yet). Never sD--: no data phase was reached.
// HAProxy keeps the connection when the body was complete, and announces and does the close when
// it was not: it does not read an unknown amount of body it has no use for.
for (const path of ['/deny', '/ret', '/redir']) {
  sideTest(`an answer from "${path.slice(1)}" before the body is complete says connection: close and closes`, S, async (side, t) => {
    const { c } = await answerDuringBody(side, path, t);
    const [r] = c.responses();
    assert.equal(headerValue(r!.headers, 'connection'), 'close', c.text());
    assert.ok(c.ended || c.closed, 'the proxy closed the connection');
  });
}

sideTest('an answer from "deny" after a complete body keeps the connection', S, async (side, t) => {
  const c = await open(side, 'early', t);
  await c.write(postHead('/deny', 5) + 'abcde');
  await c.waitFor(untilResponses(1), 3000);
  assert.equal(c.responses()[0]?.status, 403);
  assert.equal(headerValue(c.responses()[0]!.headers, 'connection'), undefined);
  const before = c.received.length;
  await c.write('GET /?echo=1 HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor((d) => untilResponses(1)(d.subarray(before)), 3000);
  assert.equal(parseResponses(c.received.subarray(before), ['GET'], false)[0]?.status, 200);
});

sideTest('http-response wait-for-body: a body that never comes gets 504 after the time, logged sR--', S, async (side, t) => {
  const mark = side.proc.mark();
  const c = await open(side, 'resp', t);
  const cp = c.socket.localPort!;
  const t0 = Date.now();
  await c.write('GET /nobody HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1), 4000);
  const elapsed = Date.now() - t0;
  assert.equal(c.responses()[0]?.status, 504, c.text());
  assert.ok(elapsed >= 390, `not before the wait-for-body time (${elapsed} ms)`);
  const f = fields(HTTPLOG, await lineFor(side.proc, cp, 3000, mark));
  assert.equal(f.ST, '504');
  assert.equal(f.tsc, 'sR--');
});

sideTest('http-response deny: 502 to the client, and the server connection is not used again', S, async (side, t) => {
  const c = await open(side, 'resp', t);
  await c.write('GET /denyme HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await c.waitFor(untilResponses(1));
  assert.equal(c.responses()[0]?.status, 502, c.text());
  // The next request, on the same client connection if it is still open, else on a new one.
  let d = c;
  if (c.ended || c.closed) d = await open(side, 'resp', t);
  const before = d.received.length;
  await d.write('GET /next HTTP/1.1\r\nHost: rules.test\r\n\r\n');
  await d.waitFor((x) => untilResponses(1)(x.subarray(before)), 3000);
  const [r] = parseResponses(d.received.subarray(before), ['GET'], d.ended);
  assert.equal(r?.status, 200, d.text());
  assert.equal(headerValue(r.headers, 'x-leaked'), undefined, 'the denied body did not become the next response');
  assert.match(r.body.toString(), /^conn \d+$/);
});
