// Failure mode #2 (design.md): a request body larger than one buffer, from an HTTP/1.1 client to
// an HTTP/2 server, never gets END_STREAM; the server waits for the rest of the body, and the
// client gets a 504 once `timeout server` expires. Here the servers answer only after the request
// ended: a node:http2 server that answers on the stream's 'end', and haproxy 2.6 bound with
// `proto h2` in front of an HTTP/1.1 echo origin (which answers only a complete request). POSTs of
// 100 KB and 1 MB, with content-length and chunked, must get their 200 with the right byte count
// long before `timeout server` (30 s; each exchange is bounded at 10 s). The same scenario runs
// with haproxy as the proxy, as a reference.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  bodyPattern,
  buildRequest,
  freePorts,
  HttpClient,
  rawRequest,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type EchoReport,
  type Origin,
  type ProcHandle,
} from '../harness/index.js';
import { startH2Peer, type H2EchoReport, type H2Peer } from '../harness/h2-peers.js';

type Starter = (cfg: string, opts: { waitPorts: number[] }) => Promise<ProcHandle>;

const programs: Array<{ name: string; start: Starter; skip: string | false }> = [
  { name: 'sluice', start: startSluice, skip: false },
  { name: 'haproxy', start: startHaproxy, skip: skipUnless('haproxy') },
];

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const SIZES: Array<[string, number]> = [
  ['100 KB', 100 * 1024],
  ['1 MB', 1024 * 1024],
];

/** The two HTTP/2 servers, shared by both proxies. */
let origin: Origin;
let peer: H2Peer;
let h2Haproxy: ProcHandle | null = null;
let h2HaproxyPort = 0;

before(async () => {
  origin = await startOrigin('echo');
  peer = await startH2Peer();
  if (skipUnless('haproxy') === false) {
    [h2HaproxyPort] = (await freePorts(1)) as [number];
    h2Haproxy = await startHaproxy(
      `defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend h2in
    bind 127.0.0.1:${h2HaproxyPort} proto h2
    default_backend echo
backend echo
    server echo 127.0.0.1:${origin.port}
`,
      { waitPorts: [h2HaproxyPort] },
    );
  }
});

after(async () => {
  await h2Haproxy?.stop();
  await peer?.close();
  await origin?.close();
});

for (const prog of programs) {
  describe(`${prog.name}: HTTP/1.1 request bodies larger than a buffer end their HTTP/2 stream`, { skip: prog.skip }, () => {
    let proxy: ProcHandle;
    const fe = { node: 0, haproxy: 0 };

    before(async () => {
      const [a, b] = (await freePorts(2)) as [number, number];
      fe.node = a;
      fe.haproxy = b;
      proxy = await prog.start(
        `defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend to_node
    bind 127.0.0.1:${a}
    default_backend node_h2
frontend to_haproxy
    bind 127.0.0.1:${b}
    default_backend haproxy_h2
backend node_h2
    server n 127.0.0.1:${peer.port} proto h2
backend haproxy_h2
    server h 127.0.0.1:${h2HaproxyPort || 1} proto h2
`,
        { waitPorts: [a, b] },
      );
    });
    after(() => proxy?.stop());

    describe('uploads', { concurrency: 4 }, () => {
      for (const server of ['node', 'haproxy'] as const) {
        const skip = server === 'haproxy' ? skipUnless('haproxy') : false;
        for (const [label, size] of SIZES) {
          for (const chunked of [false, true]) {
            const name = `POST ${label} ${chunked ? 'chunked' : 'with content-length'} to ${server === 'node' ? 'a node:http2' : 'an haproxy 2.6'} server`;
            test(name, { skip, timeout: 20000 }, async () => {
              const body = bodyPattern(size);
              const c = await HttpClient.connect(fe[server]);
              try {
                // Twice on one client connection: the second goes over a reused server connection.
                for (const round of [1, 2]) {
                  const started = Date.now();
                  // 10 s: a third of `timeout server`; a missing END_STREAM shows as no answer here.
                  const r = await c.request({
                    method: 'POST',
                    path: `/upload-${size}-${chunked ? 'chunked' : 'cl'}-${round}?echo=1`,
                    body,
                    ...(chunked ? { chunked: 8192 } : {}),
                    timeoutMs: 10000,
                  });
                  assert.notEqual(r.status, 504, 'the server never saw the end of the request');
                  assert.equal(r.status, 200);
                  const rep = JSON.parse(r.text) as EchoReport | H2EchoReport;
                  assert.equal(rep.bodyLength, size, 'bytes received by the server');
                  assert.equal(rep.bodySha256, sha(body));
                  assert.ok(Date.now() - started < 10000);
                }
              } finally {
                await c.close();
              }
            });
            // The body trickles in after the request went to the server, so its end comes on its own.
            test(`${name}, sent in 4 parts 30 ms apart`, { skip, timeout: 20000 }, async () => {
              const body = bodyPattern(size);
              const bytes = buildRequest(fe[server], {
                method: 'POST',
                path: `/upload-${size}-${chunked ? 'chunked' : 'cl'}-slow?echo=1`,
                headers: { Connection: 'close' },
                body,
                ...(chunked ? { chunked: 8192 } : {}),
              });
              const q = Math.ceil(bytes.length / 4);
              const parts = [0, 1, 2, 3].map((i) => bytes.subarray(i * q, (i + 1) * q));
              const r = await rawRequest(fe[server], parts, { pauseMs: 30, timeoutMs: 10000 });
              const res = r.responses[0];
              assert.ok(res, `no answer within 10 s (timed out: ${r.timedOut}): ${r.text.slice(0, 200)}`);
              assert.notEqual(res.status, 504, 'the server never saw the end of the request');
              assert.equal(res.status, 200);
              const rep = JSON.parse(res.body.toString()) as EchoReport | H2EchoReport;
              assert.equal(rep.bodyLength, size, 'bytes received by the server');
              assert.equal(rep.bodySha256, sha(body));
            });
          }
        }
      }
    });

    test('the node:http2 server saw END_STREAM on every stream', async () => {
      // Streams are recorded when they close, just after the answer left.
      await peer.waitFor((p) => p.requests.filter((r) => r.path.startsWith('/upload-')).length === SIZES.length * 2 * 3, 'every stream closed');
      const mine = peer.requests.filter((r) => r.path.startsWith('/upload-'));
      for (const r of mine) assert.ok(r.ended && r.rstCode === 0, `${r.path}: no END_STREAM (reset ${r.rstCode})`);
      peer.requests.length = 0;
    });
  });
}
