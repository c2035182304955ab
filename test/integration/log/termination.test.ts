// Termination states and status codes in the httplog line, scenario by scenario, each compared
// with what haproxy 2.6 logs for the same configuration and the same client behaviour: no
// server (SC), refused server (SC), server timeout (sH), bad or reset responses (PH, SH),
// client aborts, a bad request (PR, <BADREQ>), `http-request return` (LR), request timeout
// (cR), a connection without a request, and `option dontlognull`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  freePorts,
  rawConnect,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';
import { HTTPLOG, fields, lineFor, linesFor, sleep, type Fields } from './lines.js';
import { deadAddr } from '../http/util.js';

const haveHaproxy = skipUnless('haproxy') === false;

const enum P {
  Fe = 0,
  NoSrv = 1,
  Refused = 2,
  Ret = 3,
  Quiet = 4,
  Abort = 5,
  Big = 6,
}

function config(ports: number[], origin: number, dead: string): string {
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 500ms
    timeout client 5s
    timeout server 400ms
    timeout http-request 300ms
    retries 1
frontend fe
    bind 127.0.0.1:${ports[P.Fe]}
    default_backend be
frontend nosrv
    bind 127.0.0.1:${ports[P.NoSrv]}
    default_backend empty
frontend refused
    bind 127.0.0.1:${ports[P.Refused]}
    default_backend dead
frontend ret
    bind 127.0.0.1:${ports[P.Ret]}
    http-request return status 200 content-type text/plain string "local"
frontend quiet
    bind 127.0.0.1:${ports[P.Quiet]}
    option dontlognull
    default_backend be
frontend abort
    bind 127.0.0.1:${ports[P.Abort]}
    option abortonclose
    default_backend be
frontend big
    bind 127.0.0.1:${ports[P.Big]}
    default_backend bigbe
backend be
    server s1 127.0.0.1:${origin}
# The origin builds a large body in memory first: that must not hit timeout server.
backend bigbe
    timeout server 10s
    server s1 127.0.0.1:${origin}
backend empty
backend dead
    server d1 ${dead}
`;
}

interface Peer {
  name: string;
  p: ProcHandle;
  ports: number[];
}

let origin: Origin;
const peers: Peer[] = [];

before(async () => {
  origin = await startOrigin('o1');
  // An address nothing else on the machine binds: a freed port could be taken by a concurrent test.
  const dead = await deadAddr();
  const start = async (name: string, fn: typeof startSluice): Promise<void> => {
    const ports = await freePorts(7);
    peers.push({ name, p: await fn(config(ports, origin.port, dead), { waitPorts: ports }), ports });
  };
  await start('sluice', startSluice);
  if (haveHaproxy) await start('haproxy', startHaproxy);
});

after(async () => {
  for (const peer of peers) await peer.p.stop();
  await origin?.close();
});

/** A client behaviour: runs against one frontend port, returns the client's source port. */
type Scenario = (port: number) => Promise<number>;

/** Sends `raw`, then ends the connection the way `how` says after `waitMs` (or on close). */
function raw(raw: string, how: 'wait' | 'fin' | 'rst', waitMs: number): Scenario {
  return async (port) => {
    const c = await rawConnect(port);
    const cp = c.socket.localPort!;
    if (raw) await c.write(raw);
    if (how === 'wait') await c.waitFor(() => false, waitMs);
    else {
      await sleep(waitMs);
      if (how === 'fin') c.end();
      else c.resetAndDestroy();
    }
    // Leave the FIN case half-open long enough for the proxy to act on it.
    if (how === 'fin') await c.waitFor(() => false, 1500);
    c.destroy();
    return cp;
  };
}

function get(path: string): Scenario {
  return async (port) => {
    const c = await HttpClient.connect(port);
    const cp = c.socket.localPort!;
    await c.request({ path }).catch(() => undefined);
    c.socket.destroy();
    return cp;
  };
}

/** Runs `scenario` on every peer at once; resolves with each peer's line for it. */
async function runAll(port: P, scenario: Scenario, timeoutMs = 3000): Promise<Map<string, Fields>> {
  const out = new Map<string, Fields>();
  await Promise.all(
    peers.map(async (peer) => {
      const mark = peer.p.mark();
      const cp = await scenario(peer.ports[port]!);
      out.set(peer.name, fields(HTTPLOG, await lineFor(peer.p, cp, timeoutMs, mark)));
    }),
  );
  return out;
}

/** Asserts the sluice line has `expect` and, when haproxy ran, that haproxy's agrees on them. */
function check(lines: Map<string, Fields>, expect: Partial<Fields>): void {
  const s = lines.get('sluice')!;
  const h = lines.get('haproxy');
  const pick = (f: Fields): Partial<Fields> => Object.fromEntries(Object.keys(expect).map((k) => [k, f[k]]));
  if (h) assert.deepEqual(pick(h), expect, 'haproxy itself logs this (the test expectation is wrong otherwise)');
  assert.deepEqual(pick(s), expect);
}

describe('termination states (httplog), sluice against haproxy', () => {
  test('normal request: ----', async () => {
    check(await runAll(P.Fe, get('/ok?size=10')), { ST: '200', tsc: '----', s: 's1' });
  });

  test('backend without servers: 503 SC--, <NOSRV>', async () => {
    check(await runAll(P.NoSrv, get('/nosrv')), { ST: '503', tsc: 'SC--', s: '<NOSRV>' });
  });

  test('server refusing connections: 503 SC-- after the retries', async () => {
    check(await runAll(P.Refused, get('/refused')), { ST: '503', tsc: 'SC--', s: 'd1', rc: '1' });
  });

  test('timeout server before the response: 504 sH--', async () => {
    check(await runAll(P.Fe, get('/slow?delay=2000')), { ST: '504', tsc: 'sH--' });
  });

  test('a response that is not HTTP: 502 PH--', async () => {
    check(await runAll(P.Fe, get('/bad?garbage=1')), { ST: '502', tsc: 'PH--' });
  });

  test('the server resets before answering: 502 SH--', async () => {
    check(await runAll(P.Fe, get('/reset?reset=1')), { ST: '502', tsc: 'SH--' });
  });

  test('a bad request: 400 PR--, <BADREQ>', async () => {
    const lines = await runAll(P.Fe, raw('GET / HTTP/1.1\r\nBad Header\r\n\r\n', 'wait', 2000));
    check(lines, { ST: '400', tsc: 'PR--', r: '<BADREQ>', s: '<NOSRV>' });
  });

  test('http-request return: LR--', async () => {
    check(await runAll(P.Ret, get('/local')), { ST: '200', tsc: 'LR--', s: '<NOSRV>' });
  });

  test('client closes (FIN) while the server works, no abortonclose: the exchange goes on', async () => {
    const lines = await runAll(P.Fe, raw('GET /abort?delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n', 'fin', 100));
    check(lines, { ST: '504', tsc: 'sH--' });
  });

  test('client resets while the server works, no abortonclose: the exchange goes on', async () => {
    const lines = await runAll(P.Fe, raw('GET /abort?delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n', 'rst', 100));
    check(lines, { ST: '504', tsc: 'sH--' });
  });

  test('client resets while the server works, no abortonclose: the response comes, nobody takes it: CD--', async () => {
    const lines = await runAll(P.Fe, raw('GET /abort?delay=250 HTTP/1.1\r\nHost: x\r\n\r\n', 'rst', 50));
    check(lines, { ST: '200', tsc: 'CD--', s: 's1' });
    // The server was not cut off: it had the time to answer (Tr counts its delay).
    for (const [name, f] of lines) assert.ok(Number(f.Tr) >= 200, `${name}: Tr ${f.Tr}`);
  });

  test('client closes (FIN) while the server works, with abortonclose', async () => {
    const lines = await runAll(P.Abort, raw('GET /abort?delay=1000 HTTP/1.1\r\nHost: x\r\n\r\n', 'fin', 100));
    check(lines, { ST: '504', tsc: 'sH--' });
  });

  test('client goes away in the middle of a large body: CD--', async () => {
    const lines = await runAll(P.Big, async (port) => {
      const c = await rawConnect(port);
      const cp = c.socket.localPort!;
      // Far more than the kernel buffers of the client side can hold.
      await c.write('GET /big?size=32000000 HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitBytes(100000, 8000);
      c.destroy();
      return cp;
    });
    check(lines, { ST: '200', tsc: 'CD--' });
  });

  test('timeout http-request on a partial request: 408 cR--, <BADREQ>', async () => {
    const lines = await runAll(P.Fe, raw('GET /part HTTP/1.1\r\nHo', 'wait', 2000));
    check(lines, { ST: '408', tsc: 'cR--', r: '<BADREQ>' });
  });

  test('timeout http-request on a partial request: one line only, even when the client closes later', async () => {
    const peer = peers.find((p) => p.name === 'sluice')!;
    const mark = peer.p.mark();
    const c = await rawConnect(peer.ports[P.Fe]!);
    const cp = c.socket.localPort!;
    await c.write('GET /part HTTP/1.1\r\nHo');
    await lineFor(peer.p, cp, 3000, mark);
    // The proxy sent its 408 and its FIN; we close our side only now.
    await c.waitFor(() => false, 1000);
    c.destroy();
    await sleep(300);
    assert.equal(linesFor(peer.p, cp).length, 1, linesFor(peer.p, cp).join('\n'));
  });

  test('client closes in the middle of the request head: 400 CR--', async () => {
    const lines = await runAll(P.Fe, raw('GET /part HTTP/1.1\r\nHo', 'fin', 50));
    check(lines, { ST: '400', tsc: 'CR--', r: '<BADREQ>' });
  });

  test('a connection closed without any request is logged: 400 CR--', async () => {
    const lines = await runAll(P.Fe, raw('', 'fin', 0), 1000);
    check(lines, { ST: '400', tsc: 'CR--', r: '<BADREQ>' });
  });

  test('a connection reset without any request is logged: 400 CR--', async () => {
    const lines = await runAll(P.Fe, raw('', 'rst', 0), 1000);
    check(lines, { ST: '400', tsc: 'CR--', r: '<BADREQ>' });
  });

  test('option dontlognull: a connection without a request is not logged', async () => {
    await Promise.all(
      peers.map(async (peer) => {
        const cp = await raw('', 'fin', 0)(peer.ports[P.Quiet]!);
        // Something else on the same frontend, to know the log is flowing.
        const mark = peer.p.mark();
        const c = await HttpClient.connect(peer.ports[P.Quiet]!);
        const cp2 = c.socket.localPort!;
        await c.request({ path: '/after' });
        c.socket.destroy();
        await lineFor(peer.p, cp2, 3000, mark);
        await sleep(200);
        assert.deepEqual(linesFor(peer.p, cp), [], `${peer.name} logged the null connection`);
      }),
    );
  });
});
