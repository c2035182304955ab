// Layer-7 retries towards HTTP/2 servers (`server ... proto h2`), each scenario run on sluice and
// on haproxy 2.6 with the same configuration: the server refuses the stream (RST_STREAM
// REFUSED_STREAM), says GOAWAY without having processed it (last stream 0) and closes, or drops the
// connection without a frame, each on the first attempt only. Under `retry-on
// all-retryable-errors` the client, HTTP/1.1 or HTTP/2, gets the answer of the retry, body intact.
// Under `retry-on conn-failure` alone sluice differs from haproxy 2.6 on purpose: a stream the
// server refused or left beyond its GOAWAY was not processed (RFC 9113 8.7), so sluice sends it
// again whatever retry-on says; and a connection dropped after the request went out gets a 502
// to an HTTP/2 client too, where 2.6 resets the client's stream with REFUSED_STREAM, which would
// tell the client the request was not processed when it may have been.
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type * as net from 'node:net';
import { after, before, describe } from 'node:test';
import { H2Client, request, type HttpResponse } from '../../harness/index.js';
import { frame, FrameType } from '../../harness/h2-frames.js';
import { startH2Peer, type H2EchoReport, type H2Peer, type H2PeerStream } from '../../harness/h2-peers.js';
import { lazySides, sideTest, type Side } from '../../harness/sides.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_NO_ERROR } = http2.constants;

type Failure = 'refuse' | 'goaway' | 'drop';

let peer: H2Peer;
/** Streams seen per path (query included): the failure hits the first one only. */
const attempts = new Map<string, number>();
/** The accepted sockets by client port: session.socket is a proxy that refuses destroy() and end(). */
const rawSockets = new Map<number, net.Socket>();

/** Fails the first stream of each path as its `fail` parameter says; answers the others. */
function onStream(ps: H2PeerStream): boolean {
  const path = String(ps.headers[':path'] ?? '');
  const n = (attempts.get(path) ?? 0) + 1;
  attempts.set(path, n);
  const fail = ps.query.get('fail') as Failure | null;
  if (n > 1 || fail === null) return false;
  const sess = ps.stream.session;
  const raw = rawSockets.get(sess?.socket?.remotePort ?? -1);
  switch (fail) {
    case 'refuse':
      ps.stream.close(NGHTTP2_REFUSED_STREAM);
      break;
    case 'goaway': {
      // Last stream 0: nothing on this connection was processed. node:http2 would put the last
      // stream it saw in place of 0, hence the raw frame, followed by our FIN.
      const payload = Buffer.alloc(8);
      payload.writeUInt32BE(0, 0);
      payload.writeUInt32BE(NGHTTP2_NO_ERROR, 4);
      raw?.end(frame(FrameType.GOAWAY, 0, 0, payload));
      break;
    }
    case 'drop':
      raw?.destroy();
      sess?.destroy();
      break;
  }
  return true;
}

before(async () => {
  peer = await startH2Peer({ onStream });
  peer.server.on('connection', (sock: net.Socket) => {
    const port = sock.remotePort ?? -1;
    rawSockets.set(port, sock);
    sock.once('close', () => {
      if (rawSockets.get(port) === sock) rawSockets.delete(port);
    });
  });
});

const sides = lazySides(
  `global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format "%ST %rc %b/%s %ts"
    timeout connect 300ms
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    use_backend %[path,field(2,/)]
backend all
    retry-on all-retryable-errors
    server s1 127.0.0.1:{{peer}} proto h2
backend conn
    retry-on conn-failure
    server s1 127.0.0.1:{{peer}} proto h2
`,
  () => ({ values: { peer: peer.port } }),
);

after(async () => {
  await sides.stop();
  await peer?.close();
});

const logOf = (be: string): RegExp => new RegExp(`^\\d{3} \\+?\\d+ ${be}/\\S+ \\S+$`);

interface Outcome {
  /** 0 when no answer came (connection closed, stream reset). */
  status: number;
  /** The echo of the answering stream, when it answered 200. */
  echo: H2EchoReport | null;
  /** RST_STREAM code of an HTTP/2 client's stream (0: none). */
  rstCode: number;
  log: string;
  /** Streams the server saw for this path. */
  attempts: number;
}

const BODY = 'retried body';
/**
 * How long a client waits for its answer: well under `timeout server` (10 s), so that a failure
 * the proxy does not notice (and would only end by the server timeout) fails the test.
 */
const PATIENCE = 4000;

/** POSTs BODY to `/<be>/<kind>/<label>?fail=<how>&echo=1` over HTTP/1.1 or HTTP/2 and collects what happened. */
async function exchange(side: Side, be: string, how: Failure, client: 'h1' | 'h2'): Promise<Outcome> {
  const path = `/${be}/${side.kind}/${client}-${how}?fail=${how}&echo=1`;
  const from = side.proc.mark();
  let status = 0;
  let text = '';
  let rstCode = 0;
  let gaveUp = false;
  if (client === 'h1') {
    const r = await request(side.port('fe'), { method: 'POST', path, body: BODY, timeoutMs: PATIENCE }).catch((e: Error) => e);
    if (!(r instanceof Error)) ({ status, text } = r as HttpResponse);
    else gaveUp = r.message.startsWith('no response within');
  } else {
    const c = await H2Client.connect(side.port('fe'));
    try {
      const r = await c.request({ method: 'POST', path, body: BODY, headers: [['content-length', String(BODY.length)]], timeoutMs: PATIENCE });
      status = r.status;
      text = r.body.toString();
      rstCode = r.rstCode;
      gaveUp = r.error?.startsWith('no end within') ?? false;
    } finally {
      c.destroy();
    }
  }
  // A client that gave up leaves a stream the proxy may log only at its server timeout.
  const log = await side.proc.waitForLine(logOf(be), gaveUp ? 500 : 5000, from).catch(() => '(no log line)');
  const echo = status === 200 ? (JSON.parse(text) as H2EchoReport) : null;
  return { status, echo, rstCode, log, attempts: attempts.get(path) ?? 0 };
}

function retried(o: Outcome, be: string, what: string): void {
  const ctx = `${what}: status ${o.status}, log '${o.log}', ${o.attempts} streams at the server`;
  assert.equal(o.status, 200, ctx);
  assert.equal(o.log, `200 1 ${be}/s1 --`, ctx);
  assert.equal(o.attempts, 2, ctx);
  assert.equal(o.echo!.bodyLength, BODY.length, 'the body arrived whole on the retry');
  assert.equal(o.echo!.method, 'POST');
}

describe('retry-on all-retryable-errors', () => {
  for (const how of ['refuse', 'goaway', 'drop'] as const) {
    for (const client of ['h1', 'h2'] as const) {
      sideTest(`${how} on the first attempt: the ${client === 'h1' ? 'HTTP/1.1' : 'HTTP/2'} client gets the retry's answer`, sides, async (side) => {
        retried(await exchange(side, 'all', how, client), 'all', how);
      });
    }
  }
});

// haproxy 2.6 retries none of them: the HTTP/1.1 client gets a 502, logged SH; the HTTP/2
// client's stream is reset with REFUSED_STREAM and nothing is logged (what haproxy-semantics.md
// 2.3 describes for a request that met a dead reused server connection). sluice: see the top.
describe('retry-on conn-failure only', () => {
  const labels: Record<Failure, string> = { refuse: 'REFUSED_STREAM', goaway: 'GOAWAY (last stream 0) and a close', drop: 'a dropped connection' };
  for (const how of ['refuse', 'goaway', 'drop'] as const) {
    const unprocessed = how !== 'drop';
    sideTest(`${labels[how]}, HTTP/1.1 client: ${unprocessed ? 'sluice sends it again, haproxy 2.6 answers 502' : 'not retried, 502 SH'}`, sides, async (side) => {
      const o = await exchange(side, 'conn', how, 'h1');
      if (unprocessed && side.kind === 'sluice') {
        retried(o, 'conn', how);
        return;
      }
      assert.equal(o.status, 502, o.log);
      assert.equal(o.log, '502 0 conn/s1 SH');
      assert.equal(o.attempts, 1);
    });

    sideTest(`${labels[how]}, HTTP/2 client: ${unprocessed ? 'sluice sends it again' : 'sluice answers 502'}, haproxy 2.6 resets the stream with REFUSED_STREAM`, sides, async (side) => {
      if (side.kind === 'sluice') {
        const o = await exchange(side, 'conn', how, 'h2');
        if (unprocessed) retried(o, 'conn', how);
        else {
          assert.equal(o.status, 502, o.log);
          assert.equal(o.log, '502 0 conn/s1 SH');
          assert.equal(o.attempts, 1);
        }
        return;
      }
      const path = `/conn/${side.kind}/h2-${how}?fail=${how}&echo=1`;
      const from = side.proc.mark();
      const c = await H2Client.connect(side.port('fe'));
      try {
        const r = await c.request({ method: 'POST', path, body: BODY, headers: [['content-length', String(BODY.length)]], timeoutMs: PATIENCE });
        assert.equal(r.status, 0, 'no response head');
        assert.equal(r.rstCode, NGHTTP2_REFUSED_STREAM);
        // The connection goes on: the next request is answered and is the only one logged.
        const next = await c.request({ path: `/conn/${side.kind}/h2-${how}-next` });
        assert.equal(next.status, 200);
      } finally {
        c.destroy();
      }
      await side.proc.waitForLine(logOf('conn'), 5000, from);
      const lines = side.proc.lines().slice(from).map((l) => l.text).filter((l) => logOf('conn').test(l));
      assert.deepEqual(lines, ['200 0 conn/s1 --']);
      assert.equal(attempts.get(path), 1);
    });
  }
});
