// The origin server's behaviours, one query parameter at a time, seen through the raw client.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  bodyPattern,
  headerValue,
  rawConnect,
  rawRequest,
  startOrigin,
  untilResponses,
  type EchoReport,
  type Origin,
} from '../../harness/index.js';

let origin: Origin;

before(async () => {
  origin = await startOrigin('o1');
});
after(async () => {
  await origin.close();
});

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('origin', () => {
  test('default answer: 200, empty body, X-Server, keep-alive', async () => {
    const r = await rawRequest(origin.port, get('/'));
    assert.equal(r.responses.length, 1);
    const m = r.responses[0]!;
    assert.equal(m.status, 200);
    assert.equal(headerValue(m.headers, 'x-server'), 'o1');
    assert.equal(headerValue(m.headers, 'content-length'), '0');
    assert.equal(headerValue(m.headers, 'connection'), undefined);
    assert.equal(r.closed, false);
  });

  test('status and size', async () => {
    const r = await rawRequest(origin.port, get('/?status=404&size=1000'));
    const m = r.responses[0]!;
    assert.equal(m.status, 404);
    assert.equal(m.reason, 'Not Found');
    assert.equal(m.framing, 'length');
    assert.deepEqual(m.body, bodyPattern(1000));
  });

  test('204 and HEAD have no body', async () => {
    const r = await rawRequest(origin.port, [get('/?status=204&size=10'), 'HEAD /?size=10 HTTP/1.1\r\nHost: x\r\n\r\n'], {
      methods: ['GET', 'HEAD'],
      until: untilResponses(2, ['GET', 'HEAD']),
    });
    assert.equal(r.responses.length, 2);
    assert.equal(r.responses[0]!.status, 204);
    assert.equal(headerValue(r.responses[0]!.headers, 'content-length'), undefined);
    assert.equal(headerValue(r.responses[1]!.headers, 'content-length'), '10');
    assert.equal(r.responses[1]!.body.length, 0);
  });

  test('chunked=1 with chunk size', async () => {
    const r = await rawRequest(origin.port, get('/?chunked=1&size=10000&chunk=3000'));
    const m = r.responses[0]!;
    assert.equal(m.framing, 'chunked');
    assert.deepEqual(m.body, bodyPattern(10000));
    assert.match(r.text, /\r\nbb8\r\n/);
    assert.match(r.text, /\r\n3e8\r\n/);
    assert.ok(r.text.endsWith('0\r\n\r\n'));
  });

  test('close=1 sends Connection: close and closes', async () => {
    const r = await rawRequest(origin.port, get('/?close=1&size=5'), { until: () => false });
    assert.equal(r.closed, true);
    assert.equal(r.timedOut, false);
    assert.equal(headerValue(r.responses[0]!.headers, 'connection'), 'close');
    assert.equal(r.responses[0]!.body.length, 5);
  });

  test('noclen=1 sends a close-delimited body', async () => {
    const r = await rawRequest(origin.port, get('/?noclen=1&size=3000'), { until: () => false });
    assert.equal(r.closed, true);
    const m = r.responses[0]!;
    assert.equal(m.framing, 'close');
    assert.equal(headerValue(m.headers, 'content-length'), undefined);
    assert.equal(headerValue(m.headers, 'transfer-encoding'), undefined);
    assert.deepEqual(m.body, bodyPattern(3000));
  });

  test('delay=MS waits before answering', async () => {
    const t0 = Date.now();
    const r = await rawRequest(origin.port, get('/?delay=200'));
    assert.equal(r.responses[0]!.status, 200);
    assert.ok(Date.now() - t0 >= 190, 'answered too early');
  });

  test('hdr= adds headers, repeatable', async () => {
    const r = await rawRequest(origin.port, get('/?hdr=X-A:1&hdr=Cache-Control:no-cache&hdr=X-A:2'));
    const h = r.responses[0]!.headers;
    assert.deepEqual(h.filter(([n]) => n === 'X-A').map(([, v]) => v), ['1', '2']);
    assert.equal(headerValue(h, 'cache-control'), 'no-cache');
  });

  test('echo=1 reports method, uri, header case, body length and hash (content-length)', async () => {
    const body = Buffer.from('x'.repeat(5000));
    const r = await rawRequest(
      origin.port,
      `POST /p?echo=1 HTTP/1.1\r\nHost: x\r\nX-MiXeD-Case: v\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const e = JSON.parse(r.responses[0]!.body.toString()) as EchoReport;
    assert.equal(e.method, 'POST');
    assert.equal(e.uri, '/p?echo=1');
    assert.equal(e.version, 'HTTP/1.1');
    assert.deepEqual(e.headers[1], ['X-MiXeD-Case', 'v']);
    assert.equal(e.framing, 'length');
    assert.equal(e.bodyLength, 5000);
    assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(e.server, 'o1');
  });

  test('echo=1 with a chunked request body and trailers', async () => {
    const r = await rawRequest(
      origin.port,
      'PUT /?echo=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n',
    );
    const e = JSON.parse(r.responses[0]!.body.toString()) as EchoReport;
    assert.equal(e.framing, 'chunked');
    assert.equal(e.bodyLength, 5);
    assert.equal(e.bodySha256, createHash('sha256').update('abcde').digest('hex'));
    assert.deepEqual(e.trailers, [['X-T', '1']]);
  });

  test('garbage=1 sends non-HTTP bytes and closes', async () => {
    const r = await rawRequest(origin.port, get('/?garbage=1'), { until: () => false });
    assert.equal(r.closed, true);
    assert.ok(r.data.length > 0);
    assert.ok(!r.text.startsWith('HTTP/'));
  });

  test('reset=1 resets the connection', async () => {
    const r = await rawRequest(origin.port, get('/?reset=1'), { until: () => false });
    assert.equal(r.closed, true);
    assert.equal(r.reset, true);
    assert.equal(r.data.length, 0);
  });

  test('hang=1 never answers', async () => {
    const r = await rawRequest(origin.port, get('/?hang=1'), { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.data.length, 0);
  });

  test('100=1 sends 100 Continue before the body arrives', async () => {
    const c = await rawConnect(origin.port);
    await c.write('POST /?100=1&echo=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
    await c.waitFor((d) => d.includes('\r\n\r\n'), 2000);
    assert.equal(c.text(), 'HTTP/1.1 100 Continue\r\n\r\n');
    await c.write('data');
    await c.waitFor(untilResponses(1, ['POST']), 2000);
    const rs = c.responses(['POST']);
    assert.deepEqual(rs.map((m) => m.status), [100, 200]);
    assert.equal((JSON.parse(rs[1]!.body.toString()) as EchoReport).bodyLength, 4);
    c.destroy();
  });

  test('pipelined requests are answered in order, even with delays', async () => {
    const r = await rawRequest(
      origin.port,
      get('/a?delay=100&size=1') + get('/b?size=2') + get('/c?chunked=1&size=3'),
      { until: untilResponses(3) },
    );
    assert.deepEqual(r.responses.map((m) => m.body.length), [1, 2, 3]);
  });

  test('HTTP/1.0 closes unless keep-alive was asked', async () => {
    const r = await rawRequest(origin.port, 'GET / HTTP/1.0\r\n\r\n', { until: () => false });
    assert.equal(r.closed, true);
    const c = await HttpClient.connect(origin.port);
    const res = await c.request({ version: 'HTTP/1.0', headers: { Connection: 'keep-alive' } });
    assert.equal(res.header('connection'), 'keep-alive');
    assert.equal((await c.request({ path: '/?size=3' })).body.length, 3);
    await c.close();
  });

  test('a malformed request gets 400 and is recorded as an error', async () => {
    const before = origin.errors.length;
    const r = await rawRequest(origin.port, 'GET / HTTP/1.1\r\nbad header line\r\n\r\n', { until: () => false });
    assert.equal(r.responses[0]!.status, 400);
    assert.equal(r.closed, true);
    assert.equal(origin.errors.length, before + 1);
  });

  test('counts requests and connections and records requests', async () => {
    const o = await startOrigin('counter');
    try {
      const c = await HttpClient.connect(o.port);
      await c.request({ path: '/one' });
      await c.request({ path: '/two', method: 'POST', body: 'hi', headers: [['x-lower', 'a']] });
      await o.waitFor((x) => x.connectionsOpen === 1);
      assert.equal(o.requestCount, 2);
      assert.equal(o.connectionsTotal, 1);
      assert.deepEqual(o.requests.map((r) => [r.path, r.conn, r.seq]), [['/one', 1, 1], ['/two', 1, 2]]);
      assert.equal(o.requests[1]!.body.toString(), 'hi');
      assert.deepEqual(o.requests[1]!.headers[1], ['x-lower', 'a']);
      await c.close();
      await o.waitFor((x) => x.connectionsOpen === 0);
      await rawRequest(o.port, get('/'));
      await o.waitFor((x) => x.connectionsTotal === 2 && x.connectionsOpen === 0);
    } finally {
      await o.close();
    }
  });

  test('a client half-close still gets pending answers', async () => {
    const r = await rawRequest(origin.port, get('/?delay=50&size=7'), { end: true, until: () => false });
    assert.equal(r.responses.length, 1);
    assert.equal(r.responses[0]!.body.length, 7);
    assert.equal(r.closed, true);
  });
});
