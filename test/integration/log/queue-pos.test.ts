// %sq / %bq (HAProxy's srv_queue / backend_queue log fields): the place a request had in a
// server's queue and in its backend's queue, each scenario run on sluice and on haproxy 2.6 with
// the same configuration. A place is one more than the number of requests that left that queue
// for a server slot while this one waited: requests served ahead move it up, requests that gave
// up (timeout, client abort) do not; a request that waited several times sums its places.
//
// Servers are scripted raw servers that hold each request until the test answers it; the
// `probe` frontend reports be_conn of every backend (it counts the queued requests), so that a
// test waits until a request is queued before it sends the next, and the queue order is known;
// and nbsrv(grab), the usable servers of the backend whose server goes down and up.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { rawConnect, startRawServer, untilResponses, type RawConn, type RawServer } from '../../harness/index.js';
import { sideTest, startSides, type Side, type Sides } from '../../harness/sides.js';
import { HTTPLOG, TCPLOG, fields, lineFor, linesFor, type Fields } from './lines.js';

const BACKENDS = ['srvq', 'beq', 'qto', 'redisp', 'grab', 'tcpsq', 'tcpbq', 'redown'] as const;
type Be = (typeof BACKENDS)[number];

const CONFIG = `
global
    log stdout format raw local0
    nbthread 1
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 5s

frontend probe
    bind 127.0.0.1:{{port:probe}}
    http-request return status 200 content-type text/plain lf-string "${BACKENDS.map((b) => `%[be_conn(${b})]`).join(' ')} %[nbsrv(grab)] %[srv_is_up(redown/s1)]"

# Hashing keeps a request on its server: a full server queues it on itself (%sq).
frontend srvq
    bind 127.0.0.1:{{port:srvq}}
    default_backend srvq
backend srvq
    balance uri
    server held 127.0.0.1:{{srvq}} maxconn 1

# Round robin with every server full: the request waits in the backend queue (%bq).
frontend beq
    bind 127.0.0.1:{{port:beq}}
    default_backend beq
backend beq
    server s1 127.0.0.1:{{beq}} maxconn 1
    server s2 127.0.0.1:{{beq}} maxconn 1

frontend qto
    bind 127.0.0.1:{{port:qto}}
    default_backend qto
backend qto
    timeout queue 2s
    server s1 127.0.0.1:{{qto}} maxconn 1

# Two servers on their own raw servers, so that a test can make one of them refuse connections.
frontend redisp
    bind 127.0.0.1:{{port:redisp}}
    default_backend redisp
backend redisp
    option redispatch
    retries 1
    server s1 127.0.0.1:{{r1}} maxconn 1
    server s2 127.0.0.1:{{r2}} maxconn 1

# s2 is checked: a test takes it down, queues requests behind s1, and brings it back.
frontend grab
    bind 127.0.0.1:{{port:grab}}
    default_backend grab
backend grab
    server s1 127.0.0.1:{{g1}} maxconn 1
    server s2 127.0.0.1:{{g2}} maxconn 2 check inter 100 rise 1 fall 1

# s1 is checked: a test takes it down while requests wait in its queue (option redispatch).
frontend redown
    bind 127.0.0.1:{{port:redown}}
    default_backend redown
backend redown
    balance uri
    option redispatch
    server s1 127.0.0.1:{{d1}} maxconn 1 check inter 100 rise 1 fall 1
    server s2 127.0.0.1:{{d2}} maxconn 1 backup

listen tcpsq
    mode tcp
    option tcplog
    bind 127.0.0.1:{{port:tcpsq}}
    balance source
    server held 127.0.0.1:{{tcpsq}} maxconn 1

listen tcpbq
    mode tcp
    option tcplog
    bind 127.0.0.1:{{port:tcpbq}}
    server held 127.0.0.1:{{tcpbq}} maxconn 1
`;

/** A request a held server received, answered (and its connection closed) when the test says. */
interface Held {
  path: string;
  respond(): Promise<void>;
}

/** A raw server that holds every request it gets. */
interface Holder {
  rs: RawServer;
  held: Held[];
}

async function startHolder(): Promise<Holder> {
  const held: Held[] = [];
  const rs = await startRawServer(async (c) => {
    // One request per connection (the answer closes it). A connection that ends without one
    // (a readiness probe passed on by a tcp frontend) is simply let go.
    const data = await c.waitFor((d) => d.includes('\r\n\r\n'), 30000);
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) return c.destroy();
    held.push({
      path: data.subarray(0, end).toString('latin1').split(' ')[1] ?? '',
      respond: async () => {
        await c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        c.end();
      },
    });
  });
  return { rs, held };
}

const holders = new Map<string, Holder>();
let sides: Sides;

before(async () => {
  for (const name of [...BACKENDS, 'r1', 'r2', 'g1', 'g2', 'd1', 'd2']) if (name !== 'redisp' && name !== 'grab' && name !== 'redown') holders.set(name, await startHolder());
  const values: Record<string, number> = {};
  for (const [name, h] of holders) values[name] = h.rs.port;
  sides = await startSides(CONFIG, { values });
});

after(async () => {
  await sides?.stop();
  await Promise.all([...holders.values()].map((h) => h.rs.close()));
});

const S = (): Sides => sides;

function holder(name: string): Holder {
  const h = holders.get(name)!;
  h.held.length = 0;
  return h;
}

async function poll(what: () => Promise<boolean> | boolean, why: string, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await what()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting: ${why}`);
}

/** Resolves once `h` holds `n` requests. */
const waitHeld = (h: Holder, n: number): Promise<void> => poll(() => h.held.length >= n, `${n} requests at the server`);

/** be_conn of `be` (requests being served or queued), through the probe frontend. */
async function beConn(side: Side, be: Be): Promise<number> {
  return (await probe(side))[BACKENDS.indexOf(be)]!;
}

/** What the probe frontend reports: be_conn of each of BACKENDS, then nbsrv(grab), srv_is_up(redown/s1). */
async function probe(side: Side): Promise<number[]> {
  const c = await rawConnect(side.port('probe'));
  try {
    await c.write('GET / HTTP/1.1\r\nHost: probe\r\n\r\n');
    await c.waitFor(untilResponses(1), 3000);
    const body = c.responses()[0]?.body.toString() ?? '';
    return body.split(' ').map(Number);
  } finally {
    c.destroy();
  }
}

const waitBeConn = (side: Side, be: Be, n: number): Promise<void> =>
  poll(async () => (await beConn(side, be)) === n, `be_conn(${be}) = ${n}`);

/**
 * Opens a connection to frontend `be`, sends a request for `path` (the head, then `body`), and
 * waits until `be` counts `count` streams.
 */
async function send(
  side: Side,
  be: Be,
  path: string,
  count: number,
  t: { after(fn: () => void): void },
  method = 'GET',
  headers = '',
  body = '',
): Promise<RawConn> {
  const c = await rawConnect(side.port(be));
  clientPorts.set(c, c.socket.localPort!);
  t.after(() => c.destroy());
  await c.write(`${method} ${path} HTTP/1.1\r\nHost: queue.test\r\n${headers}\r\n${body}`);
  await waitBeConn(side, be, count);
  return c;
}

/** The local port of each client connection (a closed socket forgets it). */
const clientPorts = new WeakMap<RawConn, number>();

/** The log line of client connection `c` (its first one after `mark`). */
async function logOf(side: Side, c: RawConn, mark: number, layout = HTTPLOG): Promise<Fields> {
  const f = fields(layout, await lineFor(side.proc, clientPorts.get(c)!, 4000, mark));
  // The time spent in queues is within the test's bounds (-1 when the request never got a server).
  const tw = Number(f.Tw);
  assert.ok(tw >= -1 && tw < 10000, `%Tw ${f.Tw}`);
  return f;
}

async function response(c: RawConn): Promise<number> {
  await c.waitFor(untilResponses(1), 4000);
  const r = c.responses()[0];
  assert.ok(r, `no response:\n${c.text()}`);
  return r.status;
}

sideTest('requests queued on a server (maxconn 1) each log their own place: %sq 1, 2, 3', S, async (side, t) => {
  const h = holder('srvq');
  const mark = side.proc.mark();
  const cs: RawConn[] = [await send(side, 'srvq', '/r0', 1, t)];
  await waitHeld(h, 1);
  for (let i = 1; i < 4; i++) cs.push(await send(side, 'srvq', `/r${i}`, i + 1, t));
  assert.equal(h.held.length, 1, 'only the first request reached the server');
  for (let i = 0; i < 4; i++) {
    await waitHeld(h, i + 1);
    assert.equal(h.held[i]!.path, `/r${i}`, 'the queue is served in order');
    await h.held[i]!.respond();
    assert.equal(await response(cs[i]!), 200);
  }
  const got = [];
  for (const c of cs) {
    const f = await logOf(side, c, mark);
    got.push(`${f.s} ${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['held 0/0', 'held 1/0', 'held 2/0', 'held 3/0']);
  // The next request on a connection that waited starts afresh.
  const last = cs[3]!;
  await last.write('GET /again HTTP/1.1\r\nHost: queue.test\r\n\r\n');
  await waitHeld(h, 5);
  await h.held[4]!.respond();
  await last.waitFor(untilResponses(2), 4000);
  await poll(() => linesFor(side.proc, last.socket.localPort!).length >= 2, 'the second log line');
  const again = fields(HTTPLOG, linesFor(side.proc, last.socket.localPort!)[1]!);
  assert.equal(again.r, 'GET /again HTTP/1.1');
  assert.equal(`${again.sq}/${again.bq}`, '0/0');
});

sideTest('with every server full, requests wait in the backend queue and log %bq 1, 2, 3', S, async (side, t) => {
  const h = holder('beq');
  const mark = side.proc.mark();
  const cs: RawConn[] = [];
  for (let i = 0; i < 2; i++) {
    cs.push(await send(side, 'beq', `/r${i}`, i + 1, t));
    await waitHeld(h, i + 1);
  }
  for (let i = 2; i < 5; i++) cs.push(await send(side, 'beq', `/r${i}`, i + 1, t));
  assert.equal(h.held.length, 2, 'one request on each server, three queued');
  // Answer in arrival order at the servers; each answer frees a slot for the next queued one.
  for (let i = 0; i < 5; i++) {
    await waitHeld(h, Math.min(5, i + 2));
    const path = h.held[i]!.path;
    await h.held[i]!.respond();
    assert.equal(await response(cs[Number(path.slice(2))]!), 200);
  }
  assert.deepEqual(
    h.held.map((x) => x.path),
    ['/r0', '/r1', '/r2', '/r3', '/r4'],
    'the backend queue is served in order',
  );
  const got = [];
  for (const c of cs) {
    const f = await logOf(side, c, mark);
    got.push(`${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['0/0', '0/0', '0/1', '0/2', '0/3']);
});

sideTest('a request that gives up in the queue (timeout queue: 503 sQ) logs its place then', S, async (side, t) => {
  const h = holder('qto');
  const mark = side.proc.mark();
  const a = await send(side, 'qto', '/a', 1, t);
  const b = await send(side, 'qto', '/b', 2, t);
  const c = await send(side, 'qto', '/c', 3, t);
  const d = await send(side, 'qto', '/d', 4, t);
  // /b takes the slot /a frees (one served ahead of /c and /d), then holds it past their timeout.
  await waitHeld(h, 1);
  await h.held[0]!.respond();
  assert.equal(await response(a), 200);
  await waitHeld(h, 2);
  assert.equal(h.held[1]!.path, '/b');
  assert.equal(await response(c), 503);
  assert.equal(await response(d), 503);
  await h.held[1]!.respond();
  assert.equal(await response(b), 200);
  const got = [];
  for (const x of [a, b, c, d]) {
    const f = await logOf(side, x, mark);
    got.push(`${f.ST} ${f.tsc} ${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['200 ---- 0/0', '200 ---- 0/1', '503 sQ-- 0/2', '503 sQ-- 0/2']);
});

// HAProxy notices a client leaving a queued request only while it still reads from it: here the
// body is still coming (once the whole request is in, it keeps waiting for a slot regardless).
sideTest('a client that leaves the queue logs its place, and the requests behind it do not move up', S, async (side, t) => {
  const h = holder('srvq');
  const mark = side.proc.mark();
  const a = await send(side, 'srvq', '/a', 1, t);
  await waitHeld(h, 1);
  const b = await send(side, 'srvq', '/b', 2, t, 'POST', 'Content-Length: 100\r\n', '0123456789');
  const c = await send(side, 'srvq', '/c', 3, t);
  b.end();
  const fb = await logOf(side, b, mark);
  assert.equal(`${fb.tsc.slice(0, 2)} ${fb.sq}/${fb.bq}`, 'CQ 1/0');
  await waitBeConn(side, 'srvq', 2);
  await h.held[0]!.respond();
  assert.equal(await response(a), 200);
  await waitHeld(h, 2);
  assert.equal(h.held[1]!.path, '/c');
  await h.held[1]!.respond();
  assert.equal(await response(c), 200);
  const fc = await logOf(side, c, mark);
  assert.equal(`${fc.sq}/${fc.bq}`, '1/0');
});

sideTest('a request redispatched into the backend queue again sums its places there', S, async (side, t) => {
  const r1 = holder('r1');
  const r2 = holder('r2');
  const mark = side.proc.mark();
  const a = await send(side, 'redisp', '/a', 1, t);
  const b = await send(side, 'redisp', '/b', 2, t);
  const c = await send(side, 'redisp', '/c', 3, t);
  const d = await send(side, 'redisp', '/d', 4, t);
  await poll(() => r1.held.length === 1 && r2.held.length === 1, 'one request on each server');
  // The server that holds /a stops listening: the queued requests it takes next are refused,
  // and each one's redispatch finds both servers full and waits in the backend queue again.
  const [first, other] = r1.held[0]!.path === '/a' ? [r1, r2] : [r2, r1];
  stopListening(first, t);
  await first.held[0]!.respond();
  assert.equal(await response(a), 200);
  assert.equal(await response(c), 503);
  assert.equal(await response(d), 503);
  await other.held[0]!.respond();
  assert.equal(await response(b), 200);
  const got = [];
  for (const x of [a, b, c, d]) {
    const f = await logOf(side, x, mark);
    got.push(`${f.ST} ${f.tsc.slice(0, 2)} ${f.rc} ${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['200 -- 0 0/0', '200 -- 0 0/0', '503 SC +1 0/2', '503 SC +1 0/3']);
});

/** Stops `h` listening (its connections stay) until the end of the test. */
function stopListening(h: Holder, t: { after(fn: () => Promise<void>): void }): void {
  h.rs.server.close();
  t.after(() => listenAgain(h));
}

function listenAgain(h: Holder): Promise<void> {
  if (h.rs.server.listening) return Promise.resolve();
  return new Promise<void>((r) => h.rs.server.listen({ host: '127.0.0.1', port: h.rs.port }, () => r()));
}

sideTest('requests a server coming up takes from the backend queue do not move each other up', S, async (side, t) => {
  const g1 = holder('g1');
  const g2 = holder('g2');
  // Up first (the other proxy's run may have just brought it back).
  await poll(async () => (await probe(side))[BACKENDS.length] === 2, 'grab/s2 UP', 5000);
  const mark = side.proc.mark();
  stopListening(g2, t);
  await poll(async () => (await probe(side))[BACKENDS.length] === 1, 'grab/s2 DOWN', 5000);
  const a = await send(side, 'grab', '/a', 1, t);
  await waitHeld(g1, 1);
  const b = await send(side, 'grab', '/b', 2, t);
  const c = await send(side, 'grab', '/c', 3, t);
  // Back up, s2 takes both waiting requests at once (HAProxy's pendconn_grab_from_px).
  await listenAgain(g2);
  await waitHeld(g2, 2);
  for (const x of [...g2.held, ...g1.held]) await x.respond();
  for (const x of [a, b, c]) assert.equal(await response(x), 200);
  const got = [];
  for (const x of [a, b, c]) {
    const f = await logOf(side, x, mark);
    got.push(`${f.s} ${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['s1 0/0', 's2 0/1', 's2 0/1']);
});

sideTest('option redispatch: the requests queued on a server going down are balanced again (requeued)', S, async (side, t) => {
  const d1 = holder('d1');
  const d2 = holder('d2');
  // Idle, and s1 up (the other proxy's run took it down and up: this proxy checks it too).
  await poll(async () => {
    const p = await probe(side);
    return p[BACKENDS.indexOf('redown')] === 0 && p[BACKENDS.length + 1] === 1;
  }, 'redown idle, s1 up', 5000);
  const mark = side.proc.mark();
  const a = await send(side, 'redown', '/x', 1, t);
  await waitHeld(d1, 1);
  const b = await send(side, 'redown', '/x', 2, t);
  const c = await send(side, 'redown', '/x', 3, t);
  // s1 stops listening: its check fails, it goes DOWN with /x still on it and two waiting.
  stopListening(d1, t);
  await poll(() => side.proc.lines().slice(mark).some((l) => /Server redown\/s1 is DOWN/.test(l.text)), 's1 DOWN', 5000);
  const down = side.proc.lines().slice(mark).find((l) => /Server redown\/s1 is DOWN/.test(l.text))!.text;
  assert.match(down, / 1 sessions active, 2 requeued, 0 remaining in queue\.$/);
  // The backup takes one; the other waits in its queue (the hash sends /x there). Both were
  // balanced again: logged as redispatched ('+'), with the places of both waits.
  await waitHeld(d2, 1);
  await d1.held[0]!.respond();
  assert.equal(await response(a), 200);
  await d2.held[0]!.respond();
  assert.equal(await response(b), 200);
  await waitHeld(d2, 2);
  await d2.held[1]!.respond();
  assert.equal(await response(c), 200);
  const got = [];
  for (const x of [a, b, c]) {
    const f = await logOf(side, x, mark);
    got.push(`${f.s} ${f.rc} ${f.sq}/${f.bq}`);
  }
  assert.deepEqual(got, ['s1 0 0/0', 's2 +0 1/0', 's2 +0 2/0']);
  await listenAgain(d1);
  await poll(() => side.proc.lines().slice(mark).some((l) => /Server redown\/s1 is UP/.test(l.text)), 's1 UP', 5000);
});

/** A tcp-mode client got the server's answer and close, and closes its side too. */
async function tcpDone(c: RawConn): Promise<void> {
  await c.waitFor(() => false, 4000);
  assert.ok(c.ended, `the server's answer and close were passed on:\n${c.text()}`);
  assert.match(c.text(), /^HTTP\/1\.1 200 OK/);
  c.end();
}

for (const [be, queue] of [
  ['tcpsq', 'on its server (balance source): %sq'],
  ['tcpbq', 'in the backend queue: %bq'],
] as const) {
  sideTest(`mode tcp with tcplog: connections queued ${queue} 1, 2`, S, async (side, t) => {
    const h = holder(be);
    const mark = side.proc.mark();
    const cs: RawConn[] = [await send(side, be, '/t0', 1, t)];
    await waitHeld(h, 1);
    for (let i = 1; i < 3; i++) cs.push(await send(side, be, `/t${i}`, i + 1, t));
    assert.equal(h.held.length, 1, 'only the first connection reached the server');
    for (let i = 0; i < 3; i++) {
      await waitHeld(h, i + 1);
      assert.equal(h.held[i]!.path, `/t${i}`);
      await h.held[i]!.respond();
      await tcpDone(cs[i]!);
    }
    const got = [];
    for (const c of cs) {
      const f = await logOf(side, c, mark, TCPLOG);
      got.push(`${f.ts} ${f.sq}/${f.bq}`);
    }
    const want = be === 'tcpsq' ? ['0/0', '1/0', '2/0'] : ['0/0', '0/1', '0/2'];
    assert.deepEqual(got, want.map((w) => `-- ${w}`));
  });
}
