// HTTP/2 clients through sluice to HTTP/1.1 origins (issue #4, client half): how a connection
// becomes HTTP/2 (prior knowledge on `proto h2`, the preface on a plain bind, ALPN over TLS), what
// the origin receives for an HTTP/2 request, every response body shape coming back with
// END_STREAM, request bodies arriving whole, many streams on one connection (h2load), log lines,
// sluice's own answers and interim 100s on a stream, a server dying mid-body or never answering,
// a stream reset by the client. Each scenario also runs against haproxy 2.6 with the same
// configuration. SETTINGS, idle timeouts and the graceful stop are in settings.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe } from 'node:test';
import {
  H2Client,
  HttpClient,
  bodyPattern,
  curl,
  headerValue,
  h2load,
  makeCa,
  makeTempDir,
  nghttp,
  nghttpServerSettings,
  rawRequest,
  startOrigin,
  startRawServer,
  type EchoReport,
  type H2Response,
  type Origin,
  type RawServer,
  type TestCa,
} from '../../harness/index.js';
import { lazySides, sideTest } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';
import { assertWhole, h2get } from './util.js';

const TEMPLATE = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend h2
    bind 127.0.0.1:{{port:h2}} proto h2
    default_backend be
frontend plain
    bind 127.0.0.1:{{port:plain}}
    default_backend be
frontend noup
    bind 127.0.0.1:{{port:noup}}
    option disable-h2-upgrade
    default_backend be
frontend h1only
    bind 127.0.0.1:{{port:h1}} proto h1
    default_backend be
frontend tls
    bind 127.0.0.1:{{port:tls}} ssl crt {{crt}} alpn h2,http/1.1
    default_backend be
frontend raw
    bind 127.0.0.1:{{port:raw}} proto h2
    default_backend be_raw
frontend slow
    bind 127.0.0.1:{{port:slow}} proto h2
    default_backend be_slow
frontend rules
    bind 127.0.0.1:{{port:rules}} proto h2
    http-request deny if { path_beg /deny }
    http-request redirect location /elsewhere if { path_beg /redir }
    http-request return status 201 content-type text/plain string hello if { path_beg /ret }
    http-request set-header x-ver %[req.ver]
    http-request set-header x-h2 yes if HTTP_2.0
    default_backend be
backend be
    server s1 127.0.0.1:{{origin}}
backend be_raw
    server r1 127.0.0.1:{{raw}}
backend be_slow
    timeout server 1s
    server s1 127.0.0.1:{{origin}}
`;

let origin: Origin;
let raw: RawServer;
let ca: TestCa;
let crt: string;

/**
 * A scripted HTTP/1.1 server for what the query-driven origin cannot do: `/trailers` answers
 * chunked with trailer fields; `/die` and `/diechunk` send part of a body then close.
 */
async function startScripted(): Promise<RawServer> {
  return startRawServer(async (c) => {
    let seen = 0;
    for (let i = 0; i < 50 && !c.closed; i++) {
      const d = await c.waitFor((b) => b.indexOf('\r\n\r\n', seen) >= 0, 10000);
      const end = d.indexOf('\r\n\r\n', seen);
      if (end < 0) return;
      const target = d.subarray(seen, end).toString('latin1').split(' ')[1] ?? '/';
      seen = end + 4;
      if (target.startsWith('/trailers')) {
        await c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: abc\r\nx-other: 1\r\n\r\n');
      } else if (target.startsWith('/diechunk')) {
        await c.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${'x'.repeat(1000)}\r\n`);
        await new Promise((r) => setTimeout(r, 100));
        c.destroy();
        return;
      } else if (target.startsWith('/die')) {
        await c.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
        await new Promise((r) => setTimeout(r, 100));
        c.destroy();
        return;
      } else {
        await c.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
    }
  });
}

const sides = lazySides(TEMPLATE, () => ({ values: { origin: origin.port, raw: raw.port, crt } }));

before(async () => {
  origin = await startOrigin('o');
  raw = await startScripted();
  ca = makeCa();
  crt = ca.issue('front', { sans: ['front.test'] }).pemFile;
});
after(async () => {
  await sides.stop();
  await origin?.close();
  await raw?.close();
});

function echoOf(r: H2Response): EchoReport {
  assert.equal(r.status, 200, `echo answer: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return JSON.parse(r.body.toString('utf8')) as EchoReport;
}

/** Header fields as "name: value" with lower-case names, in order. */
const fieldsOf = (h: EchoReport['headers']): string[] => h.map(([n, v]) => `${n.toLowerCase()}: ${v}`);

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('how a connection becomes HTTP/2', () => {
  sideTest('proto h2 bind: curl --http2-prior-knowledge', sides, async (side) => {
    const r = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${side.port('h2')}/a?size=100`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.httpVersion, '2');
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(bodyPattern(100)));
  });

  sideTest('plain bind: the HTTP/2 preface switches the connection to HTTP/2', sides, async (side) => {
    const r = await curl(['--http2-prior-knowledge', `http://127.0.0.1:${side.port('plain')}/a?size=100`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.httpVersion, '2');
    assert.ok(r.body.equals(bodyPattern(100)));
    const h1 = await curl(['--http1.1', `http://127.0.0.1:${side.port('plain')}/a?size=100`]);
    assert.equal(h1.httpVersion, '1.1');
    assert.equal(h1.status, 200);
  });

  sideTest('TLS: ALPN h2 gives HTTP/2 (curl --http2), --http1.1 gives HTTP/1.1', sides, async (side) => {
    const port = side.port('tls');
    const base = ['--cacert', ca.certFile, '--resolve', `front.test:${port}:127.0.0.1`, `https://front.test:${port}/a?size=100`];
    const r2 = await curl(['--http2', ...base]);
    assert.equal(r2.exitCode, 0, r2.stderr);
    assert.equal(r2.httpVersion, '2');
    assert.ok(r2.body.equals(bodyPattern(100)));
    const r1 = await curl(['--http1.1', ...base]);
    assert.equal(r1.exitCode, 0, r1.stderr);
    assert.equal(r1.httpVersion, '1.1');
    assert.ok(r1.body.equals(bodyPattern(100)));
  });

  for (const [label, name] of [['option disable-h2-upgrade', 'noup'], ['bind ... proto h1', 'h1']] as const) {
    sideTest(`${label}: the preface is an invalid HTTP/1 request, 400 then close`, sides, async (side) => {
      // Everything until the proxy closes (bounded): one 400, then the close.
      const o = await rawRequest(side.port(name), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', { until: () => false, timeoutMs: 3000 });
      assert.equal(o.closed, true, `the connection closes after the 400: ${o.text}`);
      assert.equal(o.responses.length, 1, o.text);
      assert.equal(o.responses[0]!.status, 400, o.text);
      assert.equal(headerValue(o.responses[0]!.headers, 'connection'), 'close');
    });
  }

  sideTest('proto h2 bind: an HTTP/1.1 request gets no HTTP/1 answer, the connection closes', sides, async (side) => {
    const o = await rawRequest(side.port('h2'), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', { until: () => false, timeoutMs: 3000 });
    assert.equal(o.closed, true);
    assert.doesNotMatch(o.text, /HTTP\/1/);
  });
});

describe('what the origin receives for an HTTP/2 request', () => {
  sideTest('origin-form request line, host from :authority first, cookies joined last, te kept', sides, async (side) => {
    const e = echoOf(
      await h2get(side, 'h2', {
        path: '/p?q=1&echo=1',
        headers: [['user-agent', 'ua'], ['cookie', 'a=1'], ['x-b', '2'], ['cookie', 'c=3'], ['te', 'trailers'], ['accept', '*/*']],
      }),
    );
    assert.equal(e.method, 'GET');
    assert.equal(e.uri, '/p?q=1&echo=1');
    assert.equal(e.version, 'HTTP/1.1');
    assert.equal(e.framing, 'none');
    assert.deepEqual(fieldsOf(e.headers), [
      `host: 127.0.0.1:${side.port('h2')}`,
      'user-agent: ua',
      'x-b: 2',
      'te: trailers',
      'accept: */*',
      'cookie: a=1; c=3',
    ]);
  });

  sideTest('a Host field differing from :authority is replaced by :authority', sides, async (side) => {
    const e = echoOf(await h2get(side, 'h2', { path: '/p?echo=1', headers: [['host', 'other.test'], ['x-a', '1']] }));
    assert.deepEqual(fieldsOf(e.headers), [`host: 127.0.0.1:${side.port('h2')}`, 'x-a: 1']);
  });

  sideTest('without :authority the Host field is kept; :authority case is kept', sides, async (side) => {
    let e = echoOf(await h2get(side, 'h2', { path: '/p?echo=1', authority: null, headers: [['host', 'other.test']] }));
    assert.deepEqual(fieldsOf(e.headers), ['host: other.test']);
    e = echoOf(await h2get(side, 'h2', { path: '/p?echo=1', authority: 'Upper.Test:81' }));
    assert.deepEqual(fieldsOf(e.headers), ['host: Upper.Test:81']);
  });

  sideTest('a body with content-length (nghttp -d) reaches the origin with content-length', sides, async (side) => {
    const dir = makeTempDir('sluice-h2-data-');
    const file = path.join(dir, 'body');
    const body = bodyPattern(40000);
    fs.writeFileSync(file, body);
    const r = await nghttp(['-d', file, `http://127.0.0.1:${side.port('h2')}/up?echo=1`]);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.exitCode, 0, r.stderr);
    const e = JSON.parse(r.stdout) as EchoReport;
    assert.equal(e.method, 'POST');
    assert.equal(e.framing, 'length');
    assert.ok(fieldsOf(e.headers).includes('content-length: 40000'), fieldsOf(e.headers).join('\n'));
    assert.equal(e.bodyLength, 40000);
    assert.equal(e.bodySha256, sha(body));
  });

  sideTest('a body without content-length goes chunked; request trailers follow it', sides, async (side) => {
    const body = bodyPattern(5000);
    const e = echoOf(
      await h2get(side, 'h2', { method: 'POST', path: '/up?echo=1', body, chunkSize: 1000, trailers: { 'x-t': 'v' } }),
    );
    assert.equal(e.framing, 'chunked');
    assert.ok(fieldsOf(e.headers).includes('transfer-encoding: chunked'));
    assert.ok(!e.headers.some(([n]) => n.toLowerCase() === 'content-length'));
    assert.equal(e.bodySha256, sha(body));
    assert.deepEqual(fieldsOf(e.trailers), ['x-t: v']);
  });

  sideTest('request bodies of every size arrive whole, with and without content-length', sides, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      for (const n of [0, 1, 16384, 16385, 3_000_000]) {
        const body = bodyPattern(n);
        for (const cl of [true, false]) {
          const e = echoOf(
            await c.request({ method: 'POST', path: `/up?echo=1&n=${n}`, body, chunkSize: 7000, headers: cl ? [['content-length', String(n)]] : [] }),
          );
          const what = `${n} bytes ${cl ? 'with' : 'without'} content-length`;
          assert.equal(e.framing, cl ? 'length' : 'chunked', what);
          assert.equal(e.bodyLength, n, what);
          assert.equal(e.bodySha256, sha(body), what);
        }
      }
    } finally {
      c.destroy();
    }
  });
});

/** Response shapes from the origin, by label: query, body size. */
const SHAPES: Array<[string, string, number]> = [
  ['empty (content-length: 0)', 'size=0', 0],
  ['1 byte', 'size=1', 1],
  ['16384 bytes (one full frame)', 'size=16384', 16384],
  ['16385 bytes', 'size=16385', 16385],
  ['several MB', 'size=3000000', 3_000_000],
  ['chunked', 'size=100000&chunked=1&chunk=3000', 100000],
  ['close-delimited', 'size=5000&noclen=1', 5000],
];

describe('response bodies from an HTTP/1.1 origin to an HTTP/2 client', () => {
  for (const [label, q, n] of SHAPES) {
    sideTest(`${label}: whole, ended by END_STREAM`, sides, async (side) => {
      assertWhole(await h2get(side, 'h2', { path: `/r?${q}` }), n, label);
    });
  }

  sideTest('every shape one after the other on one connection', sides, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      for (const [label, q, n] of SHAPES) assertWhole(await c.request({ path: `/seq?${q}`, timeoutMs: 3000 }), n, label);
    } finally {
      c.destroy();
    }
  });

  sideTest('after a response larger than the stream window, the next streams are answered', sides, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      for (let i = 0; i < 3; i++) {
        assertWhole(await c.request({ path: `/w${i}?size=100000`, timeoutMs: 3000 }), 100000, `large response ${i}`);
        assertWhole(await c.request({ path: `/w${i}?size=10`, timeoutMs: 3000 }), 10, `small response after it (${i})`);
      }
    } finally {
      c.destroy();
    }
  });

  sideTest('204 and HEAD: END_STREAM on the HEADERS frame, no body', sides, async (side) => {
    const r = await h2get(side, 'h2', { path: '/r?status=204' });
    assert.equal(r.status, 204);
    assert.equal(r.ended, true);
    assert.equal(r.body.length, 0);
    const h = await h2get(side, 'h2', { method: 'HEAD', path: '/r?size=100' });
    assert.equal(h.status, 200);
    assert.equal(h.ended, true);
    assert.equal(h.header('content-length'), '100');
    assert.equal(h.body.length, 0);
  });

  sideTest('connection-specific response fields are removed, no Date is added', sides, async (side) => {
    const q = 'hdr=Connection:keep-alive&hdr=Keep-Alive:timeout=5&hdr=Upgrade:foo&hdr=Proxy-Connection:x&hdr=X-Kept:1';
    for (const shape of ['size=10', 'size=10&chunked=1']) {
      const r = await h2get(side, 'h2', { path: `/r?${q}&${shape}` });
      assertWhole(r, 10, shape);
      const names = r.rawHeaders.filter((_, i) => i % 2 === 0);
      for (const n of ['connection', 'keep-alive', 'upgrade', 'proxy-connection', 'transfer-encoding', 'date']) {
        assert.ok(!names.includes(n), `${shape}: ${n} must not reach the h2 client: ${names.join(' ')}`);
      }
      assert.equal(r.header('x-kept'), '1');
      assert.equal(r.header('x-server'), 'o');
    }
  });

  sideTest('trailers of a chunked response reach the HTTP/2 client', sides, async (side) => {
    const r = await h2get(side, 'raw', { path: '/trailers' });
    assert.equal(r.status, 200);
    assert.equal(r.ended, true);
    assert.equal(r.body.toString(), 'hello world');
    assert.equal(r.trailer('x-sum'), 'abc');
    assert.equal(r.trailer('x-other'), '1');
  });

  sideTest('nghttp -v: a chunked response ends with END_STREAM, nghttp exits 0', sides, async (side) => {
    const r = await nghttp(['-v', '-n', `http://127.0.0.1:${side.port('h2')}/r?size=50000&chunked=1`]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /recv (DATA|HEADERS) frame <length=\d+, flags=0x0[15], stream_id=13>\s+; END_STREAM/);
    assert.doesNotMatch(r.stdout, /RST_STREAM/);
  });
});

describe('many streams on one connection', () => {
  sideTest('h2load -n 2000 -c 4 -m 50: every request succeeds', sides, async (side) => {
    const r = await h2load(['-n', '2000', '-c', '4', '-m', '50', `http://127.0.0.1:${side.port('h2')}/?size=100`]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(r.succeeded, 2000, r.stdout);
    assert.equal(r.failed + r.errored, 0, r.stdout);
    assert.equal(r.status['2xx'], 2000, r.stdout);
  });

  sideTest('SETTINGS_MAX_CONCURRENT_STREAMS is 100 by default (nghttp -v)', sides, async (side) => {
    const r = await nghttp(['-v', '-n', `http://127.0.0.1:${side.port('h2')}/`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(nghttpServerSettings(r.stdout).SETTINGS_MAX_CONCURRENT_STREAMS, 100, r.stdout);
  });
});

describe('log lines of HTTP/2 requests', () => {
  sideTest('httplog: method, absolute URI, HTTP/2.0, status, server', sides, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    const cp = c.session.socket.localPort!;
    const from = side.proc.mark();
    try {
      assertWhole(await c.request({ path: '/logged?size=321' }), 321, 'logged');
      const r = await c.request({ method: 'POST', path: '/posted?size=2', body: 'abc', headers: [['content-length', '3']] });
      assert.equal(r.status, 200);
    } finally {
      c.destroy();
    }
    const f = fields(HTTPLOG, await lineFor(side.proc, cp, 3000, from));
    assert.equal(f.ft, 'h2');
    assert.equal(f.b, 'be');
    assert.equal(f.s, 's1');
    assert.equal(f.ST, '200');
    assert.equal(f.tsc, '----');
    assert.equal(f.r, `GET http://127.0.0.1:${side.port('h2')}/logged?size=321 HTTP/2.0`);
    const post = `"POST http://127.0.0.1:${side.port('h2')}/posted?size=2 HTTP/2.0"`;
    const l = await side.proc.waitForLine((x) => x.startsWith(`127.0.0.1:${cp} `) && x.includes('"POST '), 3000, from);
    assert.ok(l.endsWith(post), l);
  });

  sideTest('httplog: bytes of an HTTP/2 response are counted as for the same response over HTTP/1.1', sides, async (side) => {
    const bytesFor = async (h2: boolean): Promise<number> => {
      const from = side.proc.mark();
      let cp: number;
      if (h2) {
        const c = await H2Client.connect(side.port('h2'));
        cp = c.session.socket.localPort!;
        assertWhole(await c.request({ path: '/b?size=1000' }), 1000, 'h2');
        c.destroy();
      } else {
        const c = await HttpClient.connect(side.port('plain'));
        cp = c.socket.localPort!;
        assert.equal((await c.request({ path: '/b?size=1000' })).status, 200);
        c.socket.destroy();
      }
      return Number(fields(HTTPLOG, await lineFor(side.proc, cp, 3000, from)).B);
    };
    const h1 = await bytesFor(false);
    const h2 = await bytesFor(true);
    assert.ok(h1 > 1000, `HTTP/1.1 count ${h1} includes the head`);
    assert.equal(h2, h1, 'the same response, the same byte count');
  });
});

describe('HTTP rules and interim responses on HTTP/2 streams', () => {
  sideTest("sluice's own answers (deny, redirect, return) end with END_STREAM", sides, async (side) => {
    const c = await H2Client.connect(side.port('rules'));
    try {
      const deny = await c.request({ path: '/deny' });
      assert.equal(deny.status, 403);
      assert.equal(deny.ended, true);
      assert.match(deny.body.toString(), /403 Forbidden/);
      assert.equal(deny.header('content-length'), String(deny.body.length));
      const redir = await c.request({ path: '/redir' });
      assert.equal(redir.status, 302);
      assert.equal(redir.header('location'), '/elsewhere');
      assert.equal(redir.ended, true);
      const ret = await c.request({ path: '/ret' });
      assert.equal(ret.status, 201);
      assert.equal(ret.header('content-type'), 'text/plain');
      assert.equal(ret.body.toString(), 'hello');
      assert.equal(ret.ended, true);
    } finally {
      c.destroy();
    }
  });

  sideTest('req.ver is 2.0 and HTTP_2.0 matches', sides, async (side) => {
    const e = echoOf(await h2get(side, 'rules', { path: '/v?echo=1' }));
    const f = fieldsOf(e.headers);
    assert.ok(f.includes('x-ver: 2.0'), f.join('\n'));
    assert.ok(f.includes('x-h2: yes'), f.join('\n'));
  });

  sideTest('an answer before the request body ends: END_STREAM on it, then the stream is reset', sides, async (side) => {
    const c = await H2Client.connect(side.port('rules'));
    try {
      // 1 MB is more than the stream window: the client is still sending when the 403 comes.
      const r = await c.request({ method: 'POST', path: '/deny', body: Buffer.alloc(1_000_000), chunkSize: 16384, timeoutMs: 3000 });
      assert.equal(r.status, 403);
      assert.equal(r.ended, true, `the answer ends with END_STREAM (rst=${r.rstCode} ${r.error})`);
      assertWhole(await c.request({ path: '/after?size=10' }), 10, 'the connection goes on');
    } finally {
      c.destroy();
    }
    const dir = makeTempDir('sluice-h2-data-');
    const file = path.join(dir, 'body');
    fs.writeFileSync(file, Buffer.alloc(1_000_000));
    const n = await nghttp(['-v', '-n', '-t', '3', '-d', file, `http://127.0.0.1:${side.port('rules')}/deny`]);
    fs.rmSync(dir, { recursive: true, force: true });
    assert.match(n.stdout, /recv DATA frame <length=\d+, flags=0x01, stream_id=13>/, n.stdout);
    assert.doesNotMatch(n.stderr, /not processed/, n.stderr);
  });

  sideTest('expect: 100-continue: the interim 100 reaches the HTTP/2 client', sides, async (side) => {
    const r = await h2get(side, 'h2', { method: 'POST', path: '/c?100=1&echo=1', body: 'abc', headers: [['expect', '100-continue']] });
    assert.deepEqual(r.interim.map((h) => h[h.indexOf(':status') + 1]), ['100']);
    const e = echoOf(r);
    assert.equal(e.bodyLength, 3);
  });
});

describe('failures on one stream', () => {
  sideTest('the server dies mid-body: RST_STREAM on that stream, the other streams go on', sides, async (side) => {
    const c = await H2Client.connect(side.port('raw'));
    const ok = await H2Client.connect(side.port('h2'));
    try {
      for (const p of ['/die', '/diechunk']) {
        // A stream of another connection, and one on the same connection, both in progress.
        const [dead, other] = await Promise.all([c.request({ path: p }), ok.request({ path: '/o?size=5000&delay=300' })]);
        assert.equal(dead.status, 200, p);
        assert.equal(dead.ended, false, `${p}: a truncated response must not end with END_STREAM`);
        assert.notEqual(dead.rstCode, 0, `${p}: RST_STREAM expected`);
        assert.ok(dead.body.length >= 1000 && dead.body.length < 100000, `${p}: ${dead.body.length}`);
        assertWhole(other, 5000, 'the other stream');
        const after = await c.request({ path: '/trailers' });
        assert.equal(after.status, 200, `${p}: the connection still carries new streams`);
        assert.equal(after.body.toString(), 'hello world');
      }
    } finally {
      c.destroy();
      ok.destroy();
    }
  }, { noReference: 'haproxy 2.6 ends a truncated response with an empty DATA frame and END_STREAM (RST only when the client checks content-length)' });

  sideTest('the server never answers: 504 on the stream, the connection goes on', sides, async (side) => {
    const c = await H2Client.connect(side.port('slow'));
    try {
      const [hung, fine] = await Promise.all([c.request({ path: '/h?hang=1' }), c.request({ path: '/f?size=10' })]);
      assertWhole(fine, 10, 'a stream beside the hung one');
      assert.equal(hung.status, 504);
      assert.equal(hung.ended, true);
      assert.match(hung.body.toString(), /504 Gateway Time-out/);
      assertWhole(await c.request({ path: '/g?size=10' }), 10, 'a stream after the 504');
    } finally {
      c.destroy();
    }
  });

  sideTest('a stream reset by the client does not disturb the others', sides, async (side) => {
    const c = await H2Client.connect(side.port('h2'));
    try {
      const cancelled = c.request({
        path: '/c?size=10&delay=500',
        onStream: (s) => setTimeout(() => s.close(8 /* CANCEL */), 50),
      });
      const fine = c.request({ path: '/d?size=20000&delay=200' });
      const [x, y] = await Promise.all([cancelled, fine]);
      assert.equal(x.status, 0);
      assert.equal(x.rstCode, 8);
      assertWhole(y, 20000, 'the stream beside the cancelled one');
      assertWhole(await c.request({ path: '/e?size=10' }), 10, 'a stream after the reset');
    } finally {
      c.destroy();
    }
  });
});
