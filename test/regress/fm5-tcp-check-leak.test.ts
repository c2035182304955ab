// Failure mode #5 (design.md): TCP health checks (connect, then reset) leak connections on the
// checked side until maxconn is reached and the service stops answering. Here sluice is the
// checked side: thousands of connect-and-reset clients, and haproxy itself TCP-checking sluice,
// against an HTTP and a TCP frontend under `global maxconn 50`. Afterwards sluice still answers
// and its open file descriptors are back where they started.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  freePorts,
  rawConnect,
  request,
  skipUnless,
  startHaproxy,
  startOrigin,
  startRawServer,
  startSluice,
  type Origin,
  type ProcHandle,
  type RawServer,
} from '../harness/index.js';
import { connectAndReset, fdCount, fdsSettle } from '../harness/leaks.js';

type After = { after(fn: () => unknown): void };

/** File descriptors a little above the start level are fine (timers, log pipes, lazy handles). */
const FD_SLACK = 6;

function config(httpPort: number, tcpPort: number, origin: number, echo: number): string {
  return `global
    maxconn 50
defaults
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 1s
frontend web
    mode http
    bind 127.0.0.1:${httpPort}
    default_backend app
frontend raw
    mode tcp
    bind 127.0.0.1:${tcpPort}
    default_backend echo
backend app
    mode http
    server s1 127.0.0.1:${origin}
backend echo
    mode tcp
    server s1 127.0.0.1:${echo}
`;
}

interface Setup {
  p: ProcHandle;
  httpPort: number;
  tcpPort: number;
  origin: Origin;
  echo: RawServer;
}

async function setup(t: After): Promise<Setup> {
  const origin = await startOrigin('app');
  t.after(() => origin.close());
  const echo = await startRawServer((c) => {
    c.socket.on('data', (d: Buffer) => c.socket.write(d));
    c.socket.on('end', () => c.socket.end());
  });
  t.after(() => echo.close());
  const [httpPort, tcpPort] = (await freePorts(2)) as [number, number];
  const p = await startSluice(config(httpPort, tcpPort, origin.port, echo.port), { waitPorts: [httpPort, tcpPort] });
  t.after(() => p.stop());
  return { p, httpPort, tcpPort, origin, echo };
}

/** `total` connect-and-reset clients, `parallel` at a time. */
async function resetStorm(port: number, total: number, parallel: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      await connectAndReset(port);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** More sequential exchanges than maxconn on both frontends: every one must be answered. */
async function stillAnswers(s: Setup, n = 60): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await request(s.httpPort, { path: `/alive/${i}`, headers: { Connection: 'close' }, timeoutMs: 3000 });
    assert.equal(r.status, 200, `HTTP request ${i}`);
  }
  for (let i = 0; i < n; i++) {
    const c = await rawConnect(s.tcpPort, '127.0.0.1', 3000);
    try {
      await c.write(`ping ${i}`);
      assert.equal(await c.waitBytes(`ping ${i}`.length, 3000), true, `TCP exchange ${i}`);
    } finally {
      c.destroy();
    }
  }
}

/** Warms both paths up (server pools, lazy handles) and returns the fd count at rest. */
async function baseline(s: Setup): Promise<number> {
  await stillAnswers(s, 3);
  await new Promise((r) => setTimeout(r, 300));
  return fdCount(s.p.pid);
}

describe('FM5: connect-and-reset clients do not leak in sluice', () => {
  test('2000 resets on an HTTP frontend and 2000 on a TCP frontend, global maxconn 50', async (t) => {
    const s = await setup(t);
    const start = await baseline(s);
    await resetStorm(s.httpPort, 2000, 16);
    await resetStorm(s.tcpPort, 2000, 16);
    const after = await fdsSettle(s.p.pid, start + FD_SLACK);
    assert.ok(after <= start + FD_SLACK, `file descriptors: ${start} before, ${after} after`);
    await stillAnswers(s);
    // (Idle server connections that those new clients leave behind are the subject of
    // fm5-server-conn-pileup.test.ts, not of this test.)
    // Nothing piled up on the TCP backend's server either.
    for (let i = 0; i < 100 && s.echo.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.echo.open(), 0, 'server connections of the TCP frontend closed');
    assert.equal(s.p.exited, null, s.p.describe());
  });

  test('haproxy TCP-checking both frontends every 20 ms for 5 s: fd count flat, service up', { skip: skipUnless('haproxy') }, async (t) => {
    const s = await setup(t);
    const start = await baseline(s);
    const [hport] = (await freePorts(1)) as [number];
    const h = await startHaproxy(
      `global
    nbthread 1
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend dummy
    bind 127.0.0.1:${hport}
    default_backend checked
backend checked
    server web 127.0.0.1:${s.httpPort} check inter 20 rise 1 fall 1
    server raw 127.0.0.1:${s.tcpPort} check inter 20 rise 1 fall 1
`,
      { waitPorts: [hport] },
    );
    t.after(() => h.stop());
    const samples: number[] = [];
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      samples.push(fdCount(s.p.pid));
    }
    await h.stop();
    const peak = Math.max(...samples);
    assert.ok(peak <= start + FD_SLACK + 4, `fd count climbed: ${start} at rest, samples ${samples.join(' ')}`);
    const after = await fdsSettle(s.p.pid, start + FD_SLACK);
    assert.ok(after <= start + FD_SLACK, `file descriptors: ${start} before, ${after} after`);
    assert.doesNotMatch(h.output(), /is DOWN/, 'haproxy saw sluice fail its checks');
    await stillAnswers(s);
  });
});
