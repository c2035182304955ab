// Signals: SIGTERM stops at once; SIGUSR1 stops gracefully (listener closed at once, the request
// in flight completes with `Connection: close`, idle keep-alive connections close, then the
// process exits by itself). Each scenario runs on haproxy too, to keep the expectations honest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HttpClient,
  canConnect,
  freePort,
  rawConnect,
  skipUnless,
  startHaproxy,
  startOrigin,
  startSluice,
  type ExitInfo,
  type Origin,
  type ProcHandle,
} from '../../harness/index.js';

const config = (port: number, origin: number): string => `global
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s
    timeout http-keep-alive 20s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${origin}
`;

type Starter = (cfg: string, opts: { waitPorts: number[] }) => Promise<ProcHandle>;
interface Program {
  name: string;
  start: Starter;
  skip: string | false;
  /** How the process ends on SIGTERM: sluice exits 0; haproxy 2.6 in -db mode dies of the signal. */
  termExitOk(e: ExitInfo): boolean;
  /** Known open bugs, by test. */
  todo: { usr1?: string };
}
const programs: Program[] = [
  {
    name: 'sluice',
    start: startSluice,
    skip: false,
    termExitOk: (e) => e.code === 0,
    todo: {},
  },
  {
    name: 'haproxy',
    start: startHaproxy,
    skip: skipUnless('haproxy'),
    termExitOk: (e) => e.code === 0 || e.signal === 'SIGTERM',
    todo: {},
  },
];

/** Polls (bounded) until `port` refuses connections; resolves false if it never does. */
async function untilRefused(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await canConnect(port, '127.0.0.1', 200))) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

async function setup(t: { after(fn: () => unknown): void }, start: Starter): Promise<{ p: ProcHandle; port: number; origin: Origin }> {
  const origin = await startOrigin('o');
  t.after(() => origin.close());
  const port = await freePort();
  const p = await start(config(port, origin.port), { waitPorts: [port] });
  t.after(() => p.stop());
  return { p, port, origin };
}

for (const prog of programs) {
  describe(`${prog.name}: signals`, { skip: prog.skip }, () => {
    test('SIGTERM: exits 0 at once, closing every connection', async (t) => {
      const { p, port, origin } = await setup(t, prog.start);
      const idle = await HttpClient.connect(port);
      t.after(() => idle.socket.destroy());
      assert.equal((await idle.request({ path: '/first' })).status, 200);
      // A request the server will not answer for a long time.
      const busy = await rawConnect(port);
      t.after(() => busy.destroy());
      await busy.write(`GET /slow?delay=8000 HTTP/1.1\r\nHost: x\r\n\r\n`);
      await origin.waitFor((o) => o.requests.some((r) => r.path === '/slow'));
      p.signal('SIGTERM');
      const exit = await p.waitExit(3000);
      assert.ok(prog.termExitOk(exit), p.describe());
      await busy.waitFor(() => false, 2000);
      assert.ok(busy.ended || busy.closed, 'in-flight connection closed');
      assert.equal(busy.text(), '', 'no response for the killed request');
      const idleClosed = await new Promise<boolean>((resolve) => {
        if (idle.closed) return resolve(true);
        const timer = setTimeout(() => resolve(false), 2000);
        idle.socket.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      assert.ok(idleClosed, 'idle keep-alive connection closed');
      assert.equal(await canConnect(port), false);
    });

    test('SIGUSR1 with one request in flight: it completes, then the process exits by itself', async (t) => {
      const { p, port, origin } = await setup(t, prog.start);
      const busy = await HttpClient.connect(port);
      t.after(() => busy.socket.destroy());
      const slow = busy.request({ path: '/slow?delay=800&size=3000', timeoutMs: 8000 });
      await origin.waitFor((o) => o.requests.some((r) => r.path === '/slow'));
      p.signal('SIGUSR1');
      assert.equal(await untilRefused(port, 1000), true, 'new connections are refused');
      const r = await slow;
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 3000);
      assert.equal(r.connectionClose, true);
      const exit = await p.waitExit(5000);
      assert.equal(exit.code, 0, p.describe());
    });

    test('SIGUSR1: listener closes, in-flight request completes with Connection: close, idle closes, exit', { todo: prog.todo.usr1 }, async (t) => {
      const { p, port, origin } = await setup(t, prog.start);
      const idle = await HttpClient.connect(port);
      t.after(() => idle.socket.destroy());
      assert.equal((await idle.request({ path: '/first' })).status, 200);
      const busy = await HttpClient.connect(port);
      t.after(() => busy.socket.destroy());
      const slow = busy.request({ path: '/slow?delay=1500&size=5000', timeoutMs: 8000 });
      await origin.waitFor((o) => o.requests.some((r) => r.path === '/slow'));
      const idleClose = new Promise<void>((resolve) => {
        if (idle.closed) resolve();
        else idle.socket.once('close', () => resolve());
      });
      p.signal('SIGUSR1');

      // The listener goes away at once, while the slow request is still waiting on the server.
      assert.equal(await untilRefused(port, 1000), true, 'new connections are refused');
      assert.equal(p.exited, null, 'still running while a request is in flight');

      const r = await slow;
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 5000, 'full body');
      assert.equal(r.connectionClose, true, 'Connection: close on the last response');

      await Promise.race([
        idleClose,
        new Promise((_, rej) => setTimeout(() => rej(new Error('idle keep-alive connection still open')), 3000)),
      ]);
      const exit = await p.waitExit(5000);
      assert.equal(exit.code, 0, p.describe());
    });
  });
}
