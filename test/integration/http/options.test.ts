// Proxy options on the HTTP/1 data plane: option forwardfor (plain, if-none, except, header),
// option http-server-close, option httpclose, and http-request return.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HttpClient,
  freePort,
  headerHasToken,
  headerValues,
  rawConnect,
  rawRequest,
  untilResponses,
  type EchoReport,
  type HeaderField,
} from '../../harness/index.js';
import { originFor, proxyConfig, sluiceFor, sluiceToOrigin } from './util.js';

/** Sends one GET with `extra` header lines and returns the headers the origin received. */
async function originHeaders(port: number, extra = ''): Promise<HeaderField[]> {
  const r = await rawRequest(port, `GET /?echo=1 HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);
  assert.equal(r.responses[0]?.status, 200, r.text);
  return (JSON.parse(r.responses[0]!.body.toString()) as EchoReport).headers;
}

test('option forwardfor adds X-Forwarded-For with the client address, after any existing one', async (t) => {
  const { port } = await sluiceToOrigin(t, { frontend: ['option forwardfor'] });
  assert.deepEqual(headerValues(await originHeaders(port), 'x-forwarded-for'), ['127.0.0.1']);
  const h = await originHeaders(port, 'X-Forwarded-For: 10.1.2.3\r\n');
  assert.deepEqual(headerValues(h, 'x-forwarded-for'), ['10.1.2.3', '127.0.0.1'], 'a new field is appended, not merged');
});

test('option forwardfor if-none adds the header only when the client sent none', async (t) => {
  const { port } = await sluiceToOrigin(t, { backend: ['option forwardfor if-none'] });
  assert.deepEqual(headerValues(await originHeaders(port), 'x-forwarded-for'), ['127.0.0.1']);
  assert.deepEqual(
    headerValues(await originHeaders(port, 'x-forwarded-for: 192.0.2.7\r\n'), 'x-forwarded-for'),
    ['192.0.2.7'],
  );
});

test('option forwardfor except skips clients of that network only', async (t) => {
  const a = await sluiceToOrigin(t, { frontend: ['option forwardfor except 127.0.0.0/8'] });
  assert.deepEqual(headerValues(await originHeaders(a.port), 'x-forwarded-for'), []);
  const b = await sluiceToOrigin(t, { frontend: ['option forwardfor except 10.0.0.0/8'] });
  assert.deepEqual(headerValues(await originHeaders(b.port), 'x-forwarded-for'), ['127.0.0.1']);
});

test('option forwardfor header <name> uses that header name', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['option forwardfor header X-Client-IP'] });
  const h = await originHeaders(port);
  assert.deepEqual(headerValues(h, 'x-client-ip'), ['127.0.0.1']);
  assert.deepEqual(headerValues(h, 'x-forwarded-for'), []);
});

test('option http-server-close: one server connection per request, the client connection stays', async (t) => {
  const { port, origin } = await sluiceToOrigin(t, { defaults: ['option http-server-close'] });
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (let i = 1; i <= 3; i++) {
    const r = await c.request({ path: '/?echo=1' });
    assert.equal(r.status, 200);
    assert.equal(r.connectionClose, false, 'the client side stays in keep-alive');
    const echo = JSON.parse(r.text) as EchoReport;
    assert.equal(echo.conn, i, 'each request on a new server connection');
    assert.equal(headerHasToken(echo.headers, 'connection', 'close'), true, 'the server is told Connection: close');
  }
  assert.equal(c.closed, false);
  await origin.waitFor((o) => o.connectionsOpen === 0, 2000);
  assert.equal(origin.connectionsTotal, 3);
});

test('option httpclose: Connection: close on both sides and both connections closed', async (t) => {
  const { port, origin } = await sluiceToOrigin(t, { defaults: ['option httpclose'] });
  const r = await rawRequest(port, 'GET /?echo=1 HTTP/1.1\r\nHost: x\r\n\r\n', { until: () => false });
  assert.equal(r.closed, true, 'the client connection is closed after the response');
  const res = r.responses[0]!;
  assert.equal(res.status, 200);
  assert.equal(headerHasToken(res.headers, 'connection', 'close'), true);
  const echo = JSON.parse(res.body.toString()) as EchoReport;
  assert.equal(headerHasToken(echo.headers, 'connection', 'close'), true);
  await origin.waitFor((o) => o.connectionsOpen === 0, 2000);
});

test('no option httpclose in a backend cancels the one inherited from defaults', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['option httpclose'], backend: ['no option httpclose'], frontend: ['no option httpclose'] });
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r = await c.request({ path: '/' });
  assert.equal(r.connectionClose, false);
  assert.equal((await c.request({ path: '/' })).status, 200);
});

test('http-request return: status, content type, body and extra headers', async (t) => {
  const port = await freePort();
  const cfg =
    'defaults\n    mode http\n    timeout client 5s\n' +
    `frontend fe\n    bind 127.0.0.1:${port}\n` +
    '    http-request return status 201 content-type text/plain string "hello world" hdr X-A 1 hdr x-b two\n';
  await sluiceFor(t, cfg, [port]);
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.responses.length, 1);
  const res = r.responses[0]!;
  assert.match(r.text, /^HTTP\/1\.1 201 Created\r\n/);
  assert.deepEqual(headerValues(res.headers, 'content-type'), ['text/plain']);
  assert.deepEqual(headerValues(res.headers, 'content-length'), ['11']);
  assert.deepEqual(headerValues(res.headers, 'x-a'), ['1']);
  assert.deepEqual(headerValues(res.headers, 'x-b'), ['two']);
  assert.equal(res.body.toString(), 'hello world');
});

test(
  'http-request return answers a HEAD request with the head only',
  async (t) => {
    const port = await freePort();
    const cfg =
      'defaults\n    mode http\n    timeout client 5s\n' +
      `frontend fe\n    bind 127.0.0.1:${port}\n` +
      '    http-request return status 201 content-type text/plain string "hello world"\n';
    await sluiceFor(t, cfg, [port]);
    const h = await rawRequest(port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', { methods: ['HEAD'], until: () => false, timeoutMs: 300 });
    assert.match(h.text, /^HTTP\/1\.1 201 Created\r\n/);
    assert.match(h.text, /\r\ncontent-length: 11\r\n/i);
    assert.ok(h.text.endsWith('\r\n\r\n'), `no body for HEAD: ${JSON.stringify(h.text)}`);
  },
);

test('http-request return without a payload answers an empty body', async (t) => {
  const port = await freePort();
  await sluiceFor(t, `defaults\n    mode http\n    timeout client 5s\nfrontend fe\n    bind 127.0.0.1:${port}\n    http-request return status 404\n`, [port]);
  const r = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(r.text, 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
});

test(
  'http-request return keeps the client connection alive, as HAProxy does',
  async (t) => {
    const port = await freePort();
    await sluiceFor(t, `defaults\n    mode http\n    timeout client 5s\nfrontend fe\n    bind 127.0.0.1:${port}\n    http-request return status 200 content-type text/plain string ok\n`, [port]);
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor(untilResponses(1));
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor(untilResponses(2), 2000);
    assert.equal(c.responses().length, 2);
    assert.equal(c.ended, false);
  },
);

test('option forwardfor and http-server-close set on the backend only apply to its traffic', async (t) => {
  const origin = await originFor(t);
  const port = await freePort();
  const cfg = proxyConfig({
    port,
    servers: [`s1 127.0.0.1:${origin.port}`],
    backend: ['option forwardfor', 'option http-server-close'],
  });
  await sluiceFor(t, cfg, [port]);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r1 = await c.request({ path: '/?echo=1' });
  const r2 = await c.request({ path: '/?echo=1' });
  assert.equal(r1.connectionClose, false);
  const e1 = JSON.parse(r1.text) as EchoReport;
  const e2 = JSON.parse(r2.text) as EchoReport;
  assert.deepEqual(headerValues(e1.headers, 'x-forwarded-for'), ['127.0.0.1']);
  assert.notEqual(e1.conn, e2.conn, 'a new server connection for each request');
});
