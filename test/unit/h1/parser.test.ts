// The HTTP/1 parser fed every message whole and split at every byte position: the events must
// be the same whatever the split.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { H1Parser, H1State, H1ErrorKind, type H1ParserEvents } from '../../../src/proto/h1/index.js';
import { BodyKind, type HtxHeaders, type HtxRequest, type HtxResponse } from '../../../src/htx/index.js';

interface Outcome {
  heads: Array<HtxRequest | HtxResponse>;
  body: string;
  trailers: HtxHeaders[];
  ends: number;
  error: string;
  /** Bytes left over after the first message (pipelining). */
  rest: string;
}

const LIMITS = { maxHead: 15360, maxHeaders: 101 };

function run(isRequest: boolean, chunks: Buffer[], opts: { method?: string; finish?: boolean } = {}): Outcome {
  const out: Outcome = { heads: [], body: '', trailers: [], ends: 0, error: '', rest: '' };
  const ev: H1ParserEvents = {
    onRequest: (r) => out.heads.push(r),
    onResponse: (r) => out.heads.push(r),
    onData: (d) => (out.body += d.toString('latin1')),
    onTrailers: (t) => out.trailers.push(t),
    onEnd: () => out.ends++,
    onError: (k, reason) => (out.error = `${k}:${reason}`),
  };
  const p = new H1Parser(isRequest, ev, LIMITS);
  if (opts.method) p.requestMethod = opts.method;
  for (const c of chunks) {
    if (p.state === H1State.Done || p.state === H1State.Error) {
      out.rest += c.toString('latin1');
      continue;
    }
    const off = p.feed(c);
    if (off < c.length) out.rest += c.subarray(off).toString('latin1');
  }
  if (opts.finish) p.finish();
  return out;
}

/** Runs the message whole, then split in two at every position, and in single bytes. */
function everySplit(isRequest: boolean, msg: string, check: (o: Outcome, how: string) => void, opts: { method?: string; finish?: boolean } = {}): void {
  const b = Buffer.from(msg, 'latin1');
  check(run(isRequest, [b], opts), 'whole');
  for (let i = 1; i < b.length; i++) check(run(isRequest, [b.subarray(0, i), b.subarray(i)], opts), `split at ${i}`);
  const bytes: Buffer[] = [];
  for (let i = 0; i < b.length; i++) bytes.push(b.subarray(i, i + 1));
  check(run(isRequest, bytes, opts), 'byte by byte');
}

test('simple GET request, every split', () => {
  everySplit(true, 'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Case: Keep\r\n\r\n', (o, how) => {
    assert.equal(o.error, '', how);
    assert.equal(o.heads.length, 1, how);
    const r = o.heads[0] as HtxRequest;
    assert.equal(r.method, 'GET');
    assert.equal(r.uri, '/a?b=1');
    assert.equal(r.version, 11);
    assert.deepEqual(r.headers, ['Host', 'example.com', 'X-Case', 'Keep']);
    assert.equal(r.bodyKind, BodyKind.None);
    assert.equal(o.ends, 1, how);
  });
});

test('content-length body, every split', () => {
  everySplit(true, 'POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world', (o, how) => {
    assert.equal(o.error, '', how);
    assert.equal((o.heads[0] as HtxRequest).bodyKind, BodyKind.Length);
    assert.equal((o.heads[0] as HtxRequest).contentLength, 11);
    assert.equal(o.body, 'hello world', how);
    assert.equal(o.ends, 1, how);
  });
});

test('chunked body with extensions and trailers, every split', () => {
  const msg = 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n';
  everySplit(true, msg, (o, how) => {
    assert.equal(o.error, '', how);
    assert.equal((o.heads[0] as HtxRequest).bodyKind, BodyKind.Chunked);
    assert.equal(o.body, 'hello 0123456789', how);
    assert.deepEqual(o.trailers, [['X-Trailer', 'yes', 'X-Other', '2']], how);
    assert.equal(o.ends, 1, how);
  });
});

test('chunked body without trailers, every split', () => {
  everySplit(true, 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', (o, how) => {
    assert.equal(o.error, '', how);
    assert.equal(o.body, 'abc', how);
    assert.equal(o.trailers.length, 0, how);
    assert.equal(o.ends, 1, how);
  });
});

test('pipelined requests: the parser stops after the first message', () => {
  everySplit(true, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n', (o, how) => {
    assert.equal(o.heads.length, 1, how);
    assert.equal(o.ends, 1, how);
    assert.equal(o.rest, 'GET /2 HTTP/1.1\r\nHost: h\r\n\r\n', how);
  });
});

test('response with content-length, every split', () => {
  everySplit(false, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nServer: x\r\n\r\nabc', (o, how) => {
    assert.equal(o.error, '', how);
    const r = o.heads[0] as HtxResponse;
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(o.body, 'abc', how);
    assert.equal(o.ends, 1, how);
  });
});

test('close-delimited response ends at finish()', () => {
  everySplit(false, 'HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome body bytes', (o, how) => {
    assert.equal((o.heads[0] as HtxResponse).bodyKind, BodyKind.UntilClose);
    assert.equal(o.body, 'some body bytes', how);
    assert.equal(o.ends, 1, how);
  }, { finish: true });
});

test('interim 100 Continue then the final response', () => {
  everySplit(false, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', (o, how) => {
    assert.equal(o.error, '', how);
    assert.deepEqual(o.heads.map((h) => (h as HtxResponse).status), [100, 201], how);
    assert.equal(o.body, 'ok', how);
    assert.equal(o.ends, 1, how);
  });
});

test('HEAD, 204 and 304 responses have no body', () => {
  const head = run(false, [Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n')], { method: 'HEAD' });
  assert.equal(head.ends, 1);
  assert.equal((head.heads[0] as HtxResponse).bodyKind, BodyKind.None);
  for (const s of [204, 304]) {
    const o = run(false, [Buffer.from(`HTTP/1.1 ${s} X\r\nContent-Length: 5\r\n\r\n`)]);
    assert.equal(o.ends, 1);
    assert.equal((o.heads[0] as HtxResponse).bodyKind, BodyKind.None);
  }
});

test('101 Switching Protocols makes the rest a tunnel', () => {
  const o = run(false, [Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAWDATA')]);
  assert.equal((o.heads[0] as HtxResponse).bodyKind, BodyKind.Tunnel);
  assert.equal(o.body, 'RAWDATA');
  assert.equal(o.ends, 0);
});

test('2xx to CONNECT is a tunnel', () => {
  const o = run(false, [Buffer.from('HTTP/1.1 200 Connection established\r\n\r\nxyz')], { method: 'CONNECT' });
  assert.equal((o.heads[0] as HtxResponse).bodyKind, BodyKind.Tunnel);
  assert.equal(o.body, 'xyz');
});

test('HTTP/1.0 request defaults to close, keep-alive token keeps it', () => {
  const a = run(true, [Buffer.from('GET / HTTP/1.0\r\n\r\n')]);
  assert.equal((a.heads[0] as HtxRequest).wantClose, true);
  const b = run(true, [Buffer.from('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')]);
  assert.equal((b.heads[0] as HtxRequest).wantClose, false);
  const c = run(true, [Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')]);
  assert.equal((c.heads[0] as HtxRequest).wantClose, true);
});

test('Expect: 100-continue and Upgrade are recognised', () => {
  const o = run(true, [Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 0\r\n\r\n')]);
  const r = o.heads[0] as HtxRequest;
  assert.equal(r.expectContinue, true);
  assert.equal(r.upgrade, 'websocket');
});

test('Transfer-Encoding wins over Content-Length, which is removed, and forces close', () => {
  const o = run(true, [Buffer.from('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n')]);
  const r = o.heads[0] as HtxRequest;
  assert.equal(r.bodyKind, BodyKind.Chunked);
  assert.equal(r.wantClose, true);
  assert.equal(r.headers.some((h) => h.toLowerCase() === 'content-length'), false);
  assert.equal(o.body, 'abc');
});

test('obs-fold: the line break becomes spaces, as HAProxy', () => {
  const o = run(true, [Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n  b\r\n\r\n')]);
  assert.equal(o.error, '');
  assert.deepEqual((o.heads[0] as HtxRequest).headers, ['Host', 'h', 'X-Long', 'a    b']);
});

test('bare LF line endings are accepted', () => {
  const o = run(true, [Buffer.from('GET / HTTP/1.1\nHost: h\n\n')]);
  assert.equal(o.error, '');
  assert.equal(o.ends, 1);
});

test('leading empty lines before a request are ignored', () => {
  const o = run(true, [Buffer.from('\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n')]);
  assert.equal(o.error, '');
  assert.equal(o.ends, 1);
});

// Requests that must be refused: each one is a smuggling or framing hazard.
const BAD_REQUESTS: Array<[string, string, H1ErrorKind]> = [
  ['space before colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', H1ErrorKind.Syntax],
  ['invalid header name', 'GET / HTTP/1.1\r\nHo(st: h\r\n\r\n', H1ErrorKind.Syntax],
  ['two different Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', H1ErrorKind.Framing],
  ['Content-Length list with different values', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n', H1ErrorKind.Framing],
  ['negative Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n', H1ErrorKind.Framing],
  ['Content-Length with a sign', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n', H1ErrorKind.Framing],
  ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', H1ErrorKind.Framing],
  ['Transfer-Encoding identity', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n', H1ErrorKind.Framing],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', H1ErrorKind.Syntax],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', H1ErrorKind.Syntax],
  ['bad version', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', H1ErrorKind.Syntax],
  ['lower-case version', 'GET / http/1.1\r\nHost: h\r\n\r\n', H1ErrorKind.Syntax],
  ['no target', 'GET  HTTP/1.1\r\nHost: h\r\n\r\n', H1ErrorKind.Syntax],
  ['garbage', 'GARBAGE\r\n\r\n', H1ErrorKind.Syntax],
  ['NUL in value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n', H1ErrorKind.Syntax],
  ['bare CR in value', 'GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n', H1ErrorKind.Syntax],
  ['absolute-form authority differs from Host', 'GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n', H1ErrorKind.Syntax],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', H1ErrorKind.Framing],
  ['chunk data too long', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', H1ErrorKind.Framing],
  ['huge chunk size', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', H1ErrorKind.Framing],
];

for (const [name, msg, kind] of BAD_REQUESTS) {
  test(`refused: ${name}, every split`, () => {
    everySplit(true, msg, (o, how) => {
      assert.ok(o.error.startsWith(`${kind}:`), `${how}: got '${o.error}'`);
    });
  });
}

test('head larger than the limit is TooLarge', () => {
  const big = 'GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(20000) + '\r\n\r\n';
  const o = run(true, [Buffer.from(big)]);
  assert.ok(o.error.startsWith(`${H1ErrorKind.TooLarge}:`));
  const o2 = run(true, [Buffer.from(big.slice(0, 8000)), Buffer.from(big.slice(8000))]);
  assert.ok(o2.error.startsWith(`${H1ErrorKind.TooLarge}:`));
});

test('truncated body is reported at finish()', () => {
  const o = run(false, [Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')], { finish: true });
  assert.ok(o.error.startsWith(`${H1ErrorKind.Truncated}:`));
});

test('invalid status line in a response', () => {
  for (const bad of ['HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'FOO\r\n\r\n', 'HTTP/1.1 abc OK\r\n\r\n']) {
    const o = run(false, [Buffer.from(bad)]);
    assert.notEqual(o.error, '', bad);
  }
});

test('reset() readies the parser for the next message', () => {
  const heads: string[] = [];
  let ends = 0;
  const p = new H1Parser(true, {
    onRequest: (r) => heads.push(r.uri),
    onResponse: () => {},
    onData: () => {},
    onTrailers: () => {},
    onEnd: () => ends++,
    onError: () => assert.fail('no error expected'),
  }, LIMITS);
  const b = Buffer.from('GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
  let off = p.feed(b);
  assert.equal(p.state, H1State.Done);
  p.reset();
  off = p.feed(b, off);
  assert.equal(off, b.length);
  assert.deepEqual(heads, ['/1', '/2']);
  assert.equal(ends, 2);
});
