// A shared corpus of requests sent byte for byte to sluice and to haproxy 2.6 running the same
// configuration in front of the same origins. For each case both answers must agree on status,
// header set (names case-insensitive), body, the server that answered, what the origin received,
// and whether the client connection is still usable afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort, skipUnless, startOrigin, type Origin } from '../harness/index.js';
import {
  assertSame,
  DEFAULT_KEY_HEADERS,
  echoOf,
  exchange,
  exchangeBoth,
  normalizedEcho,
  PROBE,
  req,
  startReferencePair,
  type CompareOptions,
  type Observed,
  type ReferencePair,
} from './reference.js';

const ERROR_503 = [
  'HTTP/1.1 503 Service Unavailable',
  'Cache-Control: no-cache',
  'Content-Type: text/plain',
  'X-Custom: errorfile',
  '',
  'custom 503 page\n',
].join('\r\n');

const ERROR_503_CL = [
  'HTTP/1.1 503 Service Unavailable',
  'Cache-Control: no-cache',
  'Content-Type: text/plain',
  'Content-Length: 22',
  '',
  'custom 503 with length',
].join('\r\n');

const CONFIG = `
global
    maxconn 500

defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
    timeout http-request 5s

frontend main
    bind 127.0.0.1:{{port:main}}
    option forwardfor
    default_backend app

backend app
    server s1 127.0.0.1:{{o1}}

frontend empty
    bind 127.0.0.1:{{port:empty}}
    default_backend noservers

backend noservers

listen dead
    bind 127.0.0.1:{{port:dead}}
    retries 0
    server gone 127.0.0.1:{{closed}}

listen custom503
    bind 127.0.0.1:{{port:custom503}}
    retries 0
    errorfile 503 {{dir}}/503.http
    server gone 127.0.0.1:{{closed}}

listen custom503cl
    bind 127.0.0.1:{{port:custom503cl}}
    retries 0
    errorfile 503 {{dir}}/503cl.http
    server gone 127.0.0.1:{{closed}}

listen ret
    bind 127.0.0.1:{{port:ret}}
    http-request return status 201 content-type text/plain string "made by the proxy" hdr X-Ret yes

listen retempty
    bind 127.0.0.1:{{port:retempty}}
    http-request return status 404
`;

interface Case {
  name: string;
  /** Which listening port of the configuration (default "main"). */
  port?: string;
  send: string | Buffer | Array<string | Buffer>;
  methods?: string[];
  responses?: number;
  /** Send the probe request afterwards to compare the connection's fate (default true). */
  probe?: boolean;
  pauseMs?: number;
  /** Half-close after sending. */
  end?: boolean;
  compare?: CompareOptions;
  /** The first response is the echo origin's report: compare what the origin received. */
  echo?: boolean;
  /** Compare the request line version the origin saw (default true). */
  echoVersion?: boolean;
  /** What haproxy answers (checks the case itself; sluice must then answer the same). */
  status?: number;
  /** Further checks on both observations. */
  check?(o: Observed, who: string): void;
  /** Mark as a known sluice bug (reported), so that the suite stays green meanwhile. */
  todo?: string;
  /**
   * A deliberate difference: sluice's RFC 9112 parser refuses what haproxy 2.6 lets through.
   * The case checks that haproxy still does (`status`) and that sluice answers 400 instead.
   */
  strict?: string;
}

const LONG = (n: number, c = 'a'): string => c.repeat(n);

/** `n` header fields of about 100 bytes each. */
function manyHeaders(n: number): Array<[string, string]> {
  return Array.from({ length: n }, (_, i): [string, string] => [`X-H${i}`, LONG(90)]);
}

/** A request head of exactly `total` bytes: Host plus one X-Pad header filling the rest. */
function headOfSize(total: number): string {
  const pre = 'GET /?size=3 HTTP/1.1\r\nHost: ref.test\r\nX-Pad: ';
  const post = '\r\n\r\n';
  return pre + LONG(total - pre.length - post.length) + post;
}

const CASES: Case[] = [
  // ---- methods, targets, query strings ----
  { name: 'GET /', send: req('GET', '/'), status: 200 },
  { name: 'GET with a body pattern', send: req('GET', '/?size=1000'), status: 200 },
  { name: 'GET with query string reaches the origin intact', send: req('GET', '/a/b.html?x=1&y=2&echo=1'), echo: true },
  { name: 'GET with percent-encoded query', send: req('GET', '/p%20q?a=%20b&c=%2F&echo=1'), echo: true },
  { name: 'GET with a 6000-byte URI', send: req('GET', `/?echo=1&pad=${LONG(6000)}`), echo: true },
  {
    name: 'HEAD has no body but keeps Content-Length',
    send: req('HEAD', '/?size=100'),
    methods: ['HEAD'],
    status: 200,
  },
  { name: 'POST with Content-Length body', send: req('POST', '/?echo=1', [['Content-Length', '11']], { body: 'hello world' }), echo: true },
  {
    name: 'POST with a chunked body',
    send: req('POST', '/?echo=1', [['Transfer-Encoding', 'chunked']], { body: '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' }),
    echo: true,
  },
  {
    name: 'POST with a chunked body and trailers',
    send: req('POST', '/?echo=1', [['Transfer-Encoding', 'chunked']], { body: '3\r\nabc\r\n0\r\nX-Trailer: t1\r\n\r\n' }),
    echo: true,
  },
  {
    name: 'POST with a 200 kB body',
    send: req('POST', '/?echo=1', [['Content-Length', '200000']], { body: Buffer.alloc(200000, 'z') }),
    echo: true,
  },
  { name: 'POST with Content-Length: 0', send: req('POST', '/?echo=1', [['Content-Length', '0']]), echo: true },
  { name: 'PUT', send: req('PUT', '/r?echo=1', [['Content-Length', '3']], { body: 'abc' }), echo: true },
  { name: 'DELETE', send: req('DELETE', '/r/1?echo=1'), echo: true },
  { name: 'OPTIONS', send: req('OPTIONS', '/?echo=1'), echo: true },
  { name: 'PATCH', send: req('PATCH', '/?echo=1', [['Content-Length', '2']], { body: '{}' }), echo: true },
  { name: 'an extension method (PURGE)', send: req('PURGE', '/cache?echo=1'), echo: true },
  { name: 'absolute-form request target', send: req('GET', 'http://ref.test/abs?echo=1'), echo: true },
  { name: 'a lower-case method is a different method, forwarded', send: req('get', '/?echo=1'), echo: true },
  { name: 'request headers forwarded in order (names case-insensitive)', send: req('GET', '/?echo=1', [['X-One', '1'], ['x-two', 'Two'], ['X-One', 'again'], ['Accept', '*/*']]), echo: true },
  { name: 'empty lines before the request line are skipped', send: Buffer.concat([Buffer.from('\r\n\r\n'), req('GET', '/?echo=1')]), echo: true },

  // ---- HTTP versions and connection management ----
  {
    name: 'HTTP/1.0 client gets an HTTP/1.1 status line',
    send: req('GET', '/?size=10', [], { version: 'HTTP/1.0', host: null }),
    status: 200,
  },
  // The cases below leave the status line version to the case above.
  {
    name: 'HTTP/1.0 without keep-alive: answered, then closed',
    send: req('GET', '/?size=10', [], { version: 'HTTP/1.0', host: null }),
    status: 200,
    compare: { version: false },
  },
  {
    name: 'HTTP/1.0 with keep-alive stays open',
    send: req('GET', '/?size=10', [['Connection', 'keep-alive']], { version: 'HTTP/1.0' }),
    status: 200,
    compare: { version: false },
  },
  {
    name: 'HTTP/1.0 request reaches the origin as HTTP/1.0 with Connection: keep-alive',
    send: req('GET', '/?echo=1', [], { version: 'HTTP/1.0' }),
    echo: true,
    compare: { version: false },
  },
  {
    // HAProxy 2.6 answers HTTP/1.1 with chunked coding even to an HTTP/1.0 client, which RFC 9112
    // 6.1 forbids; sluice sends the payload close-delimited instead. Both must deliver the same
    // payload and close; the framing itself is not compared.
    name: 'HTTP/1.0 client, chunked origin response: same payload, then close',
    send: req('GET', '/?size=5000&chunked=1', [], { version: 'HTTP/1.0' }),
    status: 200,
    compare: { allHeadersExcept: ['date', 'transfer-encoding'], headers: ['content-type', 'x-server'], version: false },
    check: (o, who) => {
      assert.equal(o.first?.body.length, 5000, who);
      assert.equal(o.closed, true, who);
    },
  },
  { name: 'HTTP/1.1 Connection: close', send: req('GET', '/?size=10', [['Connection', 'close']]), status: 200 },
  { name: 'Connection: close as the origin sees it', send: req('GET', '/?echo=1', [['Connection', 'close']]), echo: true },
  {
    name: 'two pipelined requests',
    send: Buffer.concat([req('GET', '/?size=7'), req('GET', '/?size=9')]),
    responses: 2,
    status: 200,
  },
  {
    name: 'HTTP/1.1 request without Host is accepted',
    send: req('GET', '/?echo=1', [], { host: null }),
    status: 200,
    strict: 'RFC 9112: a 1.1 request without Host gets 400 (section 3.2)',
  },
  {
    name: 'two identical Host headers are accepted',
    send: req('GET', '/?echo=1', [['Host', 'ref.test']]),
    status: 200,
    strict: 'RFC 9112: several Host fields get 400 (section 3.2)',
  },
  { name: 'two different Host headers: 400', send: req('GET', '/', [['Host', 'other.test']]), status: 400 },
  {
    name: 'absolute-form target whose authority differs from Host: 400',
    send: req('GET', 'http://other.test/', []),
    status: 400,
  },

  // ---- response shapes from the origin ----
  { name: 'chunked origin response', send: req('GET', '/?size=10000&chunked=1&chunk=1000'), status: 200 },
  { name: 'close-delimited origin response (no Content-Length)', send: req('GET', '/?size=500&noclen=1'), status: 200 },
  { name: 'a 1 MB response', send: req('GET', '/?size=1048576'), status: 200 },
  { name: 'origin status 500 passes through', send: req('GET', '/?status=500&size=20'), status: 500 },
  { name: 'origin status 404 passes through', send: req('GET', '/?status=404'), status: 404 },
  { name: 'origin redirect with Location', send: req('GET', '/?status=302&hdr=Location:/elsewhere'), status: 302 },
  { name: 'origin 204 No Content', send: req('GET', '/?status=204'), status: 204 },
  {
    name: 'origin 304 Not Modified keeps its Content-Length',
    send: req('GET', '/?status=304'),
    status: 304,
  },
  { name: 'origin response headers pass through', send: req('GET', '/?hdr=X-A:1&hdr=Set-Cookie:a=b&hdr=X-A:2'), status: 200 },
  { name: 'origin answers 100 Continue before the final response', send: req('POST', '/?100=1&size=4', [['Content-Length', '4'], ['Expect', '100-continue']], { body: 'data' }), status: 200 },
  { name: 'origin sends garbage: 502', send: req('GET', '/?garbage=1'), status: 502 },
  { name: 'origin resets the connection: 502', send: req('GET', '/?reset=1'), status: 502 },

  // ---- bad requests ----
  { name: 'invalid character in the method: 400', send: 'G@T / HTTP/1.1\r\nHost: ref.test\r\n\r\n', status: 400 },
  { name: 'space inside a header name: 400', send: 'GET / HTTP/1.1\r\nHost: ref.test\r\nBad Header: x\r\n\r\n', status: 400 },
  { name: 'header line without a colon: 400', send: 'GET / HTTP/1.1\r\nHost: ref.test\r\nNoColonHere\r\n\r\n', status: 400 },
  { name: 'two different Content-Length values: 400', send: 'POST / HTTP/1.1\r\nHost: ref.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', status: 400 },
  { name: 'non-numeric Content-Length: 400', send: 'POST / HTTP/1.1\r\nHost: ref.test\r\nContent-Length: abc\r\n\r\n', status: 400 },
  { name: 'HTTP/1.2 is handled as HTTP/1.1', send: 'GET /?echo=1 HTTP/1.2\r\nHost: ref.test\r\n\r\n', echo: true },
  {
    name: 'a higher major version (HTTP/3.0) on the request line',
    send: 'GET / HTTP/3.0\r\nHost: ref.test\r\n\r\n',
    status: 200,
    strict: 'RFC 9112: only HTTP/1.x is spoken on an HTTP/1 connection',
  },
  { name: 'HTTP/0.9 request line: 400', send: 'GET /\r\n\r\n', status: 400 },
  { name: 'space before the colon: 400', send: 'GET / HTTP/1.1\r\nHost: ref.test\r\nX-A : 1\r\n\r\n', status: 400 },
  { name: 'bare CR inside a header value: 400', send: 'GET / HTTP/1.1\r\nHost: ref.test\r\nX-A: a\rb\r\n\r\n', status: 400 },
  { name: 'space inside the request target: 400', send: 'GET /a b HTTP/1.1\r\nHost: ref.test\r\n\r\n', status: 400 },
  { name: 'Content-Length with a sign: 400', send: 'POST / HTTP/1.1\r\nHost: ref.test\r\nContent-Length: +5\r\n\r\nabcde', status: 400 },
  {
    name: 'Content-Length list of equal values is accepted and forwarded as one value',
    send: req('POST', '/?echo=1', [['Content-Length', '3,3']], { body: 'abc' }),
    echo: true,
  },
  { name: 'Transfer-Encoding other than chunked: 400', send: 'POST / HTTP/1.1\r\nHost: ref.test\r\nTransfer-Encoding: gzip\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding not ending with chunked: 400', send: 'POST / HTTP/1.1\r\nHost: ref.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', status: 400 },
  {
    name: 'chunked request body from an HTTP/1.0 client',
    send: req('POST', '/?echo=1', [['Transfer-Encoding', 'chunked']], { version: 'HTTP/1.0', body: '3\r\nabc\r\n0\r\n\r\n' }),
    echo: true,
    compare: { version: false },
    echoVersion: false,
  },
  {
    name: 'obs-fold in a header value: each fold byte becomes a space',
    send: 'GET /?echo=1 HTTP/1.1\r\nHost: ref.test\r\nX-A: a\r\n b\r\n\r\n',
    echo: true,
  },
  { name: 'malformed version token: 400', send: 'GET / HTPT/1.1\r\nHost: ref.test\r\n\r\n', status: 400 },
  { name: 'invalid chunk size in the body', send: req('POST', '/?echo=1', [['Transfer-Encoding', 'chunked']], { body: 'zz\r\nhello\r\n0\r\n\r\n' }) },
  {
    name: 'Content-Length and Transfer-Encoding together: chunked wins, connection closes',
    send: req('POST', '/?echo=1', [['Content-Length', '3'], ['Transfer-Encoding', 'chunked']], { body: '3\r\nabc\r\n0\r\n\r\n' }),
    echo: true,
  },
  { name: 'bare LF line endings', send: 'GET /?echo=1 HTTP/1.1\nHost: ref.test\nX-A: 1\n\n', echo: true },

  // ---- request head size (HAProxy: tune.bufsize 16384 - tune.maxrewrite 1024) ----
  { name: 'a 14000-byte request head is accepted', send: headOfSize(14000), status: 200 },
  { name: 'a 15361-byte request head: 400', send: headOfSize(15361), status: 400 },
  { name: 'a 17000-byte request head: 400', send: headOfSize(17000), status: 400 },
  { name: '100 header fields (Host and 99 more of 100 bytes) are accepted', send: req('GET', '/?size=3', manyHeaders(99)), status: 200 },
  {
    name: '101 header fields (tune.http.maxhdr 101 counts the end marker): 400',
    send: req('GET', '/?size=3', manyHeaders(100)),
    status: 400,
  },

  // ---- the proxy's own answers ----
  { name: 'backend without servers: 503, connection kept', port: 'empty', send: req('GET', '/'), status: 503 },
  { name: 'only server refuses connections: 503', port: 'dead', send: req('GET', '/'), status: 503 },
  {
    name: 'errorfile 503 without Content-Length: sent, then the connection closes',
    port: 'custom503',
    send: req('GET', '/'),
    status: 503,
  },
  { name: 'errorfile 503 with Content-Length replaces the 503 page', port: 'custom503cl', send: req('GET', '/'), status: 503 },
  { name: 'http-request return with status, type, body and header', port: 'ret', send: req('GET', '/anything'), status: 201 },
  { name: 'http-request return to a HEAD request', port: 'ret', send: req('HEAD', '/'), methods: ['HEAD'], status: 201 },
  { name: 'http-request return with status only', port: 'retempty', send: req('GET', '/'), status: 404 },
  {
    name: 'http-request return after a request body',
    port: 'ret',
    send: req('POST', '/', [['Content-Length', '5']], { body: 'abcde' }),
    status: 201,
  },

  // ---- option forwardfor ----
  {
    name: 'option forwardfor adds X-Forwarded-For last',
    send: req('GET', '/?echo=1', [['X-Last', 'x']]),
    echo: true,
    check: (o, who) => {
      const h = echoOf(o).headers;
      assert.deepEqual(h[h.length - 1]?.map((x, i) => (i === 0 ? x.toLowerCase() : x)), ['x-forwarded-for', '127.0.0.1'], who);
    },
  },
  {
    name: 'option forwardfor appends to an existing X-Forwarded-For',
    send: req('GET', '/?echo=1', [['X-Forwarded-For', '10.1.2.3']]),
    echo: true,
    check: (o, who) => {
      const xff = echoOf(o).headers.filter(([n]) => n.toLowerCase() === 'x-forwarded-for').map(([, v]) => v);
      assert.deepEqual(xff, ['10.1.2.3', '127.0.0.1'], who);
    },
  },
];

describe('corpus: sluice answers like haproxy 2.6', { skip: skipUnless('haproxy') }, () => {
  let pair: ReferencePair;
  let origin: Origin;

  before(async () => {
    origin = await startOrigin('s1');
    const closed = await freePort();
    pair = await startReferencePair(CONFIG, { values: { o1: origin.port, closed }, files: { '503.http': ERROR_503, '503cl.http': ERROR_503_CL } });
  });

  after(async () => {
    await pair?.stop();
    await origin?.close();
  });

  test('the corpus has at least 40 cases', () => {
    assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  });

  test(
    'the largest request head haproxy accepts is accepted, one byte more is refused',
    async () => {
      const status = async (side: 'sluice' | 'haproxy', size: number): Promise<number> =>
        (await exchange(pair[side].port('main'), headOfSize(size), { timeoutMs: 3000 })).status;
      // Bisection over haproxy's answers: bounded by log2(3000) requests.
      let lo = 14000;
      let hi = 17000;
      assert.equal(await status('haproxy', lo), 200);
      assert.equal(await status('haproxy', hi), 400);
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if ((await status('haproxy', mid)) === 200) lo = mid;
        else hi = mid;
      }
      assert.equal(await status('sluice', lo), 200, `a ${lo}-byte head (haproxy's largest)`);
      assert.equal(await status('sluice', hi), 400, `a ${hi}-byte head (haproxy refuses it)`);
    },
  );

  for (const c of CASES) {
    test(c.name, c.todo ? { todo: c.todo } : {}, async () => {
      const got = await exchangeBoth(pair, c.port ?? 'main', c.send, {
        methods: c.methods,
        responses: c.responses,
        pauseMs: c.pauseMs,
        end: c.end,
        probe: c.probe === false ? undefined : PROBE,
        timeoutMs: 3000,
      });
      if (c.status !== undefined) assert.equal(got.haproxy.status, c.status, `haproxy itself answered ${got.haproxy.status}: the case is wrong`);
      if (c.strict !== undefined) {
        assert.equal(got.sluice.status, 400, `${c.name}: sluice must refuse it (${c.strict})`);
        return;
      }
      // An echo body names the connection and the header case the origin saw: compared below.
      const base: CompareOptions = c.echo
        ? { body: false, allHeadersExcept: ['date', 'content-length'], headers: DEFAULT_KEY_HEADERS.filter((h) => h !== 'content-length') }
        : { allHeadersExcept: ['date'] };
      assertSame(c.name, got, { ...base, ...c.compare });
      if (c.echo) {
        // What the origin received: method, target, version, framing, body, header fields in order.
        const seen = (o: Observed): object => {
          const e = normalizedEcho(echoOf(o)) as { version?: string };
          if (c.echoVersion === false) delete e.version;
          return e;
        };
        assert.deepEqual(seen(got.sluice), seen(got.haproxy), `${c.name}: the origin saw different requests`);
      }
      if (c.check) {
        c.check(got.haproxy, 'haproxy');
        c.check(got.sluice, 'sluice');
      }
    });
  }
});
