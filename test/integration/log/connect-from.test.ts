// The "Connect from" line of a frontend that logs without a log format (no option httplog or
// tcplog): HAProxy writes it when a stream starts. In HTTP that is once per request, over HTTP/1
// keep-alive and HTTP/2 alike, and never for a connection that did not send a whole request head;
// in TCP, once per connection. Compared with haproxy 2.6 on the same configuration.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { rawRequest, skipUnless } from '../../harness/index.js';
import { h2load } from '../../harness/h2.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';
import { sleep, until } from '../http/util.js';

const CONFIG = `global
    log stdout format raw local0
defaults
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    mode http
    bind 127.0.0.1:{{port:web}}
    http-request return status 200 content-type text/plain string ok
listen tcp
    mode tcp
    bind 127.0.0.1:{{port:tcp}}
    server nowhere 127.0.0.1:1
`;

const sides = lazySides(CONFIG);
after(() => sides.stop());

const CONNECT = /^Connect from 127\.0\.0\.1:(\d+) to 127\.0\.0\.1:(\d+) \((\w+)\/(HTTP|TCP)\)$/;

/**
 * The "Connect from" lines of frontend `fe` written so far, each as [client port, frontend/mode].
 * (The harness's readiness probes make lines too, possibly late: each test counts its own
 * frontend's, and the tests of one frontend run one after the other.)
 */
function connectLines(side: Side, fe: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const l of side.proc.lines()) {
    const m = CONNECT.exec(l.text);
    if (m && m[3] === fe) out.push([Number(m[1]), `${m[3]}/${m[4]}`]);
  }
  return out;
}

/** Waits for `n` more lines than `before`, then a little longer to see that no other comes. */
async function newLines(side: Side, fe: string, before: number, n: number): Promise<Array<[number, string]>> {
  await until(() => connectLines(side, fe).length >= before + n, 5000, `${before + n} Connect lines on ${side.kind}`);
  await sleep(200);
  return connectLines(side, fe).slice(before);
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

sideTest('HTTP/1: one line per request on a keep-alive connection, none for empty or unfinished ones', sides, async (side) => {
  const port = side.port('web');
  const before = connectLines(side, 'web').length;
  // Nothing sent, half a request head, then a request line that is not HTTP: no stream, no line.
  await rawRequest(port, '', { timeoutMs: 300, end: true });
  await rawRequest(port, 'GET / HT', { timeoutMs: 300 });
  const bad = await rawRequest(port, 'GARBAGE\r\n\r\n', { timeoutMs: 2000 });
  assert.equal(bad.responses[0]?.status, 400);
  // Two requests on one connection: two lines with the same client port.
  const r = await rawRequest(port, GET + GET, { until: (d) => d.toString('latin1').split('HTTP/1.1 200').length > 2 });
  assert.equal(r.responses.length, 2);
  const lines = await newLines(side, 'web', before, 2);
  assert.equal(lines.length, 2, JSON.stringify(lines));
  assert.equal(lines[0]![0], lines[1]![0]);
  assert.deepEqual(lines.map((l) => l[1]), ['web/HTTP', 'web/HTTP']);
});

sideTest('HTTP/2: one line per stream', sides, async (side, t) => {
  const missing = skipUnless('h2load');
  if (missing !== false) return t.skip(missing);
  const before = connectLines(side, 'web').length;
  const r = await h2load(['-n', '3', '-c', '1', '-m', '1', `http://127.0.0.1:${side.port('web')}/`]);
  assert.equal(r.succeeded, 3);
  const lines = await newLines(side, 'web', before, 3);
  assert.equal(lines.length, 3, JSON.stringify(lines));
  assert.equal(new Set(lines.map((l) => l[0])).size, 1, 'all from the one connection');
});

sideTest('TCP: one line per connection, even one that sends nothing', sides, async (side) => {
  const before = connectLines(side, 'tcp').length;
  await rawRequest(side.port('tcp'), '', { timeoutMs: 300, end: true });
  const lines = await newLines(side, 'tcp', before, 1);
  assert.deepEqual(lines.map((l) => l[1]), ['tcp/TCP']);
});
