// The rise/fall machine of health checks, on sluice and haproxy 2.6 with the same configuration:
// a server whose check answers change from one check to the next (a queue of answers), and what
// follows in the log (`option log-health-checks` lines with "status: X/Y UP|DOWN", "is DOWN",
// "is UP", "is stopping"), in the traffic (503 while no server takes it), in the spacing of the
// checks (inter while fully up, fastinter in transitions, downinter while fully down) and in the
// `x-haproxy-server-state` header of `http-check send-state`. `init-state` (HAProxy 3.1+, unknown
// to 2.6) is tested on sluice alone, against HAProxy's documentation of it.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type { TestContext } from 'node:test';
import { describe } from 'node:test';
import { request } from '../../harness/index.js';
import { healthLines, kindTest, startSequenceServer, waitHealth, type CheckAnswer, type SequenceServer } from '../../harness/checks.js';
import { lazySides, type Side, type SideKind } from '../../harness/sides.js';

const OK = (status: string): string => `Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: ${status}.`;
const FAIL500 = (status: string): string =>
  `Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: ${status}.`;
const IS_DOWN = 'Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
const NO_SERVER = 'backend be has no server available!';
const IS_UP = 'Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.';

interface Running {
  side: Side;
  srv: SequenceServer;
  lines(): string[];
}

/** A proxy of `kind` checking one sequence server with `GET /health`. */
async function start(kind: SideKind, t: TestContext, o: { backend?: string; server: string; answers: CheckAnswer[] }): Promise<Running> {
  const srv = await startSequenceServer('/health', o.answers);
  t.after(() => srv.close());
  const config = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option log-health-checks
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    # Without it a check would have only inter (100 ms) in all: too little on a loaded machine.
    timeout check 1s
frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend be
backend be
    option httpchk GET /health
${(o.backend ?? '')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => `    ${l}\n`)
  .join('')}    server s1 127.0.0.1:{{srv}} check ${o.server}
`;
  const sides = lazySides(config, () => ({ values: { srv: srv.port } }));
  t.after(() => sides.stop());
  const side = await sides.side(kind);
  return { side, srv, lines: () => healthLines(side.proc, { be: 'be' }) };
}

/** The status a request through the frontend gets. */
async function traffic(side: Side): Promise<number> {
  const r = await request(side.port('fe'), { path: '/traffic', timeoutMs: 3000 });
  return r.status;
}

/** Waits until the server received `n` checks (bounded). */
async function waitChecks(srv: SequenceServer, n: number, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (srv.checks().length < n) {
    if (Date.now() > end) throw new Error(`${srv.checks().length} of ${n} checks within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rise and fall', { concurrency: 6 }, () => {
  kindTest('fall 3: three failures from full health take the server DOWN, rise 2 successes bring it UP', async (kind, t) => {
    const r = await start(kind, t, { server: 'inter 100 rise 2 fall 3', answers: [200, 500] });
    await waitHealth(r.side.proc, NO_SERVER);
    assert.equal(await traffic(r.side), 503);
    r.srv.set(200);
    await waitHealth(r.side.proc, IS_UP);
    assert.equal(await traffic(r.side), 200);
    assert.deepEqual(r.lines(), [OK('3/3 UP'), FAIL500('2/3 UP'), FAIL500('1/3 UP'), FAIL500('0/2 DOWN'), IS_DOWN, NO_SERVER, OK('1/2 DOWN'), OK('3/3 UP'), IS_UP]);
  });

  kindTest('a success while falling restores full health; a failure while rising starts over', async (kind, t) => {
    const r = await start(kind, t, { server: 'inter 100 rise 2 fall 3', answers: [200, 500, 200, 500, 500, 500, 200, 500, 200, 200] });
    await waitHealth(r.side.proc, IS_UP);
    assert.deepEqual(r.lines(), [
      OK('3/3 UP'),
      FAIL500('2/3 UP'),
      OK('3/3 UP'),
      FAIL500('2/3 UP'),
      FAIL500('1/3 UP'),
      FAIL500('0/2 DOWN'),
      IS_DOWN,
      NO_SERVER,
      OK('1/2 DOWN'),
      FAIL500('0/2 DOWN'),
      OK('1/2 DOWN'),
      OK('3/3 UP'),
      IS_UP,
    ]);
  });

  kindTest('rise 1 fall 1: one result is enough either way', async (kind, t) => {
    const r = await start(kind, t, { server: 'inter 100 rise 1 fall 1', answers: [200, 500, 200] });
    await waitHealth(r.side.proc, 'is UP');
    assert.deepEqual(r.lines(), [
      OK('1/1 UP'),
      FAIL500('0/1 DOWN'),
      IS_DOWN,
      NO_SERVER,
      OK('1/1 UP'),
      IS_UP,
    ]);
  });

  kindTest('inter while fully up, fastinter in transitions, downinter while fully down', async (kind, t) => {
    const r = await start(kind, t, { server: 'inter 1500 fastinter 100 downinter 600 rise 2 fall 3', answers: [200, 500, 500, 500, 500, 500, 200, 200] });
    await waitChecks(r.srv, 9);
    const at = r.srv.checks().map((c) => c.at);
    const gaps = at.slice(1, 9).map((x, i) => x - at[i]!);
    t.diagnostic(`${kind}: gaps between checks ${gaps.join(', ')} ms`);
    // Checks 1: 200 (full health), 2-6: 500 (2/3, 1/3, DOWN, DOWN, DOWN), 7-8: 200 (1/2, UP).
    // The interval after a check depends on the health it left: inter after 1 and 8, fastinter
    // after 2, 3 (falling) and 7 (rising), downinter after 4, 5, 6 (health 0).
    assert.ok(gaps[0]! >= 1490, `inter after full health: ${gaps[0]} ms`);
    for (const i of [1, 2, 6]) assert.ok(gaps[i]! < 590, `fastinter after check ${i + 1}: ${gaps[i]} ms`);
    for (const i of [3, 4, 5]) assert.ok(gaps[i]! >= 590 && gaps[i]! < 1490, `downinter after check ${i + 1}: ${gaps[i]} ms`);
    assert.ok(gaps[7]! >= 1490, `inter after coming back UP: ${gaps[7]} ms`);
  });
});

describe('disable-on-404', { concurrency: 4 }, () => {
  kindTest('a 404 makes the server stopping (no new traffic), a 200 brings it back UP', async (kind, t) => {
    const r = await start(kind, t, { backend: 'http-check disable-on-404', server: 'inter 100', answers: [200] });
    await waitHealth(r.side.proc, 'succeeded');
    assert.equal(await traffic(r.side), 200);
    r.srv.set(404);
    await waitHealth(r.side.proc, / is stopping/);
    assert.equal(await traffic(r.side), 503);
    r.srv.set(200);
    await waitHealth(r.side.proc, IS_UP);
    assert.equal(await traffic(r.side), 200);
    assert.deepEqual(r.lines(), [
      OK('3/3 UP'),
      // "conditionally succeeded", and no info (the reason phrase is not kept for L7OKC).
      'Health check for server be/s1 conditionally succeeded, reason: Layer7 check conditionally passed, code: 404, check duration: Nms, status: 3/3 UP.',
      'Server be/s1 is stopping. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
      NO_SERVER,
      OK('3/3 UP'),
      IS_UP,
    ]);
  });

  kindTest('a 404 does not bring a DOWN server back', async (kind, t) => {
    const r = await start(kind, t, { backend: 'http-check disable-on-404', server: 'inter 100', answers: [(c) => c.end(), 404] });
    await waitChecks(r.srv, 6);
    assert.equal(await traffic(r.side), 503);
    assert.deepEqual(r.lines(), [
      'Health check for server be/s1 failed, reason: Layer7 invalid response, check duration: Nms, status: 0/2 DOWN.',
      IS_DOWN,
      NO_SERVER,
      'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 404, info: "Not Found", check duration: Nms, status: 0/2 DOWN.',
    ]);
  });
});

describe('send-state', { concurrency: 4 }, () => {
  kindTest('x-haproxy-server-state follows the health of the server', async (kind, t) => {
    const r = await start(kind, t, { backend: 'http-check send-state', server: 'inter 100 rise 2 fall 3', answers: [200, 500, 500, 500, 200, 200] });
    await waitHealth(r.side.proc, IS_UP);
    await waitChecks(r.srv, 7);
    const states = r.srv
      .checks()
      .slice(0, 7)
      .map((c) => (c.header('x-haproxy-server-state') ?? '(none)').replace(/scur=\d+\/\d+/, 'scur=N/N'));
    const rest = `address=127.0.0.1; port=${r.srv.port}; name=be/s1; node=${hostname()}`;
    assert.deepEqual(states, [
      `UP 1/3; ${rest}; weight=1/1; scur=N/N; qcur=0`,
      `UP; ${rest}; weight=1/1; scur=N/N; qcur=0`,
      `UP 2/3; ${rest}; weight=1/1; scur=N/N; qcur=0`,
      `UP 1/3; ${rest}; weight=1/1; scur=N/N; qcur=0`,
      `DOWN; ${rest}; weight=1/0; scur=N/N; qcur=0`,
      `DOWN 1/2; ${rest}; weight=1/0; scur=N/N; qcur=0`,
      `UP; ${rest}; weight=1/1; scur=N/N; qcur=0`,
    ]);
  });
});

// HAProxy 3.1+ (doc/configuration.txt, init-state): fully-up goes DOWN only when all checks
// failed (fall), up at the first failure; down comes UP at the first success, fully-down after
// rise successes. haproxy 2.6 refuses the keyword.
describe('init-state (sluice only)', { concurrency: 4 }, () => {
  const only = { noReference: 'haproxy 2.6 does not know init-state (3.1+)' };
  kindTest(
    'init-state fully-up: fall failures to go DOWN',
    async (kind, t) => {
      const r = await start(kind, t, { server: 'inter 100 rise 2 fall 3 init-state fully-up', answers: [500] });
      await waitHealth(r.side.proc, NO_SERVER);
      assert.deepEqual(r.lines(), [FAIL500('2/3 UP'), FAIL500('1/3 UP'), FAIL500('0/2 DOWN'), IS_DOWN, NO_SERVER]);
    },
    only,
  );
  kindTest(
    'init-state up: DOWN at the first failure',
    async (kind, t) => {
      const r = await start(kind, t, { server: 'inter 100 rise 2 fall 3 init-state up', answers: [500] });
      await waitHealth(r.side.proc, NO_SERVER);
      assert.deepEqual(r.lines(), [FAIL500('0/2 DOWN'), IS_DOWN, NO_SERVER]);
    },
    only,
  );
  kindTest(
    'init-state down: no traffic before the first check, UP at the first success',
    async (kind, t) => {
      // The first answer comes late: traffic meanwhile finds no server.
      const slow: CheckAnswer = async (c) => {
        await new Promise((res) => setTimeout(res, 600));
        await c.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      };
      const r = await start(kind, t, { server: 'inter 2s rise 2 fall 3 init-state down', answers: [slow, 200] });
      assert.equal(await traffic(r.side), 503);
      await waitHealth(r.side.proc, IS_UP);
      assert.equal(await traffic(r.side), 200);
      assert.deepEqual(r.lines(), [OK('3/3 UP'), IS_UP]);
    },
    only,
  );
  kindTest(
    'init-state fully-down: rise successes to come UP',
    async (kind, t) => {
      const r = await start(kind, t, { server: 'inter 100 rise 2 fall 3 init-state fully-down', answers: [200] });
      await waitHealth(r.side.proc, IS_UP);
      assert.deepEqual(r.lines(), [OK('1/2 DOWN'), OK('3/3 UP'), IS_UP]);
    },
    only,
  );
});
