// The second half of failure mode 5 of design.md: "our own checks must not pile up connections
// on servers". sluice checks a server at layer 4 every 100 ms for a minute; the server's
// established connections are sampled all along (its own count of open connections, exact at
// every accept and close, and `ss` once a second) and must stay at a handful. Then the server
// stops (listener and connections closed) and must go DOWN after `fall` failed checks, and come
// back UP after `rise` good ones once it listens again on the same port. haproxy 2.6 runs the
// same scenario for a few seconds as the reference.
//
// Timing of DOWN, to be fair: from fully UP (health rise+fall-1), exactly `fall` consecutive
// failures take the server down. After the stop the next check starts within one `inter` (or, if
// a check was in flight, one check timeout later: `inter` here, as there is no `timeout check`),
// fails at once (connection refused), and the next ones follow every `fastinter` (= inter). So
// the DOWN line is due (fall-1) x inter after the first failure and at most
// fall x inter + one check timeout after the stop; the upper bound gets a wide margin for a
// loaded 2-core machine (the proxy's timers and the reading of its log both lag); the lower
// bound, (fall-1) x inter, needs none (lag only makes it later). The same reasoning with `rise`
// for UP.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { freePort, startHaproxy, startSluice, type ProcHandle } from '../../harness/index.js';
import { startWatchedServer } from '../../harness/conn-watch.js';
import { establishedOn, fdCount } from '../../harness/leaks.js';
import { haveHaproxy } from '../../harness/sides.js';

const INTER = 100;
const RISE = 2;
const FALL = 3;
/** Margin on the upper bounds of time to DOWN and UP, for a loaded machine. */
const MARGIN = 1600;
/** "Never pile up": more than this many at once would be connections left behind. */
const MAX_OPEN = 4;

// HTTP mode: the harness's readiness probe of the frontend then never reaches the server (in TCP
// mode it would be relayed there, and closed with a FIN).
function config(fe: number, srv: number): string {
  return `global
    log stdout format raw local0
defaults
    mode http
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${fe}
    default_backend be
backend be
    server s1 127.0.0.1:${srv} check inter ${INTER} rise ${RISE} fall ${FALL}
`;
}

/** Waits for a state-change line of s1 after line `from`; resolves with the time it was read. */
async function stateLine(p: ProcHandle, state: 'UP' | 'DOWN', from: number, timeoutMs: number): Promise<number> {
  const re = new RegExp(`^Server be/s1 is ${state}`);
  await p.waitForLine(re, timeoutMs, from);
  return p.lines().slice(from).find((l) => re.test(l.text))!.at;
}

async function scenario(t: TestContext, kind: 'sluice' | 'haproxy', checkedMs: number): Promise<void> {
  const server = await startWatchedServer();
  t.after(() => server.stop());
  const fe = await freePort();
  const p = await (kind === 'sluice' ? startSluice : startHaproxy)(config(fe, server.port), { waitPorts: [fe] });
  t.after(() => p.stop());

  // The checking period: sample ss and the proxy's descriptors once a second.
  const t0 = Date.now();
  const ss: number[] = [];
  const fds: number[] = [];
  while (Date.now() - t0 < checkedMs) {
    await new Promise((r) => setTimeout(r, Math.min(1000, checkedMs)));
    ss.push(establishedOn(server.port));
    fds.push(fdCount(p.pid));
  }
  const span = Date.now() - t0;
  const accepted = server.conns.length;
  const ends = server.ends();
  t.diagnostic(
    `${kind}: ${accepted} check connections in ${span} ms (${ends.rst} reset, ${ends.fin} FIN, ${ends.open} open); ` +
      `open at once on the server: max ${server.maxOpen}; ss established samples max ${Math.max(...ss)} (${ss.join(' ')})`,
  );
  t.diagnostic(`${kind}: proxy fds min ${Math.min(...fds)} max ${Math.max(...fds)} over ${fds.length} samples`);
  assert.ok(server.maxOpen <= MAX_OPEN, `${kind}: ${server.maxOpen} check connections open at once on the server`);
  assert.ok(Math.max(...ss) <= MAX_OPEN, `${kind}: established connections on the server: ${ss.join(' ')}`);
  // Checks ran all along, about every 100 ms (at least a third of that on a loaded machine).
  // haproxy resets its check connection so soon that the kernel drops it before our accept():
  // its checks are invisible here (the DOWN and UP below show they run).
  if (kind === 'sluice') assert.ok(accepted >= span / INTER / 3, `${kind}: only ${accepted} checks in ${span} ms`);
  // Layer-4 checks end with a reset (SO_LINGER 0), never a FIN, as HAProxy's.
  assert.equal(ends.fin, 0, `${kind}: check connections closed with a FIN`);
  assert.doesNotMatch(p.output(), / is DOWN/, `${kind}: the server went DOWN while it answered`);

  // The server stops.
  const downFrom = p.mark();
  const stopAt = Date.now();
  await server.stop();
  const downAt = await stateLine(p, 'DOWN', downFrom, 10000);
  const toDown = downAt - stopAt;
  // It comes back on the same port.
  const upFrom = p.mark();
  const restartAt = Date.now();
  await server.listen();
  const upAt = await stateLine(p, 'UP', upFrom, 10000);
  const toUp = upAt - restartAt;
  t.diagnostic(
    `${kind}: DOWN ${toDown} ms after the stop (fall x inter = ${FALL * INTER} ms), UP ${toUp} ms after the restart (rise x inter = ${RISE * INTER} ms)`,
  );
  assert.match(p.output(), /Server be\/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused"/);
  assert.ok(toDown >= (FALL - 1) * INTER - 5, `${kind}: DOWN after ${toDown} ms: fewer than ${FALL} failed checks`);
  assert.ok(toDown <= FALL * INTER + INTER + MARGIN, `${kind}: DOWN only ${toDown} ms after the stop`);
  assert.ok(toUp >= (RISE - 1) * INTER - 5, `${kind}: UP after ${toUp} ms: fewer than ${RISE} good checks`);
  assert.ok(toUp <= RISE * INTER + INTER + MARGIN, `${kind}: UP only ${toUp} ms after the restart`);
}

test('sluice checking a server every 100 ms at layer 4 for a minute: no connection piles up on it; stopped: DOWN within fall x inter; restarted: UP', { timeout: 80000 }, (t) =>
  scenario(t, 'sluice', 60000),
);

test('the same on haproxy 2.6 for 4 s [reference]', { skip: haveHaproxy ? false : 'haproxy is not installed', timeout: 30000 }, (t) =>
  scenario(t, 'haproxy', 4000),
);
