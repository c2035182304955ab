// Server connection reuse through sluice, observed from the server side: http-reuse never, safe,
// aggressive and always across client sessions, pool-max-conn, pool-purge-delay, max-reuse, and
// reused connections that the server closed, with the query-driven origin, a scripted server
// and nginx.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  HttpClient,
  freePort,
  rawConnect,
  skipUnless,
  startNginx,
  untilResponses,
  type EchoReport,
  type Origin,
  type RawConn,
} from '../../harness/index.js';
import { headEnd, proxyConfig, rawServerFor, sleep, sluiceFor, sluiceToOrigin } from './util.js';

/**
 * Runs client sessions one after the other (each opens a connection, sends `n` GETs, closes) and
 * returns, per session, the "conn.seq" the origin reported for each request.
 */
async function sessions(port: number, plan: number[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const n of plan) {
    const c = await HttpClient.connect(port);
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await c.request({ path: '/?echo=1' });
      assert.equal(r.status, 200);
      const e = JSON.parse(r.text) as EchoReport;
      seen.push(`${e.conn}.${e.seq}`);
    }
    await c.close();
    out.push(seen);
  }
  return out;
}

async function reuseSetup(t: TestContext, reuse: string, serverArgs = ''): Promise<{ port: number; origin: Origin }> {
  return sluiceToOrigin(t, { backend: [`http-reuse ${reuse}`], serverArgs });
}

test('http-reuse always: two clients in sequence share one server connection', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always');
  assert.deepEqual(await sessions(port, [1, 1, 2]), [['1.1'], ['1.2'], ['1.3', '1.4']]);
  assert.equal(origin.connectionsTotal, 1);
});

test('http-reuse safe: a new client\'s first request opens its own connection, later ones may share', async (t) => {
  const { port, origin } = await reuseSetup(t, 'safe');
  const s = await sessions(port, [1, 2]);
  assert.deepEqual(s[0], ['1.1']);
  assert.equal(s[1]![0], '2.1', 'the first request of a session never takes an idle connection');
  assert.ok(['1.2', '2.2'].includes(s[1]![1]!), `the second request reuses an idle connection: ${s[1]![1]}`);
  assert.equal(origin.connectionsTotal, 2);
});

test('http-reuse aggressive: a first request takes only a connection that was already reused', async (t) => {
  const a = await reuseSetup(t, 'aggressive');
  // Session 1 used its connection once: not proven reusable, session 2 opens its own.
  assert.deepEqual(await sessions(a.port, [1, 1]), [['1.1'], ['2.1']]);
  const b = await reuseSetup(t, 'aggressive');
  // Session 1 reused its connection: session 2 may take it for its first request.
  assert.deepEqual(await sessions(b.port, [2, 1]), [['1.1', '1.2'], ['1.3']]);
});

test('http-reuse never: nothing is shared across clients and a client\'s connection dies with it', async (t) => {
  const { port, origin } = await reuseSetup(t, 'never');
  assert.deepEqual(await sessions(port, [2, 2]), [['1.1', '1.2'], ['2.1', '2.2']]);
  await origin.waitFor((o) => o.connectionsOpen === 0, 3000);
});

test('pool-max-conn 0: no connection is kept after a response', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always', 'pool-max-conn 0');
  const c = await HttpClient.connect(port);
  t.after(() => c.close());
  for (let i = 1; i <= 3; i++) {
    const r = await c.request({ path: '/?echo=1' });
    assert.equal((JSON.parse(r.text) as EchoReport).conn, i);
    await origin.waitFor((o) => o.connectionsOpen === 0, 3000);
  }
  assert.equal(c.closed, false, 'the client connection is not affected');
});

test('pool-max-conn 1: one idle connection is kept and shared', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always', 'pool-max-conn 1');
  assert.deepEqual(await sessions(port, [2, 2]), [['1.1', '1.2'], ['1.3', '1.4']]);
  assert.equal(origin.connectionsOpen, 1);
});

test('pool-purge-delay: idle connections are closed after the delay', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always', 'pool-purge-delay 200ms');
  await sessions(port, [1]);
  assert.equal(origin.connectionsOpen, 1);
  await origin.waitFor((o) => o.connectionsOpen === 0, 3000);
  // The next client gets a fresh connection.
  assert.deepEqual(await sessions(port, [1]), [['2.1']]);
});

test('pool-purge-delay 10s: an idle connection survives a short pause and is reused', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always', 'pool-purge-delay 10s');
  await sessions(port, [1]);
  await sleep(400);
  assert.equal(origin.connectionsOpen, 1);
  assert.deepEqual(await sessions(port, [1]), [['1.2']]);
});

test('max-reuse 0: every request has its own server connection', async (t) => {
  const { port, origin } = await reuseSetup(t, 'always', 'max-reuse 0');
  assert.deepEqual(await sessions(port, [3]), [['1.1', '2.1', '3.1']]);
  await origin.waitFor((o) => o.connectionsOpen === 0, 3000);
});

test(
  'max-reuse 2: a server connection is reused at most twice (three requests)',
  async (t) => {
    const { port } = await reuseSetup(t, 'always', 'max-reuse 2');
    assert.deepEqual(await sessions(port, [7]), [['1.1', '1.2', '1.3', '2.1', '2.2', '2.3', '3.1']]);
  },
);

/**
 * A scripted server: answers the first request of every connection with 200 "ok" and keeps it
 * alive, then on the second request closes without answering (as a server whose keep-alive
 * timeout fired just as the request arrived).
 */
async function oneRequestServer(t: TestContext) {
  return rawServerFor(t, async (c: RawConn) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const first = headEnd(c.received);
    await c.waitFor((d) => d.length > first, 10000);
    c.end();
  });
}

async function sluiceTo(t: TestContext, serverPort: number, backend: string[] = []): Promise<number> {
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [`r1 127.0.0.1:${serverPort}`], backend }), [port]);
  return port;
}

test('a server that closed an idle connection: the next GET goes on a fresh connection', async (t) => {
  const server = await rawServerFor(t, async (c) => {
    await c.waitFor((d) => headEnd(d) >= 0);
    await c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    c.end();
  });
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  await server.conns[0]!.waitClose(3000);
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(2));
  assert.deepEqual(c.responses().map((m) => m.status), [200, 200]);
  assert.equal(server.conns.length, 2);
});

test('a reused connection closed by the server as the request arrives: a GET is retried on a fresh one', async (t) => {
  const server = await oneRequestServer(t);
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  await c.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(2));
  assert.deepEqual(c.responses().map((m) => [m.status, m.body.toString()]), [[200, 'ok'], [200, 'ok']]);
  assert.equal(server.conns.length, 2, 'the retry opened a second server connection');
  assert.equal(c.ended, false);
});

test('same race with a POST: not retried; the client connection is closed silently, as HAProxy does', async (t) => {
  const server = await oneRequestServer(t);
  const port = await sluiceTo(t, server.port);
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  await c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.waitFor(untilResponses(1));
  const before = c.received.length;
  await c.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  await c.waitFor(() => false, 3000);
  assert.ok(c.ended || c.closed, 'the client connection is closed');
  assert.equal(c.received.length, before, 'no response at all (the client may retry on its own)');
  assert.equal(server.conns.length, 1, 'no retry of a POST');
});

test('same race with a POST on a new client\'s first request (http-reuse always): 502', async (t) => {
  const server = await oneRequestServer(t);
  const port = await sluiceTo(t, server.port, ['http-reuse always']);
  const a = await rawConnect(port);
  await a.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await a.waitFor(untilResponses(1));
  a.destroy();
  const b = await rawConnect(port);
  t.after(() => b.destroy());
  await b.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
  await b.waitFor(untilResponses(1), 3000);
  assert.equal(b.responses()[0]?.status, 502);
});

test('nginx: http-reuse always shares its connection; an idle close by nginx is survived', { skip: skipUnless('nginx') }, async (t) => {
  const nginx = await startNginx({
    config:
      '        keepalive_timeout 300ms;\n' +
      '        location = /conn { add_header X-Conn $connection always; return 200 "conn\\n"; }\n',
  });
  t.after(() => nginx.stop());
  const port = await sluiceTo(t, nginx.port, ['http-reuse always']);
  const conn = async (): Promise<string> => {
    const c = await HttpClient.connect(port);
    try {
      const r = await c.request({ path: '/conn' });
      assert.equal(r.status, 200);
      assert.equal(r.text, 'conn\n');
      return r.header('x-conn') ?? '?';
    } finally {
      await c.close();
    }
  };
  const first = await conn();
  assert.equal(await conn(), first, 'the second client reuses the same nginx connection');
  // nginx closes the idle connection after its keepalive_timeout; sluice must notice and reconnect.
  await sleep(800);
  const third = await conn();
  assert.notEqual(third, first, 'a new nginx connection after nginx closed the idle one');
});
