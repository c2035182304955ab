// Client-side connection management through sluice: keep-alive, Connection: close, HTTP/1.0
// clients with and without keep-alive, pipelining, and a real client (curl) and server (nginx).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HttpClient,
  curl,
  freePort,
  headerValue,
  rawConnect,
  rawRequest,
  skipUnless,
  startNginx,
  untilResponses,
} from '../../harness/index.js';
import { proxyConfig, sluiceFor, sluiceToOrigin } from './util.js';

test('several requests on one client connection are all answered and the connection stays open', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (let i = 1; i <= 4; i++) {
    const r = await c.request({ path: `/?size=${i}` });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, i);
    assert.equal(r.connectionClose, false, `response ${i} must keep the connection`);
  }
  assert.equal(c.closed, false);
  // One client session and the default http-reuse safe: its own server connection carries all.
  assert.equal(origin.connectionsTotal, 1);
  assert.deepEqual(
    origin.requests.map((r) => [r.conn, r.seq]),
    [[1, 1], [1, 2], [1, 3], [1, 4]],
  );
});

test('with http-reuse never one client session still keeps its own server connection', async (t) => {
  const { port, origin } = await sluiceToOrigin(t, { backend: ['http-reuse never'] });
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (let i = 0; i < 3; i++) assert.equal((await c.request({ path: '/' })).status, 200);
  assert.equal(origin.connectionsTotal, 1);
  assert.deepEqual(origin.requests.map((r) => r.seq), [1, 2, 3]);
});

test('Connection: close from the client: answered with Connection: close, then the proxy closes', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const r = await rawRequest(port, 'GET /?size=5&echo=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', {
    until: () => false,
  });
  assert.equal(r.closed, true, 'sluice must close the client connection');
  assert.equal(r.timedOut, false);
  assert.equal(r.responses.length, 1);
  const res = r.responses[0]!;
  assert.equal(res.status, 200);
  assert.equal(res.framing, 'length', 'the body keeps its content-length');
  assert.match(headerValue(res.headers, 'connection') ?? '', /^close$/i);
  assert.equal(origin.requests.length, 1);
});

test('HTTP/1.0 client without keep-alive: the response arrives and the connection closes', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(port, 'GET /?size=7 HTTP/1.0\r\nHost: x\r\n\r\n', { until: () => false });
  assert.equal(r.closed, true);
  assert.equal(r.responses.length, 1);
  const res = r.responses[0]!;
  assert.equal(res.status, 200);
  assert.equal(res.body.length, 7);
  assert.equal(res.complete, true);
  assert.equal(headerValue(res.headers, 'transfer-encoding'), undefined);
});

test('HTTP/1.0 client with keep-alive: Connection: keep-alive is announced and a second request works', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET /?size=3 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  await c.waitFor(untilResponses(1));
  let res = c.responses();
  assert.equal(res.length, 1);
  assert.equal(res[0]!.status, 200);
  assert.equal(res[0]!.framing, 'length');
  assert.match(headerValue(res[0]!.headers, 'connection') ?? '', /keep-alive/i);
  assert.equal(c.ended, false);
  await c.write('GET /?size=4 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  await c.waitFor(untilResponses(2));
  res = c.responses();
  assert.equal(res.length, 2);
  assert.equal(res[1]!.body.length, 4);
  assert.equal(origin.requestCount, 2);
});

test(
  'an HTTP/1.0 client is answered with HTTP/1.1 on the status line, as HAProxy does',
  async (t) => {
    const { port } = await sluiceToOrigin(t);
    const r = await rawRequest(port, 'GET / HTTP/1.0\r\nHost: x\r\n\r\n', { until: () => false });
    assert.match(r.text, /^HTTP\/1\.1 200 /);
  },
);

test('three pipelined requests in one write are answered in order, even when the first is slow', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const req = (q: string): string => `GET /?${q} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const r = await rawRequest(port, req('delay=150&hdr=X-N:1&size=1') + req('hdr=X-N:2&size=2') + req('hdr=X-N:3&size=3'), {
    until: untilResponses(3),
  });
  assert.equal(r.timedOut, false);
  assert.equal(r.responses.length, 3);
  assert.deepEqual(
    r.responses.map((m) => [headerValue(m.headers, 'x-n'), m.body.length]),
    [['1', 1], ['2', 2], ['3', 3]],
  );
  assert.equal(r.closed, false, 'the connection stays open after pipelined requests');
  assert.deepEqual(origin.requests.map((q) => q.query.get('hdr')), ['X-N:1', 'X-N:2', 'X-N:3']);
});

test('a pipelined HEAD followed by a GET: the HEAD response carries no body bytes', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(
    port,
    'HEAD /?size=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /?size=10 HTTP/1.1\r\nHost: x\r\n\r\n',
    { until: untilResponses(2, ['HEAD', 'GET']), methods: ['HEAD', 'GET'] },
  );
  assert.equal(r.responses.length, 2);
  assert.equal(r.responses[0]!.body.length, 0);
  assert.equal(r.responses[1]!.status, 200);
  assert.equal(r.responses[1]!.body.length, 10);
  // The whole stream must be exactly the two responses: nothing after the second body.
  const second = r.text.indexOf('HTTP/1.1 200', 1);
  assert.ok(second > 0);
  assert.ok(r.text.endsWith('0123456789'), JSON.stringify(r.text));
});

test('curl: two URLs on one connection, and a POST', { skip: skipUnless('curl') }, async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const a = await curl(['-v', `http://127.0.0.1:${port}/?size=3`, `http://127.0.0.1:${port}/?size=6`]);
  assert.equal(a.exitCode, 0, a.stderr);
  assert.equal(a.status, 200);
  assert.match(a.stderr, /Re-using existing connection|Reusing existing/i);
  assert.equal(origin.requestCount, 2);
  const p = await curl(['--data-binary', 'hello sluice', `http://127.0.0.1:${port}/?echo=1`]);
  assert.equal(p.exitCode, 0, p.stderr);
  const echo = JSON.parse(p.text) as { method: string; bodyLength: number };
  assert.equal(echo.method, 'POST');
  assert.equal(echo.bodyLength, 12);
});

test('nginx as the origin: keep-alive on both sides, one server connection for one client', { skip: skipUnless('nginx') }, async (t) => {
  const nginx = await startNginx({
    body: 'hello from nginx\n',
    config: '        location = /conn { add_header X-Conn $connection always; add_header X-Conn-Req $connection_requests always; return 200 "conn\\n"; }\n',
  });
  t.after(() => nginx.stop());
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`n1 127.0.0.1:${nginx.port}`] }), [port]);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const conns = new Set<string>();
  const seqs: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await c.request({ path: '/conn' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'conn\n');
    assert.equal(r.connectionClose, false);
    conns.add(r.header('x-conn') ?? '?');
    seqs.push(r.header('x-conn-req') ?? '?');
  }
  assert.equal(conns.size, 1, `one nginx connection expected, saw ${[...conns].join(',')}`);
  assert.deepEqual(seqs, ['1', '2', '3', '4', '5']);
  const r = await c.request({ path: '/hello' });
  assert.equal(r.text, 'hello from nginx\n');
});
