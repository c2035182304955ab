// Timeouts on the HTTP/1 data plane: timeout client on a half-sent request and on a client that
// stops reading, timeout http-keep-alive closing an idle connection silently, timeout server before
// and in the middle of a response body, and inactivity (not total time) being what they measure.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePort, rawConnect, untilResponses, which } from '../../harness/index.js';
import { haproxyFor, headEnd, proxyConfig, rawServerFor, sleep, sluiceFor, sluiceToOrigin } from './util.js';

const PAGE_408 =
  'HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\n' +
  "Content-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
const PAGE_504 =
  'HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
  "<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

test('timeout client without timeout http-request: a half-sent request head gets 408', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['timeout client 300ms'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n');
  await c.waitFor(() => false, 3000);
  assert.equal(c.text(), PAGE_408);
  assert.equal(c.ended, true);
});

test('a half-sent request body: the request is being forwarded, so timeout server decides (504)', async (t) => {
  const { port, origin } = await sluiceToOrigin(t, { defaults: ['timeout client 300ms', 'timeout server 800ms'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('POST /?echo=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  await c.waitFor(() => false, 4000);
  assert.equal(c.text().slice(0, PAGE_504.indexOf('\r\n')), PAGE_504.slice(0, PAGE_504.indexOf('\r\n')));
  assert.ok(c.text().endsWith(PAGE_504.slice(PAGE_504.indexOf('\r\n\r\n'))), 'the 504 page body');
  assert.equal(c.ended, true, 'the connection closes: the rest of the body would be out of sync');
  assert.equal(origin.requestCount, 0, 'the origin never saw a complete request');
});

test(
  'that 504 announces Connection: close, byte for byte as HAProxy sends it',
  async (t) => {
    const { port } = await sluiceToOrigin(t, { defaults: ['timeout client 300ms', 'timeout server 500ms'] });
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    await c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    await c.waitFor(() => false, 4000);
    const expected = PAGE_504.replace('content-type: text/html\r\n', 'content-type: text/html\r\nconnection: close\r\n');
    assert.equal(c.text(), expected);
  },
);

test('timeout http-keep-alive closes an idle kept-alive connection silently', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['timeout http-keep-alive 300ms', 'timeout http-request 5s'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET /?size=3 HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const after = c.received.length;
  const t0 = Date.now();
  await c.waitFor(() => false, 4000);
  assert.equal(c.ended, true, 'the idle connection is closed');
  assert.equal(c.received.length, after, 'no 408 or other bytes: a silent close');
  assert.ok(Date.now() - t0 < 3000, 'timeout http-keep-alive, not timeout http-request, applied');
});

test('without timeout http-keep-alive, timeout http-request bounds the idle time, still silently', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['timeout http-request 300ms'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const after = c.received.length;
  await c.waitFor(() => false, 3000);
  assert.equal(c.ended, true);
  assert.equal(c.received.length, after);
});

test('a request started during keep-alive is timed by timeout http-request and gets 408', async (t) => {
  const { port } = await sluiceToOrigin(t, { defaults: ['timeout http-keep-alive 200ms', 'timeout http-request 600ms'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const after = c.received.length;
  await c.write('GET / HT');
  await c.waitFor(() => false, 3000);
  assert.equal(c.text().slice(after), PAGE_408, 'the partial second request gets a 408');
});

test(
  'an empty line during keep-alive starts a request: 408 at timeout http-request, as HAProxy does',
  async (t) => {
    const { port } = await sluiceToOrigin(t, { defaults: ['timeout http-keep-alive 200ms', 'timeout http-request 600ms'] });
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor(untilResponses(1));
    const after = c.received.length;
    await c.write('\r\n');
    await c.waitFor(() => false, 3000);
    assert.equal(c.text().slice(after), PAGE_408);
  },
);

/** A server answering the head and `sent` bytes of a `total`-byte body, then going silent. */
async function stallingServer(t: TestContext, total: number, sent: string) {
  return rawServerFor(t, async (c) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await c.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n${sent}`);
    await c.waitClose(10000);
  });
}

test('timeout server in the middle of the body: the client gets what was sent, then a close', async (t) => {
  const server = await stallingServer(t, 100, '0123456789');
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`r1 127.0.0.1:${server.port}`], defaults: ['timeout server 300ms'] }), [port]);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(() => false, 3000);
  assert.equal(c.ended || c.closed, true, 'the client connection is closed');
  assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(c.text().endsWith('\r\n\r\n0123456789'), 'no error page in the middle of a body');
  const r = c.responses();
  assert.equal(r[0]?.complete, false, 'the client can tell the body is truncated');
  await server.conns[0]!.waitFor(() => false, 2000);
  assert.ok(server.conns[0]!.ended || server.conns[0]!.closed, 'the server connection is closed too');
});

test('timeout server measures inactivity: a slowly trickling body arrives whole', async (t) => {
  const server = await rawServerFor(t, async (c) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await c.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n');
    for (let i = 0; i < 8; i++) {
      await sleep(120);
      await c.write(String(i));
    }
  });
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`r1 127.0.0.1:${server.port}`], defaults: ['timeout server 400ms'] }), [port]);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1), 5000);
  assert.equal(c.responses()[0]?.body.toString(), '01234567');
  assert.equal(c.ended, false);
});

test('timeout client on a client that stops reading a large response: both connections are closed', async (t) => {
  const { port, origin } = await sluiceToOrigin(t, { defaults: ['timeout client 300ms'] });
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  c.socket.pause();
  await c.write('GET /?size=50000000 HTTP/1.1\r\nHost: x\r\n\r\n');
  await origin.waitFor((o) => o.requestCount === 1, 3000);
  await origin.waitFor((o) => o.connectionsOpen === 0, 5000);
});

test('the 504 of timeout server is the same as haproxy\'s, and timeout server also covers a late server', { skip: which('haproxy') ? false : 'haproxy missing' }, async (t) => {
  const server = await rawServerFor(t, async (c) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await sleep(700);
    await c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  const ports = [await freePort(), await freePort()];
  const cfg = (p: number): string =>
    proxyConfig({ port: p, servers: [`r1 127.0.0.1:${server.port}`], defaults: ['timeout server 300ms'] });
  await sluiceFor(t, cfg(ports[0]!), [ports[0]!]);
  await haproxyFor(t, cfg(ports[1]!), [ports[1]!]);
  const texts: string[] = [];
  for (const p of ports) {
    const c = await rawConnect(p);
    await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor(untilResponses(1), 3000);
    texts.push(c.text());
    c.destroy();
  }
  assert.equal(texts[0], PAGE_504);
  assert.equal(texts[0], texts[1]);
});
