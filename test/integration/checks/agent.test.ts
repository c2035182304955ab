// Agent checks (`agent-check agent-port N agent-inter T`), on sluice and haproxy 2.6 with the same
// configuration: an agent that says "down" takes the server out (traffic goes to the other one),
// "up" brings it back, "maint"/"ready" and "drain"/"ready" change its administrative state, a
// weight the algorithm cannot take is reported, and every line is worded as HAProxy logs it.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { freePort, request, startHaproxy, startOrigin, startSluice, type ProcHandle } from '../../harness/index.js';
import { haveHaproxy } from '../../harness/sides.js';

/** An agent answering each connection with the next reply of `replies` (the last one repeats). */
async function startAgent(replies: string[]): Promise<{ port: number; served: number; close(): Promise<void> }> {
  let served = 0;
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    s.end(replies[Math.min(served++, replies.length - 1)]);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    get served() {
      return served;
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

function config(port: number, agent: number, s1: number, s2: number, extra: string): string {
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
${extra}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${s1} agent-check agent-port ${agent} agent-inter 100 weight 10
    server s2 127.0.0.1:${s2}
`;
}

/** The server and agent lines of the log, check durations masked. */
function events(p: ProcHandle): string[] {
  return p
    .lines()
    .map((l) => l.text)
    .filter((t) => !t.startsWith('[') && /^(Agent check|Server be\/s1)/.test(t))
    .map((t) => t.replace(/check duration: \d+ms/, 'check duration: Nms'));
}

async function waitEvents(p: ProcHandle, n: number): Promise<string[]> {
  const deadline = Date.now() + 10000;
  while (events(p).length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return events(p);
}

interface Case {
  name: string;
  replies: string[];
  extra?: string;
  expect: string[];
  /** After the lines: which servers a few requests reach. */
  reach?: string[];
}

const CASES: Case[] = [
  {
    name: 'an agent saying down takes the server out of the farm',
    replies: ['down\n'],
    expect: [
      'Server be/s1 is DOWN, reason: Layer7 wrong status, code: 0, info: "via agent : down", check duration: Nms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
    ],
    reach: ['s2'],
  },
  {
    name: 'down with a reason, then up, with log-health-checks',
    replies: ['fail # disk full\n', 'up\n'],
    extra: '    option log-health-checks',
    expect: [
      'Agent check for server be/s1 failed, reason: Layer7 wrong status, code: 0, info: "via agent : fail (disk full)", check duration: Nms, status: 0/1 DOWN.',
      'Server be/s1 is DOWN. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'Agent check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, info: "via agent : up", check duration: Nms, status: 1/1 UP.',
      'Server be/s1 is UP. 2 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
    ],
    reach: ['s1', 's2'],
  },
  {
    name: 'maint then ready',
    // A first neutral reply, and up to 10 s for the lines: once in a CI run on a saturated
    // machine, the haproxy run of this case logged nothing within 5 s (cause not found).
    replies: ['ready\n', 'maint\n', 'ready\n'],
    expect: [
      'Server be/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'Server be/s1 is UP/READY (leaving forced maintenance).',
    ],
    reach: ['s1', 's2'],
  },
  {
    name: 'drain then ready',
    replies: ['ready\n', 'drain\n', 'drain\n', 'ready\n'],
    expect: ['Server be/s1 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.', 'Server be/s1 is UP (leaving forced drain).'],
  },
  {
    name: 'a weight a static algorithm cannot take is reported with the health word',
    replies: ['up 50%\n'],
    extra: '    option log-health-checks\n    balance static-rr',
    expect: [
      `Agent check for server be/s1 succeeded, reason: Layer7 check passed, code: 0, info: "via agent : up (Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.<0A>)", check duration: Nms, status: 1/1 UP.`,
    ],
  },
];

for (const kind of ['sluice', 'haproxy'] as const) {
  for (const c of CASES) {
    test(`${c.name}${kind === 'haproxy' ? ' [haproxy 2.6]' : ''}`, { skip: kind === 'haproxy' && !haveHaproxy ? 'haproxy is not installed' : false }, async (t) => {
      const agent = await startAgent(c.replies);
      t.after(() => agent.close());
      const o1 = await startOrigin();
      const o2 = await startOrigin();
      t.after(() => o1.close());
      t.after(() => o2.close());
      const port = await freePort();
      const start = kind === 'sluice' ? startSluice : startHaproxy;
      const p = await start(config(port, agent.port, o1.port, o2.port, c.extra ?? ''), { waitPorts: [port] });
      t.after(() => p.stop());
      const got = await waitEvents(p, c.expect.length);
      assert.deepEqual(got.slice(0, c.expect.length), c.expect);
      if (c.reach !== undefined) {
        for (let i = 0; i < 6; i++) assert.equal((await request(port, { path: '/' })).status, 200);
        const reached = [o1.requests.length > 0 ? 's1' : null, o2.requests.length > 0 ? 's2' : null].filter((x) => x !== null);
        assert.deepEqual(reached, c.reach);
      }
    });
  }
}
