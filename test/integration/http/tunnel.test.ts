// Interim responses and tunnels through sluice: Expect: 100-continue, 103 Early Hints, the
// websocket upgrade (101 then bytes both ways) and CONNECT (2xx then bytes both ways).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  curl,
  freePort,
  headerValue,
  rawConnect,
  skipUnless,
  untilResponses,
  type EchoReport,
  type RawConn,
} from '../../harness/index.js';
import { hasText, headEnd, proxyConfig, rawServerFor, sluiceFor, sluiceToOrigin } from './util.js';

test('Expect: 100-continue: the server\'s 100 reaches the client before it sends the body', async (t) => {
  const { port, origin } = await sluiceToOrigin(t);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('POST /?100=1&echo=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
  await c.waitFor(hasText('\r\n\r\n'));
  assert.match(c.text(), /^HTTP\/1\.1 100 Continue\r\n/);
  assert.equal(origin.requestCount, 0, 'the body has not been sent yet');
  await c.write('hello');
  await c.waitFor((d) => c.responses().some((m) => m.status === 200) || d.length > 100000);
  const final = c.responses().find((m) => m.status === 200)!;
  const echo = JSON.parse(final.body.toString()) as EchoReport;
  assert.equal(echo.bodyLength, 5);
  assert.equal(headerValue(echo.headers, 'expect'), '100-continue', 'Expect is forwarded to the server');
});

test('curl with Expect: 100-continue gets the interim and the final response', { skip: skipUnless('curl') }, async (t) => {
  const { port } = await sluiceToOrigin(t);
  const r = await curl([
    '-H', 'Expect: 100-continue', '--data-binary', 'payload', `http://127.0.0.1:${port}/?100=1&echo=1&status=201`,
  ]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.status, 201);
  assert.match(r.rawHeaders, /^HTTP\/1\.1 100 Continue\r\n/);
  assert.equal((JSON.parse(r.text) as EchoReport).bodyLength, 7);
});

/** A raw origin answering each request head with `bytes`, then running `after` on the connection. */
async function oneShotServer(t: TestContext, bytes: string, after?: (c: RawConn) => Promise<void>) {
  return rawServerFor(t, async (c) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await c.write(bytes);
    if (after) await after(c);
  });
}

// A conformant handshake (RFC 6455 §1.3 example key and accept), so that the tunnel tests also hold
// for a proxy that validates the handshake the way HAProxy does.
const WS_REQ =
  'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const WS_101 =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

async function sluiceTo(t: TestContext, serverPort: number, extra: string[] = []): Promise<number> {
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`r1 127.0.0.1:${serverPort}`], defaults: extra }), [port]);
  return port;
}

test('103 Early Hints goes to an HTTP/1.1 client before the final response; not to HTTP/1.0', async (t) => {
  const server = await oneShotServer(
    t,
    'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  );
  const port = await sluiceTo(t, server.port);
  const c11 = await rawConnect(port);
  t.after(() => c11.destroy());
  await c11.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c11.waitFor(hasText('ok'));
  const res = c11.responses();
  assert.deepEqual(res.map((m) => m.status), [103, 200]);
  assert.equal(headerValue(res[0]!.headers, 'link'), '</style.css>; rel=preload');
  assert.equal(res[1]!.body.toString(), 'ok');

  const c10 = await rawConnect(port);
  t.after(() => c10.destroy());
  await c10.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
  await c10.waitFor(() => false, 3000);
  assert.doesNotMatch(c10.text(), / 103 /, 'no 1xx to an HTTP/1.0 client');
  assert.equal(c10.responses()[0]?.status, 200);
});

test('websocket upgrade: 101 is forwarded and bytes flow both ways through the tunnel', async (t) => {
  let upgradeReq = '';
  const server = await rawServerFor(t, async (c) => {
    const d = await c.waitFor((b) => headEnd(b) >= 0);
    upgradeReq = d.subarray(0, headEnd(d)).toString('latin1');
    let seen = headEnd(d);
    // The 101 and the server's first frame in one write: the frame must not be lost.
    await c.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nserver-hello;',
    );
    // Echo every client byte back with a prefix until the client closes.
    while (!c.ended && !c.closed) {
      const b = await c.waitFor((x) => x.length > seen, 10000);
      if (b.length > seen) {
        await c.write(`echo:${b.subarray(seen).toString('latin1')};`);
        seen = b.length;
      }
    }
    c.end();
  });
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write(
    'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await c.waitFor(hasText('server-hello;'));
  assert.match(c.text(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  const head = c.text().slice(0, c.text().indexOf('\r\n\r\n') + 4);
  assert.match(head, /\r\nupgrade: websocket\r\n/i);
  assert.match(head, /\r\nconnection: upgrade\r\n/i);
  assert.match(upgradeReq, /\r\nupgrade: websocket\r\n/i);
  assert.match(upgradeReq, /\r\nconnection: upgrade\r\n/i, 'the upgrade token reaches the server');
  await c.write('ping-1');
  await c.waitFor(hasText('echo:ping-1;'));
  const from = c.received.length;
  const big = 'x'.repeat(200000);
  await c.write(big);
  const count = (): number => c.received.subarray(from).toString('latin1').split('x').length - 1;
  await c.waitFor(() => count() >= big.length, 10000);
  assert.equal(count(), big.length, 'all tunnel bytes echoed');
  // The client's FIN crosses the tunnel, and the server's close comes back.
  c.end();
  await c.waitFor(() => false, 5000);
  assert.equal(c.ended, true, 'the server end of the tunnel reaches the client');
  assert.equal(server.conns[0]!.ended, true, 'the client end of the tunnel reaches the server');
});

test('websocket: the server closing the tunnel closes the client connection', async (t) => {
  const server = await oneShotServer(
    t,
    `${WS_101}bye`,
    async (c) => c.end(),
  );
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write(WS_REQ);
  await c.waitFor(() => false, 5000);
  assert.equal(c.ended, true, 'the client must see the end of the tunnel');
  assert.ok(c.text().endsWith('\r\n\r\nbye'), JSON.stringify(c.text()));
});

test('CONNECT host:port: the 200 is forwarded and bytes flow both ways', async (t) => {
  let requestLine = '';
  const server = await rawServerFor(t, async (c) => {
    const d = await c.waitFor((b) => headEnd(b) >= 0);
    requestLine = d.toString('latin1').split('\r\n')[0]!;
    let seen = headEnd(d);
    await c.write('HTTP/1.1 200 Connection established\r\n\r\n');
    while (!c.ended && !c.closed) {
      const b = await c.waitFor((x) => x.length > seen, 10000);
      if (b.length > seen) {
        await c.write(b.subarray(seen).toString('latin1').toUpperCase());
        seen = b.length;
      }
    }
    c.end();
  });
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('CONNECT backend.test:443 HTTP/1.1\r\nHost: backend.test:443\r\n\r\n');
  await c.waitFor(hasText('\r\n\r\n'));
  assert.match(c.text(), /^HTTP\/1\.1 200 Connection established\r\n/);
  assert.equal(requestLine, 'CONNECT backend.test:443 HTTP/1.1');
  const before = c.received.length;
  await c.write('tls-ish bytes');
  await c.waitFor((d) => d.length >= before + 13);
  assert.equal(c.received.subarray(before).toString(), 'TLS-ISH BYTES');
  c.end();
  await c.waitFor(() => false, 5000);
  assert.equal(c.ended, true);
});

test('an idle websocket tunnel is closed by timeout tunnel', async (t) => {
  const server = await oneShotServer(
    t,
    WS_101,
    async (c) => {
      await c.waitClose(10000);
    },
  );
  const port = await sluiceTo(t, server.port, ['timeout tunnel 300ms']);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  const t0 = Date.now();
  await c.write(WS_REQ);
  await c.waitFor(() => false, 5000);
  assert.equal(c.ended, true, 'the idle tunnel must be closed');
  const took = Date.now() - t0;
  assert.ok(took >= 250, `closed after ${took} ms, before timeout tunnel`);
  await server.conns[0]!.waitFor(() => false, 2000);
  const sc = server.conns[0]!;
  assert.ok(sc.ended || sc.closed, 'the server side is closed too');
});

test(
  'a websocket upgrade request without Sec-WebSocket-Key is refused with 400, as HAProxy does',
  async (t) => {
    const server = await oneShotServer(t, WS_101);
    const port = await sluiceTo(t, server.port);
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await c.waitFor(untilResponses(1), 3000);
    assert.match(c.text(), /^HTTP\/1\.1 400 Bad request\r\n/);
    assert.equal(server.conns.length, 0, 'nothing reaches the server');
  },
);

test(
  'a 101 websocket response without Sec-WebSocket-Accept gives 502, as HAProxy does',
  async (t) => {
    const server = await oneShotServer(t, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    const port = await sluiceTo(t, server.port);
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    await c.write(WS_REQ);
    await c.waitFor(untilResponses(1), 3000);
    assert.match(c.text(), /^HTTP\/1\.1 502 Bad Gateway\r\n/);
  },
);
