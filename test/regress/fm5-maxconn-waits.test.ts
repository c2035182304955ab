// Failure mode #5 (design.md) ends with "until maxconn is reached and the service stops
// answering". What maxconn itself must do: connections beyond it wait (HAProxy leaves them in the
// listen backlog) and are served once a slot frees; they are not refused. Global and frontend
// maxconn, five slow clients over two slots; the same scenario runs on haproxy as a reference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  freePort,
  rawConnect,
  skipUnless,
  startHaproxy,
  startRawServer,
  startSluice,
  type ProcHandle,
  type RawConn,
  type RawServer,
} from '../harness/index.js';

type After = { after(fn: () => unknown): void };
type Starter = (cfg: string, opts: { waitPorts: number[] }) => Promise<ProcHandle>;

const programs: Array<{ name: string; start: Starter; skip: string | false }> = [
  { name: 'sluice', start: startSluice, skip: false },
  { name: 'haproxy', start: startHaproxy, skip: skipUnless('haproxy') },
];

/** A server that holds every request until the test opens its gate, then answers and closes. */
interface GatedServer {
  srv: RawServer;
  /** Requests received and not answered yet, in arrival order. */
  held: Array<() => void>;
  /** Highest number of requests held at the server at once. */
  maxHeld: number;
}

async function gatedServer(t: After): Promise<GatedServer> {
  const g: GatedServer = { srv: null as unknown as RawServer, held: [], maxHeld: 0 };
  g.srv = await startRawServer(async (c: RawConn) => {
    await c.waitFor((d) => d.includes('\r\n\r\n'), 10000);
    if (c.closed || c.ended) return c.destroy();
    await new Promise<void>((release) => {
      g.held.push(release);
      g.maxHeld = Math.max(g.maxHeld, g.held.length);
    });
    c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });
  t.after(() => g.srv.close());
  return g;
}

/** Polls (bounded) until `pred` holds. */
async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Five clients connect at once and send a request each; the server holds them. At most two
 * reach the server at any time; releasing two lets the next two in; all five get their answer.
 */
async function fiveOverTwo(t: After, start: Starter, limits: { global: number; frontend: number }): Promise<void> {
  const g = await gatedServer(t);
  const port = await freePort();
  const p = await start(
    `global
    nbthread 1
    maxconn ${limits.global}
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:${port}
${limits.frontend ? `    maxconn ${limits.frontend}\n` : ''}    default_backend be
backend be
    server s1 127.0.0.1:${g.srv.port}
`,
    { waitPorts: [port] },
  );
  t.after(() => p.stop());
  // The start-up probe of the harness must have released its slot before the clients come.
  await new Promise((r) => setTimeout(r, 200));

  const clients: RawConn[] = [];
  for (let i = 0; i < 5; i++) {
    // Connecting succeeds even beyond maxconn: the connection waits, it is not refused.
    const c = await rawConnect(port);
    t.after(() => c.destroy());
    clients.push(c);
    await c.write(`GET /slow/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  }
  const answered = (): number => clients.filter((c) => c.text().startsWith('HTTP/1.1 200')).length;

  let released = 0;
  for (const wave of [2, 2, 1]) {
    await until(() => g.held.length === wave, `${wave} requests held at the server (held ${g.held.length}, released ${released})`);
    // Give the others a chance to sneak in if the limit did not hold.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(g.held.length, wave, 'no more requests reach the server than the limit allows');
    assert.equal(g.srv.conns.length, released + wave);
    for (const c of clients) assert.equal(c.reset, false, 'no client was refused');
    for (const release of g.held.splice(0)) release();
    released += wave;
    await until(() => answered() === released, `${released} answers`);
  }
  assert.equal(g.maxHeld, 2, 'at most 2 requests at the server at once');
  for (const c of clients) {
    assert.match(c.text(), /^HTTP\/1\.1 200 [^\r]*\r\n[\s\S]*\r\n\r\nok$/);
  }
}

for (const prog of programs) {
  describe(`${prog.name}: maxconn makes connections wait, not fail`, { skip: prog.skip }, () => {
    test('global maxconn 2, five slow clients: two at a time, all served', async (t) => {
      await fiveOverTwo(t, prog.start, { global: 2, frontend: 0 });
    });

    test('frontend maxconn 2, five slow clients: two at a time, all served', async (t) => {
      await fiveOverTwo(t, prog.start, { global: 100, frontend: 2 });
    });
  });
}
