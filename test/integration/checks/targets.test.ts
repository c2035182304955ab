// Where checks go and with what, on sluice and haproxy 2.6 with the same configuration: `port`
// and `addr` send checks elsewhere than traffic (and stop `send-proxy` from carrying over to
// checks), `check-send-proxy` puts a PROXY line before the check and not before traffic,
// `default-server` carries the check settings to its servers, and the lines of a backup server
// ("backup server", "Backup Server ... is DOWN") next to an active one.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe } from 'node:test';
import { request } from '../../harness/index.js';
import { healthLines, kindTest, startScriptedHttp, startSequenceServer, waitHealth, waitHealthLines, httpResponse, type CheckAnswer, type ScriptedHttp, type SequenceServer } from '../../harness/checks.js';
import { lazySides, type Side, type SideKind } from '../../harness/sides.js';

const HEAD = `global
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
`;

async function proxy(kind: SideKind, t: TestContext, backend: string, values: Record<string, number | string>): Promise<Side> {
  const sides = lazySides(HEAD + backend, () => ({ values }));
  t.after(() => sides.stop());
  return sides.side(kind);
}

async function seq(t: TestContext, answers: CheckAnswer[]): Promise<SequenceServer> {
  const s = await startSequenceServer('/health', answers);
  t.after(() => s.close());
  return s;
}

/** A server answering traffic only (any path) with its name; it must never see a check. */
async function trafficServer(t: TestContext, name: string): Promise<ScriptedHttp> {
  const s = await startScriptedHttp({}, (c) => c.write(httpResponse(200, 'OK', name, ['connection: close'])));
  t.after(() => s.close());
  return s;
}

async function get(side: Side): Promise<{ status: number; body: string }> {
  const r = await request(side.port('fe'), { path: '/traffic', timeoutMs: 3000 });
  return { status: r.status, body: r.text };
}

const PROXY_LINE = (port: number): RegExp => new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${port}$`);

describe('check targets', { concurrency: 6 }, () => {
  kindTest('port: checks go to the check port, traffic to the server port', async (kind, t) => {
    const tr = await trafficServer(t, 'traffic');
    const health = await seq(t, [500]);
    const side = await proxy(kind, t, '    server s1 127.0.0.1:{{tr}} check inter 100 port {{health}}\n', { tr: tr.port, health: health.port });
    await waitHealth(side.proc, 'has no server available');
    assert.equal((await get(side)).status, 503);
    health.set(200);
    await waitHealth(side.proc, 'is UP');
    assert.deepEqual(await get(side), { status: 200, body: 'traffic' });
    assert.ok(health.checks().length >= 3);
    assert.deepEqual(
      tr.requests.map((r) => r.path),
      ['/traffic'],
    );
  });

  kindTest('addr and port: checks go to another address', async (kind, t) => {
    const tr = await trafficServer(t, 'traffic');
    // Only on 127.0.0.2: a check sent to the server's address would be refused.
    const health = await startSequenceServer('/health', [200], undefined, '127.0.0.2');
    t.after(() => health.close());
    const side = await proxy(kind, t, '    server s1 127.0.0.1:{{tr}} check inter 100 addr 127.0.0.2 port {{health}}\n', { tr: tr.port, health: health.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(healthLines(side.proc, { be: 'be' }), ['Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 3/3 UP.']);
    assert.deepEqual(await get(side), { status: 200, body: 'traffic' });
    assert.deepEqual(
      tr.requests.map((r) => r.path),
      ['/traffic'],
    );
  });

  kindTest('check-send-proxy: a PROXY line before each check, none before traffic', async (kind, t) => {
    const srv = await seq(t, [200]);
    const side = await proxy(kind, t, '    server s1 127.0.0.1:{{srv}} check inter 100 check-send-proxy\n', { srv: srv.port });
    await waitHealth(side.proc, 'succeeded');
    assert.equal((await get(side)).status, 200);
    for (const c of srv.checks()) assert.match(c.proxy ?? '(none)', PROXY_LINE(srv.port));
    assert.deepEqual(
      srv.requests.filter((r) => r.path === '/traffic').map((r) => r.proxy),
      [null],
    );
  });

  kindTest('send-proxy on the server: checks send the PROXY line too', async (kind, t) => {
    const srv = await seq(t, [200]);
    const side = await proxy(kind, t, '    server s1 127.0.0.1:{{srv}} send-proxy check inter 100\n', { srv: srv.port });
    await waitHealth(side.proc, 'succeeded');
    assert.equal((await get(side)).status, 200);
    assert.ok(srv.checks().length >= 1);
    for (const c of srv.checks()) assert.match(c.proxy ?? '(none)', PROXY_LINE(srv.port));
    // Traffic carries the client's connection: to the frontend's port.
    const traffic = srv.requests.filter((r) => r.path === '/traffic');
    assert.equal(traffic.length, 1);
    assert.match(traffic[0]!.proxy ?? '(none)', PROXY_LINE(side.port('fe')));
  });

  kindTest('send-proxy and a check port: checks go without the PROXY line', async (kind, t) => {
    const srv = await seq(t, [200]);
    const health = await seq(t, [200]);
    const side = await proxy(kind, t, '    server s1 127.0.0.1:{{srv}} send-proxy check inter 100 port {{health}}\n', { srv: srv.port, health: health.port });
    await waitHealth(side.proc, 'succeeded');
    assert.equal((await get(side)).status, 200);
    assert.ok(health.checks().length >= 1);
    for (const c of health.checks()) assert.equal(c.proxy, null);
    assert.deepEqual(srv.checks(), []);
    assert.match(srv.requests[0]?.proxy ?? '(none)', PROXY_LINE(side.port('fe')));
  });
});

describe('default-server and backup servers', { concurrency: 4 }, () => {
  kindTest('default-server carries check, inter, rise, fall and port; no-check opts out', async (kind, t) => {
    const tr = await trafficServer(t, 'traffic');
    const health = await seq(t, [200]);
    const side = await proxy(
      kind,
      t,
      `    default-server check inter 100 rise 1 fall 2 port {{health}}
    server s1 127.0.0.1:{{tr}}
    server s2 127.0.0.1:{{tr}}
    server s3 127.0.0.1:{{tr}} no-check
`,
      { tr: tr.port, health: health.port },
    );
    await waitHealthLines(side.proc, 2, { be: 'be' });
    health.set(500);
    await waitHealthLines(side.proc, 8, { be: 'be' });
    const lines = healthLines(side.proc, { be: 'be' });
    for (const s of ['s1', 's2']) {
      assert.deepEqual(
        lines.filter((l) => l.includes(`be/${s} `) || l.includes(`be/${s},`)),
        [
          `Health check for server be/${s} succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 2/2 UP.`,
          `Health check for server be/${s} failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 1/2 UP.`,
          `Health check for server be/${s} failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 0/1 DOWN.`,
          lines.find((l) => l.startsWith(`Server be/${s} is DOWN.`))!,
        ],
        s,
      );
    }
    // The first to go DOWN leaves two servers (the other one and s3), the second one.
    const down = lines.filter((l) => / is DOWN\./.test(l)).map((l) => l.replace(/be\/s[12]/, 'be/sN'));
    assert.deepEqual(down, [
      'Server be/sN is DOWN. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'Server be/sN is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    ]);
    // s3 is never checked and keeps taking traffic.
    assert.deepEqual(await get(side), { status: 200, body: 'traffic' });
    assert.ok(!lines.some((l) => l.includes('be/s3')));
  });

  kindTest('a backup server: "backup server" in its lines, the active one left', async (kind, t) => {
    const a = await seq(t, [200]);
    const b = await seq(t, [500]);
    const side = await proxy(
      kind,
      t,
      `    server s1 127.0.0.1:{{a}} check inter 100
    server b1 127.0.0.1:{{b}} check inter 100 backup
`,
      { a: a.port, b: b.port },
    );
    await waitHealth(side.proc, 'Backup Server be/b1 is DOWN');
    await waitHealth(side.proc, 'server be/s1 succeeded');
    a.set(500);
    await waitHealth(side.proc, 'has no server available');
    b.set(200);
    await waitHealth(side.proc, 'Backup Server be/b1 is UP');
    assert.deepEqual(await get(side), { status: 200, body: 'traffic' });
    const lines = healthLines(side.proc, { be: 'be' });
    assert.deepEqual(
      lines.filter((l) => l.includes('b1')),
      [
        'Health check for backup server be/b1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 0/2 DOWN.',
        'Backup Server be/b1 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        'Health check for backup server be/b1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 1/2 DOWN.',
        'Health check for backup server be/b1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 3/3 UP.',
        'Backup Server be/b1 is UP. 0 active and 1 backup servers online. Running on backup. 0 sessions requeued, 0 total in queue.',
      ],
    );
    assert.deepEqual(
      lines.filter((l) => !l.includes('b1')),
      [
        'Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: 3/3 UP.',
        'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 2/3 UP.',
        'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 1/3 UP.',
        'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: Nms, status: 0/2 DOWN.',
        'Server be/s1 is DOWN. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        'backend be has no server available!',
      ],
    );
  });
});
