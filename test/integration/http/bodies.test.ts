// Message bodies through sluice: content-length bodies around the buffer size, chunked bodies with
// trailers both ways, close-delimited responses, bodyless responses, and the chunked response an
// HTTP/1.0 client must receive de-chunked.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  HttpClient,
  bodyPattern,
  curl,
  freePort,
  makeTempDir,
  skipUnless,
  headerValue,
  rawConnect,
  rawRequest,
  untilResponses,
  type EchoReport,
  type RawConn,
} from '../../harness/index.js';
import { headEnd, proxyConfig, rawServerFor, sluiceFor, sluiceToOrigin } from './util.js';

const SIZES = [1, 16384, 16385, 1024 * 1024];

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

test('content-length request bodies of 1, 16384, 16385 and 1 MB reach the server intact', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (const n of SIZES) {
    const body = bodyPattern(n);
    const r = await c.request({ method: 'POST', path: '/?echo=1', body });
    assert.equal(r.status, 200, `size ${n}`);
    const echo = JSON.parse(r.text) as EchoReport;
    assert.equal(echo.framing, 'length', `size ${n}`);
    assert.equal(echo.bodyLength, n);
    assert.equal(echo.bodySha256, sha256(body));
    assert.equal(headerValue(echo.headers, 'content-length'), String(n));
  }
  assert.equal(origin.errors.length, 0);
});

test('content-length response bodies of 1, 16384, 16385 and 1 MB reach the client intact', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (const n of SIZES) {
    const r = await c.request({ path: `/?size=${n}` });
    assert.equal(r.status, 200);
    assert.equal(r.framing, 'length', `size ${n}`);
    assert.equal(r.header('content-length'), String(n));
    assert.equal(r.body.length, n);
    assert.ok(r.body.equals(bodyPattern(n)), `size ${n}: body differs`);
  }
});

test('chunked request body with trailers: payload and trailers reach the server', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const body = bodyPattern(40000);
  // Chunks of uneven sizes, an extension on one, and two trailer fields.
  const head = 'POST /?echo=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Check, X-Other\r\n\r\n';
  const parts = [body.subarray(0, 1), body.subarray(1, 16385), body.subarray(16385)];
  const chunks: Buffer[] = [Buffer.from(head, 'latin1')];
  parts.forEach((p, i) => {
    chunks.push(Buffer.from(`${p.length.toString(16)}${i === 1 ? ';ext=1' : ''}\r\n`), p, Buffer.from('\r\n'));
  });
  chunks.push(Buffer.from('0\r\nX-Check: abc\r\nX-Other: 1\r\n\r\n'));
  const r = await rawRequest(port, Buffer.concat(chunks), { timeoutMs: 5000 });
  assert.equal(r.responses.length, 1, r.text.slice(0, 300));
  const echo = JSON.parse(r.responses[0]!.body.toString()) as EchoReport;
  assert.equal(echo.framing, 'chunked');
  assert.equal(echo.bodyLength, body.length);
  assert.equal(echo.bodySha256, sha256(body));
  assert.deepEqual(echo.trailers, [['X-Check', 'abc'], ['X-Other', '1']]);
});

test('chunked request body sent in many small writes is forwarded whole', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const body = bodyPattern(3000);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r = await c.request({ method: 'PUT', path: '/?echo=1', body, chunked: 7 });
  const echo = JSON.parse(r.text) as EchoReport;
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.framing, 'chunked');
  assert.equal(echo.bodySha256, sha256(body));
});

/** A scripted origin: reads one request head per response and answers with `answer(i)`. */
async function scriptedOrigin(t: Parameters<typeof rawServerFor>[0], answer: (i: number) => string | Buffer) {
  let n = 0;
  return rawServerFor(t, async (c: RawConn) => {
    let consumed = 0;
    for (;;) {
      const d = await c.waitFor((b) => headEnd(b.subarray(consumed)) >= 0, 10000);
      const e = headEnd(d.subarray(consumed));
      if (e < 0) return;
      consumed += e;
      await c.write(answer(n++));
    }
  });
}

test('chunked response with trailers: payload and trailers reach an HTTP/1.1 client', async (t) => {
  const payload = bodyPattern(20000);
  const server = await scriptedOrigin(t, () =>
    Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n'),
      Buffer.from('5\r\n'), payload.subarray(0, 5), Buffer.from('\r\n'),
      Buffer.from(`${(payload.length - 5).toString(16)}\r\n`), payload.subarray(5), Buffer.from('\r\n'),
      Buffer.from('0\r\nX-Sum: 42\r\nX-Server-Timing: end\r\n\r\n'),
    ]),
  );
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`r1 127.0.0.1:${server.port}`] }), [port]);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r = await c.request({ path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.framing, 'chunked');
  assert.ok(r.body.equals(payload));
  assert.deepEqual(r.trailers, [['X-Sum', '42'], ['X-Server-Timing', 'end']]);
  // The connection is still usable after the trailers.
  const r2 = await c.request({ path: '/' });
  assert.equal(r2.status, 200);
  assert.equal(r2.body.length, payload.length);
});

test('chunked response bodies of 1, 16385 and 1 MB arrive intact', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (const n of [1, 16385, 1024 * 1024]) {
    const r = await c.request({ path: `/?size=${n}&chunked=1&chunk=10000` });
    assert.equal(r.framing, 'chunked', `size ${n}`);
    assert.ok(r.body.equals(bodyPattern(n)), `size ${n}`);
  }
});

test('close-delimited response (no length): the client reads it to the close', async (t) => {
  const { port } = await sluiceToOrigin(t);
  for (const n of [0, 10, 100000]) {
    const r = await rawRequest(port, `GET /?noclen=1&size=${n} HTTP/1.1\r\nHost: x\r\n\r\n`, { until: () => false });
    assert.equal(r.timedOut, false, `size ${n}: the connection must end`);
    assert.equal(r.responses.length, 1);
    const res = r.responses[0]!;
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    assert.ok(res.body.equals(bodyPattern(n)), `size ${n}`);
    if (res.framing === 'close') {
      assert.match(headerValue(res.headers, 'connection') ?? '', /close/i);
    } else {
      assert.equal(res.framing, 'chunked', 'either close-delimited or re-framed as chunked');
    }
  }
});

test('HEAD, 204 and 304 responses carry no body and the connection goes on', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  const methods = ['HEAD', 'GET', 'GET', 'GET'];
  await c.write(
    'HEAD /?size=100 HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /?status=204 HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /?status=304&size=50 HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /?size=2 HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  await c.waitFor(untilResponses(4, methods));
  const res = c.responses(methods);
  assert.deepEqual(res.map((m) => m.status), [200, 204, 304, 200]);
  assert.deepEqual(res.map((m) => m.body.length), [0, 0, 0, 2]);
  assert.equal(headerValue(res[1]!.headers, 'content-length'), undefined, '204 has no content-length');
  assert.equal(headerValue(res[1]!.headers, 'transfer-encoding'), undefined);
  assert.ok(c.text().endsWith('\r\n\r\n01'), 'no stray body bytes after the bodyless responses');
  assert.equal(c.ended, false);
});

test(
  'HEAD and 304 responses keep the Content-Length the server sent',
  async (t) => {
    const { port } = await sluiceToOrigin(t);
    const methods = ['HEAD', 'GET'];
    const r = await rawRequest(
      port,
      'HEAD /?size=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /?status=304&size=50 HTTP/1.1\r\nHost: x\r\n\r\n',
      { until: untilResponses(2, methods), methods },
    );
    assert.equal(r.responses.length, 2);
    assert.equal(headerValue(r.responses[0]!.headers, 'content-length'), '100');
    assert.equal(headerValue(r.responses[1]!.headers, 'content-length'), '50');
  },
);

test('chunked response to an HTTP/1.0 client arrives de-chunked and close-delimited', async (t) => {
  const { port } = await sluiceToOrigin(t);
  for (const ka of ['', 'Connection: keep-alive\r\n']) {
    const r = await rawRequest(port, `GET /?size=10000&chunked=1&chunk=3000 HTTP/1.0\r\nHost: x\r\n${ka}\r\n`, {
      until: () => false,
    });
    assert.equal(r.timedOut, false, 'the connection must close to end the body');
    assert.equal(r.responses.length, 1);
    const res = r.responses[0]!;
    assert.equal(headerValue(res.headers, 'transfer-encoding'), undefined, `no chunking for HTTP/1.0 (${ka || 'no keep-alive'})`);
    assert.equal(headerValue(res.headers, 'content-length'), undefined);
    assert.equal(res.framing, 'close');
    assert.ok(res.body.equals(bodyPattern(10000)));
    assert.match(headerValue(res.headers, 'connection') ?? '', /close/i);
  }
});

test('a request body from an HTTP/1.0 client with content-length is forwarded', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(port, 'POST /?echo=1 HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', {
    until: () => false,
  });
  assert.equal(r.responses.length, 1);
  const echo = JSON.parse(r.responses[0]!.body.toString()) as EchoReport;
  assert.equal(echo.bodyLength, 5);
  assert.equal(echo.framing, 'length');
});

test('curl: a 1 MB chunked upload and a 1 MB chunked download', { skip: skipUnless('curl') }, async (t) => {
  const { port } = await sluiceToOrigin(t);
  const dir = makeTempDir('http-it-curl-');
  const file = path.join(dir, 'up.bin');
  const body = bodyPattern(1024 * 1024);
  fs.writeFileSync(file, body);
  const up = await curl([
    '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/?echo=1`,
  ]);
  assert.equal(up.exitCode, 0, up.stderr);
  const echo = JSON.parse(up.text) as EchoReport;
  assert.equal(echo.framing, 'chunked');
  assert.equal(echo.bodySha256, sha256(body));
  const down = await curl([`http://127.0.0.1:${port}/?size=${body.length}&chunked=1`]);
  assert.equal(down.exitCode, 0, down.stderr);
  assert.equal(down.header('transfer-encoding'), 'chunked');
  assert.ok(down.body.equals(body));
});
