// `option tcplog` on a `mode tcp` frontend: the layout of the line field by field, and the
// termination states for the usual endings, each compared with haproxy 2.6 for the same config.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  freePorts,
  rawConnect,
  skipUnless,
  startHaproxy,
  startRawServer,
  startSluice,
  type ProcHandle,
  type RawServer,
} from '../../harness/index.js';
import { TCPLOG, fields, lineFor, parseLogDate, sleep, type Fields } from './lines.js';
import { deadAddr } from '../http/util.js';

const haveHaproxy = skipUnless('haproxy') === false;

const enum P {
  Echo = 0,
  Dead = 1,
  Closer = 2,
}

function config(ports: number[], echo: number, dead: string, closer: number): string {
  return `global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 500ms
    timeout client 300ms
    timeout server 5s
    retries 1
frontend fe
    bind 127.0.0.1:${ports[P.Echo]}
    default_backend be
frontend fe2
    bind 127.0.0.1:${ports[P.Dead]}
    default_backend dead
frontend fe3
    bind 127.0.0.1:${ports[P.Closer]}
    default_backend closer
backend be
    server s1 127.0.0.1:${echo}
backend dead
    server d1 ${dead}
backend closer
    server c1 127.0.0.1:${closer}
`;
}

interface Peer {
  name: string;
  p: ProcHandle;
  ports: number[];
}

const peers: Peer[] = [];
let echo: RawServer;
let closer: RawServer;

before(async () => {
  echo = await startRawServer((c) => {
    c.socket.on('data', (d: Buffer) => c.socket.write(d));
    c.socket.on('end', () => c.socket.end());
  });
  closer = await startRawServer((c) => {
    c.socket.end('bye');
  });
  // An address nothing else on the machine binds: a freed port could be taken by a concurrent test.
  const dead = await deadAddr();
  const start = async (name: string, fn: typeof startSluice): Promise<void> => {
    const ports = await freePorts(3);
    const p = await fn(config(ports, echo.port, dead, closer.port), { waitPorts: ports });
    // The readiness probe on the frontend whose server refuses lives through a connection retry;
    // its line must be out before a test counts concurrent connections (%ac).
    await p.waitForLine((l: string) => l.includes(' dead/d1 '), 8000);
    peers.push({ name, p, ports });
  };
  await start('sluice', startSluice);
  if (haveHaproxy) await start('haproxy', startHaproxy);
});

after(async () => {
  for (const peer of peers) await peer.p.stop();
  await echo?.close();
  await closer?.close();
});

type Scenario = (port: number) => Promise<number>;

/** Runs `scenario` on every peer at once; resolves with each peer's line for it. */
async function runAll(port: P, scenario: Scenario, timeoutMs = 3000): Promise<Map<string, Fields>> {
  const out = new Map<string, Fields>();
  await Promise.all(
    peers.map(async (peer) => {
      const mark = peer.p.mark();
      const cp = await scenario(peer.ports[port]!);
      out.set(peer.name, fields(TCPLOG, await lineFor(peer.p, cp, timeoutMs, mark)));
    }),
  );
  return out;
}

function check(lines: Map<string, Fields>, expect: Partial<Fields>): void {
  const pick = (f: Fields): Partial<Fields> => Object.fromEntries(Object.keys(expect).map((k) => [k, f[k]]));
  const h = lines.get('haproxy');
  if (h) assert.deepEqual(pick(h), expect, 'haproxy itself logs this (the test expectation is wrong otherwise)');
  assert.deepEqual(pick(lines.get('sluice')!), expect);
}

/** Writes `hello`, waits for the echo, then ends as `how` says. */
function echoThen(how: 'fin' | 'rst' | 'idle'): Scenario {
  return async (port) => {
    const c = await rawConnect(port);
    const cp = c.socket.localPort!;
    await c.write('hello');
    assert.equal(await c.waitBytes(5, 3000), true);
    if (how === 'fin') c.end();
    if (how === 'rst') c.resetAndDestroy();
    else await c.waitFor(() => false, 2000);
    c.destroy();
    return cp;
  };
}

describe('option tcplog', () => {
  test('a normal connection: every field of the line in HAProxy\'s layout', async () => {
    const peer = peers[0]!;
    const at = Date.now();
    const mark = peer.p.mark();
    const cp = await echoThen('fin')(peer.ports[P.Echo]!);
    const f = fields(TCPLOG, await lineFor(peer.p, cp, 3000, mark));
    assert.equal(f.ci, '127.0.0.1');
    assert.equal(f.cp, String(cp));
    const date = parseLogDate(f.date!);
    assert.ok(date >= at - 1000 && date <= Date.now() + 1000, `date ${f.date} is not now`);
    assert.equal(f.ft, 'fe');
    assert.equal(`${f.b}/${f.s}`, 'be/s1');
    const [Tw, Tc, Tt] = [f.Tw, f.Tc, f.Tt].map(Number) as [number, number, number];
    assert.ok(Tw >= 0 && Tc >= 0 && Tt >= Tw + Tc, `timers ${f.Tw}/${f.Tc}/${f.Tt}`);
    assert.equal(f.B, '5', 'bytes sent to the client');
    assert.equal(f.ts, '--');
    assert.equal(`${f.ac}/${f.fc}/${f.bc}/${f.sc}/${f.rc}`, '1/1/0/0/0');
    assert.equal(`${f.sq}/${f.bq}`, '0/0');
  });

  test('termination: client closes after the exchange: --', async () => {
    check(await runAll(P.Echo, echoThen('fin')), { ts: '--', B: '5', s: 's1' });
  });

  test('termination: the server closes first: --', async () => {
    const lines = await runAll(P.Closer, async (port) => {
      const c = await rawConnect(port);
      const cp = c.socket.localPort!;
      await c.waitFor(() => false, 2000);
      c.destroy();
      return cp;
    });
    check(lines, { ts: '--', B: '3', s: 'c1' });
  });

  test('termination: timeout client on an idle connection: cD', async () => {
    check(await runAll(P.Echo, echoThen('idle')), { ts: 'cD', B: '5' });
  });

  test('termination: client reset after the exchange: CD', async () => {
    check(await runAll(P.Echo, echoThen('rst')), { ts: 'CD', B: '5' });
  });

  test('termination: server refusing: SC, with the retry counted', async () => {
    const lines = await runAll(P.Dead, async (port) => {
      const c = await rawConnect(port);
      const cp = c.socket.localPort!;
      await c.write('hello');
      await c.waitFor(() => false, 3000);
      c.destroy();
      return cp;
    });
    check(lines, { ts: 'SC', Tc: '-1', B: '0', rc: '1', s: 'd1' });
  });

  test('a connection reset right after accept: the client address is logged', { todo: 'sluice may log "-:-": Node reads the peer address lazily, after the reset (src/mux/tcp.ts)' }, async () => {
    const lines = await runAll(P.Echo, async (port) => {
      const c = await rawConnect(port);
      const cp = c.socket.localPort!;
      c.resetAndDestroy();
      return cp;
    }, 1000);
    check(lines, { ci: '127.0.0.1', ts: 'CD' });
  });

  test('a connection closed (FIN) right after accept, without data: --', async () => {
    const lines = await runAll(P.Echo, async (port) => {
      const c = await rawConnect(port);
      const cp = c.socket.localPort!;
      c.end();
      await c.waitFor(() => false, 1000);
      c.destroy();
      await sleep(10);
      return cp;
    });
    check(lines, { ts: '--' });
  });
});
