// `slowstart`: a server that comes back UP after its checks failed starts with a small share of
// the traffic, growing to its full weight over the slowstart period; at start-up it gets its
// full share at once. On sluice and haproxy 2.6 with the same configuration; the shares are
// compared loosely (what matters is "much less than half" early and "about half" at start-up).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, Origin, request, startHaproxy, startOrigin, startSluice, type ProcHandle } from '../../harness/index.js';
import { haveHaproxy } from '../../harness/sides.js';

function config(port: number, s1: number, s2: number): string {
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
    balance roundrobin
    server s1 127.0.0.1:${s1} check inter 100 rise 1 fall 1 slowstart 20s weight 100
    server s2 127.0.0.1:${s2} weight 100
`;
}

/** Sends `n` requests one after the other; returns how many reached `o`. */
async function share(port: number, o: Origin, n: number): Promise<number> {
  const before = o.requests.length;
  for (let i = 0; i < n; i++) assert.equal((await request(port, { path: '/' })).status, 200);
  return o.requests.length - before;
}

async function waitLine(p: ProcHandle, re: RegExp, after: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (p.lines().filter((l) => re.test(l.text)).length <= after && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(p.lines().filter((l) => re.test(l.text)).length > after, `no line matching ${re}`);
}

for (const kind of ['sluice', 'haproxy'] as const) {
  test(`slowstart: full share at start-up, a small one when coming back${kind === 'haproxy' ? ' [haproxy 2.6]' : ''}`, { skip: kind === 'haproxy' && !haveHaproxy ? 'haproxy is not installed' : false }, async (t) => {
    const o1 = await startOrigin();
    const o2 = await startOrigin();
    t.after(() => o2.close());
    const port = await freePort();
    const start = kind === 'sluice' ? startSluice : startHaproxy;
    const p = await start(config(port, o1.port, o2.port), { waitPorts: [port] });
    t.after(() => p.stop());
    // At start-up: no ramp, the two servers share evenly.
    const first = await share(port, o1, 40);
    assert.ok(first >= 15 && first <= 25, `${kind}: s1 got ${first}/40 at start-up`);
    // s1 goes away (its checks fail), then comes back on the same port.
    const s1port = o1.port;
    await o1.close();
    await waitLine(p, /Server be\/s1 is DOWN/, 0);
    const back = await new Origin('s1-again').listen('127.0.0.1', s1port);
    t.after(() => back.close());
    await waitLine(p, /Server be\/s1 is UP/, 0);
    const early = await share(port, back, 40);
    t.diagnostic(`${kind}: s1 got ${first}/40 at start-up, ${early}/40 right after coming back (slowstart 20s)`);
    assert.ok(early <= 8, `${kind}: s1 got ${early}/40 right after coming back`);
  });
}
