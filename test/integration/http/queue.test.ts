// Server maxconn and queueing through sluice: requests above maxconn wait and are served in turn
// (never more than maxconn at once on the server), timeout queue answers 503, maxqueue bounds a
// server's own queue, and a client that leaves while queued gives its place up.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePort, rawConnect, rawRequest, untilResponses, type RawResult } from '../../harness/index.js';
import { headEnd, proxyConfig, rawServerFor, sleep, sluiceFor, until } from './util.js';

const PAGE_503 =
  'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
  '<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n';

/**
 * A keep-alive server that answers each request `delayMs` after its head arrived and records how
 * many requests it was working on at once (`max`) and the paths it saw, in order.
 */
async function countingServer(t: TestContext, delayMs: number) {
  const stats = { active: 0, max: 0, paths: [] as string[] };
  const server = await rawServerFor(t, async (c) => {
    let consumed = 0;
    for (;;) {
      const d = await c.waitFor((b) => headEnd(b.subarray(consumed)) >= 0, 20000);
      const e = headEnd(d.subarray(consumed));
      if (e < 0) return;
      stats.paths.push(d.subarray(consumed, consumed + e).toString('latin1').split(' ')[1]!);
      consumed += e;
      stats.active++;
      stats.max = Math.max(stats.max, stats.active);
      await sleep(delayMs);
      stats.active--;
      await c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
  });
  return { server, stats };
}

async function sluiceTo(t: TestContext, serverLine: string, backend: string[] = [], defaults: string[] = []): Promise<number> {
  const port = await freePort();
  await sluiceFor(t, proxyConfig({ port, servers: [serverLine], backend, defaults }), [port]);
  return port;
}

/** Sends `n` GETs on `n` connections at once (paths /0, /1, ...), in that order. */
async function concurrent(port: number, n: number, path = (i: number) => `/${i}`): Promise<RawResult[]> {
  const out: Promise<RawResult>[] = [];
  for (let i = 0; i < n; i++) {
    out.push(rawRequest(port, `GET ${path(i)} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeoutMs: 8000 }));
    // A small gap so that the requests reach the queue in this order.
    await sleep(40);
  }
  return Promise.all(out);
}

test('maxconn 1: three concurrent slow requests all succeed, one at a time on the server', async (t) => {
  const { server, stats } = await countingServer(t, 300);
  // A generous queue timeout: what is tested is the order and the limit, not how long a turn takes.
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1`, [], ['timeout queue 10s']);
  const rs = await concurrent(port, 3);
  assert.deepEqual(rs.map((r) => r.responses[0]?.status), [200, 200, 200]);
  assert.equal(stats.max, 1, 'the server never had more than one request at once');
  assert.deepEqual(stats.paths, ['/0', '/1', '/2'], 'queued requests are served in arrival order');
});

test('maxconn 2: five concurrent requests, never more than two at once on the server', async (t) => {
  const { server, stats } = await countingServer(t, 200);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 2`, [], ['timeout queue 10s']);
  const rs = await concurrent(port, 5);
  assert.deepEqual(rs.map((r) => r.responses[0]?.status), [200, 200, 200, 200, 200]);
  assert.equal(stats.max, 2);
});

test('maxconn counts requests, not connections: one client pipelining stays within it', async (t) => {
  const { server, stats } = await countingServer(t, 100);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1`);
  const req = 'GET /p HTTP/1.1\r\nHost: x\r\n\r\n';
  const [a, b] = await Promise.all([
    rawRequest(port, req + req, { until: untilResponses(2), timeoutMs: 5000 }),
    rawRequest(port, req + req, { until: untilResponses(2), timeoutMs: 5000 }),
  ]);
  assert.equal(a!.responses.length, 2);
  assert.equal(b!.responses.length, 2);
  assert.equal(stats.max, 1);
});

test('timeout queue: a request still queued when it expires gets 503', async (t) => {
  const { server, stats } = await countingServer(t, 800);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1`, [], ['timeout queue 200ms']);
  const rs = await concurrent(port, 2);
  assert.equal(rs[0]!.responses[0]?.status, 200);
  assert.equal(rs[1]!.text, PAGE_503);
  assert.deepEqual(stats.paths, ['/0'], 'the expired request never reached the server');
});

test('without timeout queue, timeout connect bounds the wait in the queue', async (t) => {
  const { server } = await countingServer(t, 800);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1`, [], ['timeout connect 300ms']);
  const rs = await concurrent(port, 2);
  assert.equal(rs[0]!.responses[0]?.status, 200);
  assert.equal(rs[1]!.text, PAGE_503);
});

test('maxqueue does not limit the backend queue under normal load balancing', async (t) => {
  const { server } = await countingServer(t, 150);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1 maxqueue 1`);
  const rs = await concurrent(port, 4);
  assert.deepEqual(rs.map((r) => r.responses[0]?.status), [200, 200, 200, 200]);
});

test(
  'maxqueue bounds the queue of a server chosen by hashing (balance uri): the excess gets 503',
  async (t) => {
    const { server, stats } = await countingServer(t, 400);
    const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1 maxqueue 1`, ['balance uri']);
    const rs = await concurrent(port, 3, () => '/same');
    assert.deepEqual(rs.map((r) => r.responses[0]?.status), [200, 200, 503]);
    assert.equal(rs[2]!.text, PAGE_503);
    assert.equal(stats.paths.length, 2);
  },
);

/**
 * Three clients on a maxconn 1 server: `first` is being served, `quitter` waits in the queue and
 * then leaves the way `leave` says, `last` queues after it. Returns the paths the server saw and
 * what the quitter received.
 */
async function quitterScenario(t: TestContext, leave: 'fin' | 'rst', backend: string[]) {
  const { server, stats } = await countingServer(t, 400);
  const port = await sluiceTo(t, `s1 127.0.0.1:${server.port} maxconn 1`, backend);
  const first = rawRequest(port, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 5000 });
  await until(() => stats.active === 1, 3000, 'first request on the server');
  const quitter = await rawConnect(port);
  t.after(() => quitter.destroy());
  await quitter.write('GET /quitter HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(50);
  if (leave === 'fin') quitter.end();
  else quitter.resetAndDestroy();
  const last = rawRequest(port, 'GET /last HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 5000 });
  const [a, b] = await Promise.all([first, last]);
  assert.equal(a.responses[0]?.status, 200);
  assert.equal(b.responses[0]?.status, 200);
  assert.equal(stats.max, 1);
  if (leave === 'fin') await quitter.waitFor(() => false, 3000);
  return { paths: stats.paths, quitter };
}

test('a queued client that half-closes is still served (no abortonclose), as HAProxy does', async (t) => {
  const { paths, quitter } = await quitterScenario(t, 'fin', []);
  assert.deepEqual(paths, ['/first', '/quitter', '/last']);
  assert.equal(quitter.responses()[0]?.status, 200, 'the half-closed client still gets its response');
});

test('option abortonclose: a queued client that half-closes is dropped from the queue', async (t) => {
  const { paths, quitter } = await quitterScenario(t, 'fin', ['option abortonclose']);
  assert.deepEqual(paths, ['/first', '/last']);
  assert.equal(quitter.received.length, 0);
});

test('a queued client that resets its connection does not hold up the others', async (t) => {
  const { paths } = await quitterScenario(t, 'rst', []);
  assert.equal(paths[0], '/first');
  assert.equal(paths[paths.length - 1], '/last');
});
