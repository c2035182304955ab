// Traffic that acts on health, on sluice and haproxy 2.6 with the same configuration: `observe
// layer7` (5xx answers other than 501/505) and `observe layer4` (refused connections) count
// consecutive errors, and after `error-limit` of them `on-error` acts: `fastinter` brings the next
// check forward, `fail-check` counts one failed check, `sudden-death` leaves one check before
// DOWN, `mark-down` takes the server DOWN at once, each logged as a "Health analyze" (HANA)
// result. `on-marked-down shutdown-sessions` cuts the streams of a server that goes DOWN (their
// log line's termination state starts with 'D'), `on-marked-up shutdown-backup-sessions` cuts
// those of the backup servers when an active one comes UP ('U').
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe } from 'node:test';
import { freePort, rawConnect, request, type RawConn } from '../../harness/index.js';
import { healthLines, kindTest, startSequenceServer, timedHealthLines, waitHealth, waitHealthLines, type SequenceServer } from '../../harness/checks.js';
import { lazySides, type Side, type SideKind } from '../../harness/sides.js';
import { HTTPLOG, fields, lineFor } from '../log/lines.js';

const OK = (status: string, srv = 's1'): string => `Health check for server be/${srv} succeeded, reason: Layer7 check passed, code: 200, check duration: Nms, status: ${status}.`;
// A simulated check: no duration in its line.
const HANA = (info: string, status: string): string => `Health check for server be/s1 failed, reason: Health analyze, info: "${info}", status: ${status}.`;
const LAYER7_ERRORS = (n: number): string => `Detected ${n} consecutive errors, last one was: Wrong http response`;

/** A server answering checks 200 on /health, and traffic on other paths by `traffic`. */
async function server(t: TestContext, traffic?: (c: RawConn) => Promise<void>): Promise<SequenceServer> {
  const s = await startSequenceServer('/health', [200], traffic);
  t.after(() => s.close());
  return s;
}

const ERR500 = async (c: RawConn): Promise<void> => {
  await c.write('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
};

async function proxy(kind: SideKind, t: TestContext, backend: string, values: Record<string, number>, defaults = ''): Promise<Side> {
  const config = `global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    option log-health-checks
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    # Without it a check would have only inter (100 ms) in all: too little on a loaded machine.
    timeout check 1s
${defaults}
frontend fe
    bind 127.0.0.1:{{port:fe}}
    default_backend be
backend be
${backend}`;
  const sides = lazySides(config, () => ({ values }));
  t.after(() => sides.stop());
  return sides.side(kind);
}

/**
 * The health lines with the count of active sessions masked: whether the stream that saw the
 * last error is still counted when the server goes DOWN varies from run to run in haproxy.
 */
function lines(side: Side): string[] {
  return healthLines(side.proc, { be: 'be' }).map((l) => l.replace(/\. \d+ sessions active,/, '. N sessions active,'));
}

async function statuses(side: Side, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request(side.port('fe'), { path: `/traffic${i}`, timeoutMs: 3000 })).status);
  return out;
}

describe('observe and on-error', { concurrency: 6 }, () => {
  kindTest('observe layer7, on-error mark-down: DOWN after error-limit 5xx answers, then checks bring it back', async (kind, t) => {
    const s = await server(t, ERR500);
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 3s fastinter 100 observe layer7 error-limit 2 on-error mark-down\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(await statuses(side, 2), [500, 500]);
    await waitHealth(side.proc, 'is UP');
    // The check after the HANA comes at fastinter (100 ms), not at inter (3 s).
    const hana = timedHealthLines(side.proc, { be: 'be' }).find((l) => l.text.includes('Health analyze'))!;
    const next = s.checks().find((c) => c.at >= hana.at);
    assert.ok(next !== undefined && next.at - hana.at < 1500, `next check ${next ? next.at - hana.at : '-'} ms after the HANA`);
    assert.deepEqual(lines(side), [
      OK('3/3 UP'),
      HANA(LAYER7_ERRORS(2), '0/2 DOWN'),
      'Server be/s1 is DOWN. 0 active and 0 backup servers left. N sessions active, 0 requeued, 0 remaining in queue.',
      'backend be has no server available!',
      OK('1/2 DOWN'),
      OK('3/3 UP'),
      'Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
    ]);
  });

  kindTest('observe layer7, on-error fail-check: one failed check per error-limit errors', async (kind, t) => {
    const s = await server(t, ERR500);
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 3s fastinter 100 observe layer7 error-limit 2 on-error fail-check\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(await statuses(side, 2), [500, 500]);
    await waitHealthLines(side.proc, 3, { be: 'be' });
    assert.deepEqual(healthLines(side.proc, { be: 'be' }), [OK('3/3 UP'), HANA(LAYER7_ERRORS(2), '2/3 UP'), OK('3/3 UP')]);
  });

  kindTest('observe layer7, on-error sudden-death: one failure left before DOWN', async (kind, t) => {
    const s = await server(t, ERR500);
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 3s fastinter 100 observe layer7 error-limit 2 on-error sudden-death\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(await statuses(side, 2), [500, 500]);
    await waitHealthLines(side.proc, 3, { be: 'be' });
    assert.deepEqual(healthLines(side.proc, { be: 'be' }), [OK('3/3 UP'), HANA(LAYER7_ERRORS(2), '1/3 UP'), OK('3/3 UP')]);
  });

  kindTest('observe layer7, on-error fastinter: the next check comes at fastinter, nothing logged', async (kind, t) => {
    const s = await server(t, ERR500);
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 5s fastinter 100 observe layer7 error-limit 2 on-error fastinter\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    const before = s.checks().length;
    const t0 = Date.now();
    assert.deepEqual(await statuses(side, 2), [500, 500]);
    // Without the errors the next check would come 5 s after the first one.
    const end = Date.now() + 3000;
    while (s.checks().length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(s.checks().length > before, 'no check within 3 s of the errors');
    t.diagnostic(`${kind}: next check ${s.checks()[before]!.at - t0} ms after the first error`);
    assert.deepEqual(healthLines(side.proc, { be: 'be' }), [OK('3/3 UP')]);
  });

  kindTest('observe layer7: errors below error-limit, or broken by a good answer, do nothing', async (kind, t) => {
    let n = 0;
    // 500, 200, 500, 200...: never two errors in a row.
    const s = await server(t, async (c) => {
      if (n++ % 2 === 0) return ERR500(c);
      await c.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 3s fastinter 100 observe layer7 error-limit 2 on-error mark-down\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(await statuses(side, 5), [500, 200, 500, 200, 500]);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(healthLines(side.proc, { be: 'be' }), [OK('3/3 UP')]);
  });

  kindTest('observe layer4, on-error mark-down: refused connections take the server DOWN', async (kind, t) => {
    const health = await server(t);
    const closed = await freePort();
    const side = await proxy(
      kind,
      t,
      '    option httpchk GET /health\n    retries 0\n    server s1 127.0.0.1:{{closed}} check port {{health}} inter 3s fastinter 100 observe layer4 error-limit 2 on-error mark-down\n',
      { closed, health: health.port },
    );
    await waitHealthLines(side.proc, 1, { be: 'be' });
    assert.deepEqual(await statuses(side, 2), [503, 503]);
    await waitHealth(side.proc, 'is UP');
    // The check after the HANA comes at fastinter (100 ms), not at inter or downinter (3 s).
    const hana = timedHealthLines(side.proc, { be: 'be' }).find((l) => l.text.includes('Health analyze'))!;
    const next = health.checks().find((c) => c.at >= hana.at);
    assert.ok(next !== undefined && next.at - hana.at < 1500, `next check ${next ? next.at - hana.at : '-'} ms after the HANA`);
    assert.deepEqual(lines(side), [
      OK('3/3 UP'),
      HANA('Detected 2 consecutive errors, last one was: L4 unsuccessful connection', '0/2 DOWN'),
      'Server be/s1 is DOWN. 0 active and 0 backup servers left. N sessions active, 0 requeued, 0 remaining in queue.',
      'backend be has no server available!',
      OK('1/2 DOWN'),
      OK('3/3 UP'),
      'Server be/s1 is UP. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
    ]);
  });
});

/** Sends a GET that the server holds; resolves with the connection and its client port. */
async function hold(side: Side): Promise<{ c: RawConn; port: number }> {
  const c = await rawConnect(side.port('fe'));
  await c.write('GET /hold HTTP/1.1\r\nhost: x\r\n\r\n');
  return { c, port: c.socket.localPort! };
}

/** Waits (bounded) until the server `s` has read the held request. */
async function held(s: SequenceServer): Promise<void> {
  const end = Date.now() + 3000;
  while (!s.requests.some((r) => r.path === '/hold')) {
    if (Date.now() > end) throw new Error('the held request did not reach the server');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A traffic route that holds the request for `ms` then answers 200. */
const slow =
  (ms: number) =>
  async (c: RawConn): Promise<void> => {
    await c.waitClose(ms);
    if (!c.closed) await c.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nlate');
  };

describe('on-marked-down, on-marked-up', { concurrency: 4 }, () => {
  kindTest('on-marked-down shutdown-sessions: a request in flight is cut when its server goes DOWN (D)', async (kind, t) => {
    const s = await server(t, slow(4000));
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 100 fall 1 on-marked-down shutdown-sessions\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    const { c, port } = await hold(side);
    await held(s);
    s.set(500);
    await waitHealth(side.proc, 'is DOWN');
    const f = fields(HTTPLOG, await lineFor(side.proc, port, 3000));
    // D: killed because its server went DOWN, H: while waiting for the response headers.
    assert.deepEqual([f.ST, f.tsc], ['502', 'DH--']);
    // The client gets a 502 on a connection kept open.
    await c.waitFor((b) => b.includes('</html>'), 2000);
    assert.equal(c.responses()[0]?.status, 502);
    assert.ok(!c.text().includes('late'));
  });

  kindTest('without on-marked-down, a request in flight survives its server going DOWN', async (kind, t) => {
    const s = await server(t, slow(1000));
    const side = await proxy(kind, t, '    option httpchk GET /health\n    server s1 127.0.0.1:{{s}} check inter 100 fall 1\n', { s: s.port });
    await waitHealthLines(side.proc, 1, { be: 'be' });
    const { c, port } = await hold(side);
    await held(s);
    s.set(500);
    await waitHealth(side.proc, 'is DOWN');
    const f = fields(HTTPLOG, await lineFor(side.proc, port, 3000));
    assert.equal(f.ST, '200');
    assert.equal(f.tsc, '----');
    await c.waitFor((b) => b.includes('late'), 2000);
    assert.ok(c.text().endsWith('late'));
  });

  kindTest('on-marked-up shutdown-backup-sessions: streams on a backup are cut when an active server comes UP (U)', async (kind, t) => {
    const active = await server(t);
    active.set(500);
    const backup = await server(t, slow(4000));
    const side = await proxy(
      kind,
      t,
      '    option httpchk GET /health\n    server s1 127.0.0.1:{{a}} check inter 100 rise 1 on-marked-up shutdown-backup-sessions\n    server b1 127.0.0.1:{{b}} check inter 100 backup\n',
      { a: active.port, b: backup.port },
    );
    await waitHealth(side.proc, 'Server be/s1 is DOWN');
    await waitHealth(side.proc, 'backup server be/b1 succeeded');
    const { c, port } = await hold(side);
    await held(backup);
    active.set(200);
    await waitHealth(side.proc, 'Server be/s1 is UP');
    const f = fields(HTTPLOG, await lineFor(side.proc, port, 3000));
    assert.equal(f.s, 'b1');
    // U: killed because an active server came UP.
    assert.deepEqual([f.ST, f.tsc], ['502', 'UH--']);
    await c.waitFor((b) => b.includes('</html>'), 2000);
    assert.equal(c.responses()[0]?.status, 502);
    assert.ok(!c.text().includes('late'));
  });
});
