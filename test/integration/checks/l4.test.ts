// Layer-4 health checks (`server ... check`), on sluice and haproxy 2.6 with the same
// configuration: a server whose port is closed goes DOWN at its first failed check (a server
// with `check` starts UP at the edge) with HAProxy's log line, the backend's "no server
// available" alert follows, and the server comes back UP after `rise` successful checks once
// something listens again. Check connections close with a reset, as HAProxy's do.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { freePort, startHaproxy, startSluice, type ProcHandle } from '../../harness/index.js';
import { haveHaproxy } from '../../harness/sides.js';

function config(port: number, target: number): string {
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${target} check inter 100 rise 2 fall 3
`;
}

/** The state-change lines, with the check duration masked (it varies by a millisecond or two). */
function changes(p: ProcHandle): string[] {
  return p
    .lines()
    .map((l) => l.text)
    .filter((t) => !t.startsWith('[') && / is (UP|DOWN)|has no server available/.test(t))
    .map((t) => t.replace(/check duration: \d+ms/, 'check duration: Nms'));
}

for (const kind of ['sluice', 'haproxy'] as const) {
  test(`closed port: DOWN at the first failure; listening again: UP after rise checks${kind === 'haproxy' ? ' [haproxy 2.6]' : ''}`, { skip: kind === 'haproxy' && !haveHaproxy ? 'haproxy is not installed' : false }, async (t) => {
    const target = await freePort();
    const port = await freePort();
    const start = kind === 'sluice' ? startSluice : startHaproxy;
    const p = await start(config(port, target), { waitPorts: [port] });
    t.after(() => p.stop());
    await p.waitForLine((l) => !l.startsWith('[') && l.includes('has no server available'), 3000);
    await p.waitForLine((l) => l.startsWith('[ALERT]') && l.includes('has no server available'), 3000);
    assert.deepEqual(changes(p), [
      'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'backend be has no server available!',
    ]);
    // The same on stderr, as HAProxy prints them.
    const err = p.lines().map((l) => l.text).filter((l) => l.startsWith('['));
    assert.ok(err.some((l) => /^\[WARNING\] +\(\d+\) : Server be\/s1 is DOWN, reason: Layer4 connection problem/.test(l)), err.join('\n'));
    // On stderr the name is quoted ('be'), in the log it is not.
    assert.ok(err.some((l) => /^\[ALERT\] +\(\d+\) : backend 'be' has no server available!$/.test(l)), err.join('\n'));
    // Something listens again: two good checks (rise 2) bring the server back.
    let accepted = 0;
    let resets = 0;
    const srv = net.createServer((s) => {
      accepted++;
      s.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNRESET') resets++;
      });
    });
    await new Promise<void>((r) => srv.listen(target, '127.0.0.1', () => r()));
    t.after(() => srv.close());
    await p.waitForLine((l) => !l.startsWith('[') && / is UP/.test(l), 3000);
    assert.equal(changes(p)[2], 'Server be/s1 is UP, reason: Layer4 check passed, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.');
    // The checker resets its connections (no linger): some are gone before they are accepted.
    t.diagnostic(`${kind}: ${accepted} check connections accepted, ${resets} seen reset`);
  });
}
