// Header fields through sluice: names keep their case end to end (sluice's HTTP/1 promise; HAProxy
// itself lowercases them), repeated fields keep their order, and the hop-by-hop fields are handled
// per hop: keep-alive/close tokens, Keep-Alive and Proxy-Connection are not forwarded, other
// Connection tokens are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpClient, headerHasToken, headerValue, headerValues, rawRequest, type EchoReport } from '../../harness/index.js';
import { sluiceToOrigin } from './util.js';

function echoOf(body: Buffer | string): EchoReport {
  return JSON.parse(body.toString()) as EchoReport;
}

test('request header names keep their case and order on the way to the server', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(
    port,
    'GET /?echo=1 HTTP/1.1\r\nhOsT: x\r\nX-MiXeD-CaSe: 1\r\nx-lower: 2\r\nX-UPPER: 3\r\nX-Dup: a\r\nX-Dup: b\r\n\r\n',
  );
  const echo = echoOf(r.responses[0]!.body);
  const names = echo.headers.map(([n]) => n);
  assert.deepEqual(
    names.filter((n) => n.toLowerCase() !== 'connection'),
    ['hOsT', 'X-MiXeD-CaSe', 'x-lower', 'X-UPPER', 'X-Dup', 'X-Dup'],
  );
  assert.deepEqual(headerValues(echo.headers, 'x-dup'), ['a', 'b']);
});

test('response header names keep their case on the way to the client', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r = await c.request({ path: '/?hdr=X-ReSpOnSe-Case:v1&hdr=set-cookie:a=1&hdr=Set-Cookie:b=2' });
  assert.equal(r.status, 200);
  const names = r.headers.map(([n]) => n);
  assert.ok(names.includes('X-ReSpOnSe-Case'), names.join(','));
  assert.ok(names.includes('X-Server'), 'the origin writes X-Server in this case');
  assert.deepEqual(
    r.headers.filter(([n]) => n.toLowerCase() === 'set-cookie'),
    [['set-cookie', 'a=1'], ['Set-Cookie', 'b=2']],
  );
});

test('Connection keep-alive token, Keep-Alive and Proxy-Connection are not forwarded; other tokens are', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(
    port,
    'GET /?echo=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Custom\r\nX-Custom: yes\r\n' +
      'Keep-Alive: timeout=5, max=100\r\nProxy-Connection: keep-alive\r\n\r\n',
  );
  const h = echoOf(r.responses[0]!.body).headers;
  assert.equal(headerValue(h, 'keep-alive'), undefined, 'Keep-Alive is hop-by-hop');
  assert.equal(headerValue(h, 'proxy-connection'), undefined, 'Proxy-Connection is hop-by-hop');
  assert.equal(headerHasToken(h, 'connection', 'keep-alive'), false);
  assert.equal(headerHasToken(h, 'connection', 'x-custom'), true, 'other Connection tokens are kept');
  assert.equal(headerValue(h, 'x-custom'), 'yes');
});

test('the client\'s Connection: close token is not forwarded to the server', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(
    port,
    'GET /?echo=1 HTTP/1.1\r\nHost: x\r\nConnection: close, X-Other\r\nX-Other: 1\r\n\r\n',
    { until: () => false },
  );
  assert.equal(r.closed, true);
  const h = echoOf(r.responses[0]!.body).headers;
  assert.equal(headerHasToken(h, 'connection', 'close'), false);
  assert.equal(headerHasToken(h, 'connection', 'x-other'), true);
});

test('Keep-Alive and Proxy-Connection from the server are not forwarded to the client', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r = await c.request({
    path: '/?hdr=Keep-Alive:timeout=1&hdr=Proxy-Connection:keep-alive&hdr=Connection:keep-alive,X-Srv&hdr=X-Srv:1',
  });
  assert.equal(r.header('keep-alive'), undefined);
  assert.equal(r.header('proxy-connection'), undefined);
  assert.equal(headerHasToken(r.headers, 'connection', 'keep-alive'), false);
  assert.equal(headerHasToken(r.headers, 'connection', 'x-srv'), true);
  assert.equal(r.header('x-srv'), '1');
  assert.equal(r.connectionClose, false);
});

test('a response with Connection: close from the server does not close the client connection', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  const r1 = await c.request({ path: '/?close=1&size=3' });
  assert.equal(r1.status, 200);
  assert.equal(r1.connectionClose, false, 'the server hop closes, the client hop stays alive');
  const r2 = await c.request({ path: '/?size=4' });
  assert.equal(r2.body.length, 4);
  assert.equal(origin.connectionsTotal, 2, 'a new server connection after the server closed');
});

test('trailer field names keep their case', async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await rawRequest(
    port,
    'POST /?echo=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-TrAiLeR: t\r\n\r\n',
  );
  assert.deepEqual(echoOf(r.responses[0]!.body).trailers, [['X-TrAiLeR', 't']]);
});
