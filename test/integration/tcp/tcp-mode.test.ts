// `mode tcp`: bytes forwarded both ways unchanged (small, several MB, half-closed), a refusing
// server (retries, then the client connection is closed), round robin over several servers,
// the inactivity timeouts (client/server, and tunnel replacing them), and a server `maxconn`
// that queues connections instead of refusing them.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  freePort,
  rawConnect,
  startRawServer,
  startSluice,
  type RawConn,
  type RawServer,
} from '../../harness/index.js';

type After = { after(fn: () => unknown): void };

function tcpConfig(port: number, servers: number[], extra = { defaults: '', backend: '', server: '' }): string {
  return `defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
${extra.defaults}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
${extra.backend}
${servers.map((p, i) => `    server s${i + 1} 127.0.0.1:${p}${extra.server}`).join('\n')}
`;
}

/** An echo server: every byte comes back; our FIN follows the client's. */
async function echoServer(t: After): Promise<RawServer> {
  const srv = await startRawServer((c) => {
    c.socket.on('data', (d: Buffer) => {
      if (!c.socket.write(d)) {
        c.socket.pause();
        c.socket.once('drain', () => c.socket.resume());
      }
    });
    c.socket.on('end', () => c.socket.end());
  });
  t.after(() => srv.close());
  return srv;
}

async function sluiceFor(t: After, servers: number[], extra?: Parameters<typeof tcpConfig>[2]): Promise<number> {
  const port = await freePort();
  const p = await startSluice(tcpConfig(port, servers, extra), { waitPorts: [port] });
  t.after(() => p.stop());
  return port;
}

async function connect(t: After, port: number): Promise<RawConn> {
  const c = await rawConnect(port);
  t.after(() => c.destroy());
  return c;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Waits (bounded) until the start-up probe of the harness (a connect and close on the frontend,
 * which in TCP mode reaches the server too) has come and gone on `srv`. Returns how many
 * connections the server has seen so far.
 */
async function settled(srv: RawServer): Promise<number> {
  for (let i = 0; i < 100 && !(srv.conns.length >= 1 && srv.open() === 0); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(srv.open(), 0);
  return srv.conns.length;
}

/** Resolves once `c` is ended or closed, or after timeoutMs; true when it ended. */
async function waitEnd(c: RawConn, timeoutMs: number): Promise<boolean> {
  await c.waitFor(() => false, timeoutMs);
  return c.ended || c.closed;
}

describe('mode tcp: forwarding', () => {
  test('bytes go both ways unchanged, several exchanges on one connection', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port]);
    const c = await connect(t, port);
    let expect = '';
    for (const msg of ['hello\r\n', '\x00\x01\x02binary\xff', 'GET / HTTP/1.1\r\n\r\n', 'x'.repeat(10000)]) {
      expect += msg;
      await c.write(msg);
      assert.equal(await c.waitBytes(expect.length, 3000), true);
      assert.equal(c.text(), expect);
    }
    // The client's FIN reaches the server, whose FIN comes back.
    c.end();
    assert.equal(await waitEnd(c, 3000), true);
    assert.equal(c.ended, true);
  });

  test('several MB both ways at once, with backpressure, byte for byte', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port]);
    const c = await connect(t, port);
    const size = 8 * 1024 * 1024;
    const data = randomBytes(size);
    // Written in pieces so that both directions are busy at the same time.
    const writing = (async () => {
      for (let i = 0; i < size; i += 256 * 1024) await c.write(data.subarray(i, i + 256 * 1024));
    })();
    assert.equal(await c.waitBytes(size, 30000), true, `got ${c.received.length} of ${size} bytes`);
    await writing;
    assert.equal(c.received.length, size);
    assert.equal(sha(c.received), sha(data));
  });

  test('a server sending several MB then closing: all of it arrives, then the FIN', async (t) => {
    const size = 6 * 1024 * 1024;
    const data = randomBytes(size);
    const srv = await startRawServer((c) => {
      c.socket.end(data);
    });
    t.after(() => srv.close());
    const port = await sluiceFor(t, [srv.port]);
    const c = await connect(t, port);
    assert.equal(await c.waitBytes(size, 30000), true, `got ${c.received.length} of ${size} bytes`);
    assert.equal(await waitEnd(c, 3000), true);
    assert.equal(c.received.length, size);
    assert.equal(sha(c.received), sha(data));
  });

  test('half-close: the client FIN reaches the server, whose answer still arrives', async (t) => {
    const srv = await startRawServer(async (c) => {
      // Answer only once the client has finished sending.
      await c.waitFor(() => false, 5000);
      if (!c.ended) return c.destroy();
      c.socket.end(`got ${c.received.length} bytes: ${c.text()}`);
    });
    t.after(() => srv.close());
    const port = await sluiceFor(t, [srv.port]);
    const c = await connect(t, port);
    await c.write('question');
    c.end();
    assert.equal(await waitEnd(c, 5000), true);
    assert.equal(c.text(), 'got 8 bytes: question');
    assert.equal(c.reset, false);
  });
});

describe('mode tcp: servers', () => {
  test('a refusing server: retries, then the client connection is closed', async (t) => {
    const dead = await freePort();
    const port = await sluiceFor(t, [dead], { defaults: '    retries 2', backend: '', server: '' });
    const c = await connect(t, port);
    await c.write('anyone?');
    // 2 retries with a turn-around of min(timeout connect, 1s) each: bounded well below 10 s.
    assert.equal(await waitEnd(c, 8000), true, 'closed');
    assert.equal(c.text(), '');
  });

  test('round robin over three servers, one connection each in turn', async (t) => {
    const servers: RawServer[] = [];
    for (const name of ['a', 'b', 'c']) {
      const s = await startRawServer((c) => {
        c.socket.end(name);
      });
      t.after(() => s.close());
      servers.push(s);
    }
    const port = await sluiceFor(t, servers.map((s) => s.port), { defaults: '', backend: '    balance roundrobin', server: '' });
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await connect(t, port);
      await waitEnd(c, 3000);
      got.push(c.text());
      c.destroy();
    }
    const start = ['a', 'b', 'c'].indexOf(got[0]!);
    assert.ok(start >= 0, `unexpected answer ${JSON.stringify(got[0])}`);
    assert.deepEqual(got, got.map((_, i) => ['a', 'b', 'c'][(start + i) % 3]));
  });

  test('server maxconn 1: a second connection waits in the queue, then is served', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port], { defaults: '    timeout queue 5s', backend: '', server: ' maxconn 1' });
    const n0 = await settled(echo);
    const a = await connect(t, port);
    await a.write('A');
    assert.equal(await a.waitBytes(1, 3000), true);
    const b = await connect(t, port);
    await b.write('B');
    // B is accepted by sluice but not connected to the server while A holds the only slot.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(echo.conns.length, n0 + 1, 'one server connection only');
    assert.equal(b.received.length, 0);
    assert.equal(b.closed || b.ended, false, 'B waits, it is not refused');
    a.end();
    assert.equal(await waitEnd(a, 3000), true);
    assert.equal(await b.waitBytes(1, 3000), true, 'B served once A is gone');
    assert.equal(b.text(), 'B');
    assert.equal(echo.conns.length, n0 + 2);
  });

  test('server maxconn 1 and timeout queue: a connection queued too long is closed', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port], { defaults: '    timeout queue 300ms', backend: '', server: ' maxconn 1' });
    const n0 = await settled(echo);
    const a = await connect(t, port);
    await a.write('A');
    assert.equal(await a.waitBytes(1, 3000), true);
    const b = await connect(t, port);
    await b.write('B');
    assert.equal(await waitEnd(b, 3000), true, 'closed after timeout queue');
    assert.equal(b.received.length, 0);
    assert.equal(echo.conns.length, n0 + 1);
    // A is not affected.
    await a.write('A2');
    assert.equal(await a.waitBytes(3, 3000), true);
  });
});

describe('mode tcp: timeouts', () => {
  test('timeout client/server: an idle connection is closed', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port], {
      defaults: '    timeout client 300ms\n    timeout server 300ms',
      backend: '',
      server: '',
    });
    const c = await connect(t, port);
    await c.write('ping');
    assert.equal(await c.waitBytes(4, 3000), true);
    const idleFrom = Date.now();
    assert.equal(await waitEnd(c, 4000), true, 'closed by the inactivity timeout');
    assert.ok(Date.now() - idleFrom >= 250, 'not before the timeout');
    const last = echo.conns[echo.conns.length - 1]!;
    assert.equal((await last.waitClose(2000)) || last.ended, true, 'server side closed too');
  });

  test('activity keeps the connection open beyond timeout client/server', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port], {
      defaults: '    timeout client 600ms\n    timeout server 600ms',
      backend: '',
      server: '',
    });
    const c = await connect(t, port);
    // Eight exchanges 150 ms apart: 1200 ms in all, twice the timeout, never 600 ms idle.
    for (let i = 1; i <= 8; i++) {
      await c.write('x');
      assert.equal(await c.waitBytes(i, 2000), true);
      assert.equal(c.ended || c.closed, false);
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.equal(c.ended || c.closed, false);
  });

  test('timeout tunnel replaces timeout client/server once connected', async (t) => {
    const echo = await echoServer(t);
    const port = await sluiceFor(t, [echo.port], {
      defaults: '    timeout client 200ms\n    timeout server 200ms\n    timeout tunnel 1500ms',
      backend: '',
      server: '',
    });
    const c = await connect(t, port);
    await c.write('one');
    assert.equal(await c.waitBytes(3, 3000), true);
    // Idle three times longer than client/server: still open under the tunnel timeout.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(c.ended || c.closed, false, 'still open after 600 ms idle');
    await c.write('two');
    assert.equal(await c.waitBytes(6, 3000), true);
    assert.equal(c.text(), 'onetwo');
    const idleFrom = Date.now();
    assert.equal(await waitEnd(c, 5000), true, 'closed by timeout tunnel');
    assert.ok(Date.now() - idleFrom >= 1200, 'not before the tunnel timeout');
  });
});
