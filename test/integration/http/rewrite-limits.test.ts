// Rewrites that do not fit in the buffer, each scenario run on sluice and on haproxy 2.6. HAProxy
// holds a message in tune.bufsize (16384) less its own 48-byte header, as blocks: the start line
// (8 + 20 bytes + method, target, version), one block per field (8 bytes + name + value), the
// end of headers (9 bytes), the body already received (8 + its bytes). A rewrite that would
// overflow fails: 500 with PR-- (request) or PH-- (response) under the default strict mode, or
// is skipped after `strict-mode off`. A removed field keeps its 8-byte slot until HAProxy
// defragments the buffer. The figures below were measured against haproxy 2.6, and follow from
// that arithmetic; the haproxy run of each scenario proves them again.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  h2Request,
  headerValue,
  rawConnect,
  startOrigin,
  startRawServer,
  untilResponses,
  type EchoReport,
  type H1Message,
  type Origin,
  type RawServer,
} from '../../harness/index.js';
import { sideTest, startSides, type Side, type Sides } from '../../harness/sides.js';
import { fields, HTTPLOG, lineFor, type Fields } from '../log/lines.js';

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

frontend fe
    bind 127.0.0.1:{{port:h1}}
    bind 127.0.0.1:{{port:h2}} proto h2
    http-request add-header X-Add %[req.hdr(x-v)] if { path /add }
    http-request wait-for-body time 2s if { path /wfb }
    http-request add-header X-Add %[req.hdr(x-v)] if { path /wfb }
    http-request set-header X-Old %[req.hdr(x-v)] if { path /set }
    http-request set-path %[req.hdr(x-p)] if { path /path }
    http-request add-header X-A1 %[req.hdr(x-v)] if { path /many } || { path /softmany }
    http-request strict-mode off if { path /softmany } || { path /soft } || { path /softfe }
    http-request add-header X-A2 %[req.hdr(x-v)] if { path /many } || { path /softmany }
    http-request add-header X-A3 %[req.hdr(x-v)] if { path /many } || { path /softmany }
    http-request add-header X-Big %[req.hdr(x-v)],%[req.hdr(x-v)] if { path /soft }
    http-request add-header X-Later yes if { path /soft }
    http-request set-var(txn.v) req.hdr(x-v) if { path /res }
    http-response add-header X-R1 %[var(txn.v)] if { var(txn.v) -m found }
    http-response add-header X-R2 %[var(txn.v)] if { var(txn.v) -m found }
    default_backend be

backend be
    http-request add-header X-Be %[req.hdr(x-v)],%[req.hdr(x-v)] if { path /softfe }
    server s1 127.0.0.1:{{origin}}

listen xff
    bind 127.0.0.1:{{port:xff}}
    option forwardfor
    http-request add-header X-Add %[req.hdr(x-v)]
    server s1 127.0.0.1:{{origin}}

listen big
    bind 127.0.0.1:{{port:big}}
    server raw 127.0.0.1:{{raw}}
`;

let origin: Origin;
let raw: RawServer;
let sides: Sides;

before(async () => {
  origin = await startOrigin('s1');
  // Answers with an X-Pad field of the length the request's X-Pad-Len asks for.
  raw = await startRawServer(async (c) => {
    await c.waitFor((d) => d.includes('\r\n\r\n'));
    const n = Number(/x-pad-len: (\d+)/i.exec(c.text())?.[1] ?? 0);
    await c.write(`HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ${'p'.repeat(n)}\r\n\r\n`);
    c.end();
  });
  sides = await startSides(CONFIG, { values: { origin: origin.port, raw: raw.port } });
});

after(async () => {
  await sides?.stop();
  await origin?.close();
  raw?.server.close();
});

const S = (): Sides => sides;

interface Exchange {
  res: H1Message;
  log: Fields;
  /** Requests the origin received for it. */
  reached: number;
}

/**
 * Sends one request (fields after Host, each ending in CRLF; a body makes it a POST, in the
 * write of the head, `later` in a second one) and returns the answer and its log line.
 */
async function send(side: Side, target: string, extra: string, port = 'h1', body = '', later = ''): Promise<Exchange> {
  const before = origin.requestCount;
  const mark = side.proc.mark();
  const c = await rawConnect(side.port(port));
  try {
    const length = extra.includes('Transfer-Encoding') ? '' : `Content-Length: ${body.length + later.length}\r\n`;
    const head = body === '' && later === '' ? `GET ${target} HTTP/1.1\r\nHost: h\r\n${extra}` : `POST ${target} HTTP/1.1\r\nHost: h\r\n${extra}${length}`;
    await c.write(`${head}\r\n${body}`);
    if (later !== '') await c.write(later);
    await c.waitFor(untilResponses(1), 4000);
    const [res] = c.responses();
    assert.ok(res, `no response:\n${c.text()}`);
    const log = fields(HTTPLOG, await lineFor(side.proc, c.socket.localPort!, 3000, mark));
    return { res, log, reached: origin.requestCount - before };
  } finally {
    c.destroy();
  }
}

const v = (n: number, c = 'v'): string => c.repeat(n);

function echoOf(res: H1Message): EchoReport {
  return JSON.parse(res.body.toString()) as EchoReport;
}

function assertFailed(x: Exchange, tsc: string): void {
  assert.equal(x.res.status, 500);
  assert.equal(x.log.ST, '500');
  assert.equal(x.log.tsc, tsc);
}

// "GET /add?echo=1 HTTP/1.1", Host: h, X-V: n take 83 + n bytes; X-Add adds 8 + 5 + n: the
// whole must stay within 16336, so n <= 8120.
sideTest('add-header: the largest field that fits goes through, one byte more fails with 500 PR--', S, async (side) => {
  const ok = await send(side, '/add?echo=1', `X-V: ${v(8120)}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(echoOf(ok.res).headers, 'x-add'), v(8120));
  const ko = await send(side, '/add?echo=1', `X-V: ${v(8121)}\r\n`);
  assertFailed(ko, 'PR--');
  assert.equal(ko.reached, 0, 'nothing reaches the server');
});

// set-header removes X-Old first, but its slot still counts: 8 bytes less than for an add.
sideTest('set-header over an existing field: the removed field\'s slot still counts', S, async (side) => {
  const ok = await send(side, '/set?echo=1', `X-Old: abc\r\nX-V: ${v(8116)}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.deepEqual(echoOf(ok.res).headers.filter(([n]) => n.toLowerCase() === 'x-old').map(([, x]) => x.length), [8116]);
  assertFailed(await send(side, '/set?echo=1', `X-Old: abc\r\nX-V: ${v(8117)}\r\n`), 'PR--');
});

// The target "/path?echo=1" becomes "/" + n + "?echo=1": the start line grows by n - 4.
sideTest('set-path: the longest path that fits goes through, one byte more fails', S, async (side) => {
  const ok = await send(side, '/path?echo=1', `X-P: /${v(8127, 'p')}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.equal(echoOf(ok.res).uri, `/${v(8127, 'p')}?echo=1`);
  assertFailed(await send(side, '/path?echo=1', `X-P: /${v(8128, 'p')}\r\n`), 'PR--');
});

// Three fields of 12 + n bytes beside a head of 84 + n: n <= 4054 for all three.
sideTest('several rewrites where only the last one overflows: the request fails as a whole', S, async (side) => {
  const ok = await send(side, '/many?echo=1', `X-V: ${v(4054)}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(echoOf(ok.res).headers, 'x-a3'), v(4054));
  const ko = await send(side, '/many?echo=1', `X-V: ${v(4055)}\r\n`);
  assertFailed(ko, 'PR--');
  assert.equal(ko.reached, 0);
});

sideTest('strict-mode off: the rewrite that overflows is skipped, the ones before stay', S, async (side) => {
  const x = await send(side, '/softmany?echo=1', `X-V: ${v(4059)}\r\n`);
  assert.equal(x.res.status, 200);
  assert.equal(x.log.tsc, '----');
  const h = echoOf(x.res).headers;
  assert.equal(headerValue(h, 'x-a1'), v(4059));
  assert.equal(headerValue(h, 'x-a2'), v(4059));
  assert.equal(headerValue(h, 'x-a3'), undefined);
});

sideTest('strict-mode off: the rules after a failed rewrite still run', S, async (side) => {
  const x = await send(side, '/soft?echo=1', `X-V: ${v(6000)}\r\n`);
  assert.equal(x.res.status, 200);
  const h = echoOf(x.res).headers;
  assert.equal(headerValue(h, 'x-big'), undefined);
  assert.equal(headerValue(h, 'x-later'), 'yes');
});

sideTest('strict-mode off lasts for its own rule list: the backend\'s rules are strict again', S, async (side) => {
  const x = await send(side, '/softfe?echo=1', `X-V: ${v(6000)}\r\n`);
  assertFailed(x, 'PR--');
  assert.equal(x.log.b, 'be');
  assert.equal(x.reached, 0);
});

// The response "200 OK", X-Server: s1, Content-Length: 0 takes 91 bytes; two fields of 12 + n.
sideTest('response rewrites: the largest that fit go through, one byte more fails with 500 PH--', S, async (side) => {
  const ok = await send(side, '/res', `X-V: ${v(8110)}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(ok.res.headers, 'x-r2'), v(8110));
  const ko = await send(side, '/res', `X-V: ${v(8111)}\r\n`);
  assertFailed(ko, 'PH--');
  assert.equal(headerValue(ko.res.headers, 'x-r1'), undefined);
  assert.equal(ko.log.s, 's1');
});

// The 5000 body bytes came with the head (Content-Length: 5000, 3 bytes more): 5102 bytes taken.
sideTest('the body that came with the response head takes its room too', S, async (side) => {
  const ok = await send(side, '/res?size=5000', `X-V: ${v(5605)}\r\n`);
  assert.equal(ok.res.status, 200);
  assert.equal(ok.res.body.length, 5000);
  assertFailed(await send(side, '/res?size=5000', `X-V: ${v(5606)}\r\n`), 'PH--');
});

// A body larger than the buffer fills what a read may take (16336 - 1024): the rules have
// tune.maxrewrite left, whatever the size of the head. X-Add takes 8 + 5 + n.
sideTest('a request body that filled the buffer leaves tune.maxrewrite for the rewrites', S, async (side) => {
  const body = v(20000, 'b');
  const ok = await send(side, '/add?echo=1', `X-V: ${v(1011)}\r\n`, 'h1', body);
  assert.equal(ok.res.status, 200);
  assert.equal(echoOf(ok.res).bodyLength, body.length);
  assert.equal(headerValue(echoOf(ok.res).headers, 'x-add'), v(1011));
  const ko = await send(side, '/add?echo=1', `X-V: ${v(1012)}\r\n`, 'h1', body);
  assertFailed(ko, 'PR--');
  assert.equal(ko.reached, 0);
});

// The head takes 116 + n (Transfer-Encoding: chunked: 32), the two chunks 8 + 2000, the trailer
// field 8 + 3 + 1 and the end of trailers 9: X-Add fits while 2158 + 2n <= 16336.
sideTest('a chunked body that came with the head: its data, trailers and their end take room', S, async (side) => {
  const body = `3e8\r\n${v(1000, 'c')}\r\n3e8\r\n${v(1000, 'c')}\r\n0\r\nX-T: 1\r\n\r\n`;
  const te = 'Transfer-Encoding: chunked\r\n';
  const ok = await send(side, '/add?echo=1', `X-V: ${v(7089)}\r\n${te}`, 'h1', body);
  assert.equal(ok.res.status, 200);
  assert.equal(echoOf(ok.res).bodyLength, 2000);
  assertFailed(await send(side, '/add?echo=1', `X-V: ${v(7089 + 1)}\r\n${te}`, 'h1', body), 'PR--');
});

// wait-for-body: the body that arrived meanwhile is in the buffer when X-Add comes: a head of
// 110 + n (Content-Length: 3000), 3008 of body, then 13 + n.
sideTest('after wait-for-body, the body received takes its room', S, async (side) => {
  const ok = await send(side, '/wfb?echo=1', `X-V: ${v(6602)}\r\n`, 'h1', '', v(3000, 'b'));
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(echoOf(ok.res).headers, 'x-add'), v(6602));
  assertFailed(await send(side, '/wfb?echo=1', `X-V: ${v(6602 + 1)}\r\n`, 'h1', '', v(3000, 'b')), 'PR--');
});

// X-Add fits up to 8121, but X-Forwarded-For: 127.0.0.1 then needs 32 bytes more.
sideTest('option forwardfor that no longer fits after the rules fails the request: 500 PR--', S, async (side) => {
  const ok = await send(side, '/?echo=1', `X-V: ${v(8105)}\r\n`, 'xff');
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(echoOf(ok.res).headers, 'x-forwarded-for'), '127.0.0.1');
  const ko = await send(side, '/?echo=1', `X-V: ${v(8106)}\r\n`, 'xff');
  assertFailed(ko, 'PR--');
  assert.equal(ko.reached, 0);
});

// Over HTTP/2 the target is "http://h/add?echo=1" and a Host field is added from :authority.
sideTest('over HTTP/2 the same accounting applies', S, async (side) => {
  const req = (n: number) => h2Request(side.port('h2'), { path: '/add?echo=1', authority: 'h', headers: [['x-v', v(n)]] });
  const ok = await req(8116);
  assert.equal(ok.status, 200);
  assert.equal(headerValue((JSON.parse(ok.body.toString()) as EchoReport).headers, 'x-add'), v(8116));
  assert.equal((await req(8117)).status, 500);
});

// "200 OK", Content-Length: 0 and X-Pad: n take 86 + n bytes, within 16384 - 48 - 1024.
sideTest('a response head is refused (502) one byte past the size haproxy accepts', S, async (side) => {
  const ok = await send(side, '/', 'X-Pad-Len: 15226\r\n', 'big');
  assert.equal(ok.res.status, 200);
  assert.equal(headerValue(ok.res.headers, 'x-pad')?.length, 15226);
  const ko = await send(side, '/', 'X-Pad-Len: 15227\r\n', 'big');
  assert.equal(ko.res.status, 502);
  assert.equal(ko.log.tsc, 'PH--');
});
