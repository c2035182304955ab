// Failure mode #5 (design.md), the long run of fm5-tcp-check-leak.test.ts: haproxy TCP-checks an
// HTTP and a TCP frontend of sluice every 20 ms for a minute under `global maxconn 200`, and a
// client does what most other checkers do (connect, then reset) on both as often. Were sluice to
// keep one of those connections, maxconn would be reached within seconds and the service would
// stop answering. sluice's open file descriptors are sampled every few seconds and must stay
// flat; a real HTTP request and a TCP exchange are answered at every sample and at the end.
//
// Seen while writing this: haproxy's plain layer-4 checks never reach the checked side's accept().
// With nothing to send, haproxy turns TCP_QUICKACK off, so the last ACK of the handshake waits
// and the reset goes first: the connection dies half-open in the kernel. They still run here (the
// real setup), but what sluice's listener really has to release comes from haproxy checks that
// send something (`tcp-check send`/`expect`, which exchange data, then reset) and from the
// connect-and-reset client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  freePorts,
  rawConnect,
  request,
  skipUnless,
  startHaproxy,
  startOrigin,
  startRawServer,
  startSluice,
} from '../harness/index.js';
import { connectAndReset, establishedOn, fdCount, fdsSettle } from '../harness/leaks.js';

const MINUTE = 60000;
const SAMPLE_EVERY = 3000;
/** Descriptors a little above the level at rest are fine (timers, log pipes, a request in flight). */
const FD_SLACK = 10;

function sluiceConfig(httpPort: number, tcpPort: number, origin: number, echo: number): string {
  return `global
    maxconn 200
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

/**
 * haproxy as the checker, every 20 ms: plain layer-4 checks of both frontends, and tcp-check
 * exchanges (an HTTP/1.0 request, a line echoed) that complete the handshake on sluice's side.
 */
function checkerConfig(port: number, httpPort: number, tcpPort: number): string {
  return `global
    nbthread 1
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 1s
frontend dummy
    bind 127.0.0.1:${port}
    default_backend checked
backend checked
    server web 127.0.0.1:${httpPort} check inter 20 rise 1 fall 1
    server raw 127.0.0.1:${tcpPort} check inter 20 rise 1 fall 1
backend web_exchange
    option tcp-check
    tcp-check send GET\\ /check\\ HTTP/1.0\\r\\n\\r\\n
    tcp-check expect string HTTP/1.1\\ 200
    server web 127.0.0.1:${httpPort} check inter 20 rise 1 fall 1
backend raw_exchange
    option tcp-check
    tcp-check send ping\\n
    tcp-check expect string ping
    server raw 127.0.0.1:${tcpPort} check inter 20 rise 1 fall 1
`;
}

test('FM5: haproxy TCP-checking sluice every 20 ms for a minute, global maxconn 200: fd count flat, service up', { skip: skipUnless('haproxy'), timeout: 90000 }, async (t) => {
  const origin = await startOrigin('app');
  t.after(() => origin.close());
  const echo = await startRawServer((c) => {
    c.socket.on('data', (d: Buffer) => c.socket.write(d));
    c.socket.on('end', () => c.socket.end());
  });
  t.after(() => echo.close());
  const [httpPort, tcpPort, hport] = (await freePorts(3)) as [number, number, number];
  const p = await startSluice(sluiceConfig(httpPort, tcpPort, origin.port, echo.port), { waitPorts: [httpPort, tcpPort] });
  t.after(() => p.stop());

  let exchanges = 0;
  /** One HTTP request and one TCP exchange, each on a fresh connection: both must be answered. */
  const answers = async (what: string): Promise<void> => {
    const r = await request(httpPort, { path: `/alive/${exchanges}`, headers: { Connection: 'close' }, timeoutMs: 3000 });
    assert.equal(r.status, 200, `HTTP request ${what}`);
    const c = await rawConnect(tcpPort, '127.0.0.1', 3000);
    try {
      const msg = `ping ${exchanges}`;
      await c.write(msg);
      assert.equal(await c.waitBytes(msg.length, 3000), true, `TCP exchange ${what}`);
    } finally {
      c.destroy();
    }
    exchanges++;
  };

  // The level at rest, both paths warmed up (server pools, lazy handles).
  for (let i = 0; i < 3; i++) await answers('before the checks');
  await new Promise((r) => setTimeout(r, 300));
  const atRest = fdCount(p.pid);

  const h = await startHaproxy(checkerConfig(hport, httpPort, tcpPort), { waitPorts: [hport] });
  t.after(() => h.stop());
  const samples: number[] = [];
  const est: number[] = [];
  const t0 = Date.now();
  // The connect-and-reset checker: one connection every 20 ms, to each frontend in turn.
  let resets = 0;
  let stopResets = false;
  const resetLoop = (async (): Promise<void> => {
    while (!stopResets && resets < (MINUTE / 20) * 2) {
      await connectAndReset(resets % 2 === 0 ? httpPort : tcpPort);
      resets++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  while (Date.now() - t0 < MINUTE) {
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY));
    samples.push(fdCount(p.pid));
    est.push(establishedOn(httpPort) + establishedOn(tcpPort));
    await answers(`at ${Date.now() - t0} ms`);
  }
  const checkedFor = Date.now() - t0;
  stopResets = true;
  await resetLoop;
  await h.stop();
  const after = await fdsSettle(p.pid, atRest + FD_SLACK / 2);
  t.diagnostic(`fds: ${atRest} at rest, samples ${samples.join(' ')} over ${checkedFor} ms of checks, ${after} after`);
  t.diagnostic(`established on sluice's frontends (ss): ${est.join(' ')}`);
  t.diagnostic(`${exchanges} HTTP requests and TCP exchanges answered, ${resets} connect-and-reset clients`);
  t.diagnostic(`sluice's HTTP backend served ${origin.requestCount} requests (the checker's exchanges among them)`);

  assert.ok(Math.max(...samples) <= atRest + FD_SLACK, `fd count climbed: ${atRest} at rest, samples ${samples.join(' ')}`);
  // Flat, not only bounded: the last samples are no higher than the first ones.
  const head = Math.max(...samples.slice(0, 3));
  const tail = Math.max(...samples.slice(-3));
  assert.ok(tail <= head + FD_SLACK / 2, `fd count drifts up: ${samples.join(' ')}`);
  assert.ok(after <= atRest + FD_SLACK / 2, `file descriptors: ${atRest} before, ${after} after`);
  assert.doesNotMatch(h.output(), /is DOWN/, 'haproxy saw sluice fail its checks');
  // Nothing piled up on the TCP frontend's server either.
  for (let i = 0; i < 100 && echo.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(echo.open(), 0, 'server connections of the TCP frontend closed');
  // And still answering at the end, more exchanges than one might think were leaked.
  for (let i = 0; i < 20; i++) await answers(`after the checks (${i})`);
  assert.equal(p.exited, null, p.describe());
});
