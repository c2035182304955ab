// proc.ts proved on haproxy: start with a config proxying to the origin, wait for ports, capture
// output, stop; runCheck; failures that carry the captured output.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  HttpClient,
  canConnect,
  freePort,
  freePorts,
  repoRoot,
  request,
  runCheck,
  skipUnless,
  sluiceBin,
  startHaproxy,
  startOrigin,
  startProcess,
  type EchoReport,
  type Origin,
} from '../../harness/index.js';

function haproxyConfig(port: number, origin: number): string {
  return `global
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${origin}
`;
}

describe('ports', () => {
  test('freePort and freePorts give distinct usable ports', async () => {
    const p = await freePort();
    assert.ok(p > 0 && p < 65536);
    const ps = await freePorts(5);
    assert.equal(new Set(ps).size, 5);
    assert.equal(await canConnect(ps[0]!), false);
  });
});

describe('bins', () => {
  test('repoRoot finds the repository and bin/sluice', () => {
    assert.ok(fs.existsSync(`${repoRoot()}/package.json`));
    assert.ok(fs.existsSync(sluiceBin()));
  });

  test('skipUnless names the missing binaries only', () => {
    assert.equal(skipUnless('sh'), false);
    const why = skipUnless('sh', 'no-such-binary-here');
    assert.ok(typeof why === 'string' && why.includes('no-such-binary-here') && !why.includes('sh,'));
  });
});

describe('startHaproxy', { skip: skipUnless('haproxy') }, () => {
  let origin: Origin;
  before(async () => {
    origin = await startOrigin('behind-haproxy');
  });
  after(() => origin.close());

  test('proxies to the origin, captures output, stops on SIGTERM', async () => {
    const port = await freePort();
    const h = await startHaproxy(haproxyConfig(port, origin.port), { waitPorts: [port] });
    try {
      assert.ok(h.pid > 0);
      assert.ok(fs.existsSync(h.configPath));
      const c = await HttpClient.connect(port);
      const r1 = await c.request({ path: '/x?echo=1', headers: [['X-Case', 'Kept']] });
      assert.equal(r1.status, 200);
      assert.equal(r1.header('x-server'), 'behind-haproxy');
      const e = JSON.parse(r1.text) as EchoReport;
      // HAProxy 2.x lowercases header names towards HTTP/1 servers (no h1-case-adjust here).
      assert.ok(e.headers.some(([n, v]) => n.toLowerCase() === 'x-case' && v === 'Kept'));
      const r2 = await c.request({ path: '/?size=100000&chunked=1' });
      assert.equal(r2.body.length, 100000);
      await c.close();
    } finally {
      const exit = await h.stop();
      assert.ok(exit.code !== null || exit.signal !== null);
    }
    assert.ok(h.exited);
    assert.equal(fs.existsSync(h.dir), false, 'temp folder removed after stop');
    assert.equal(await canConnect(port), false);
  });

  test('signal() delivers signals; waitForLine sees the output they cause', async () => {
    const port = await freePort();
    const h = await startHaproxy(haproxyConfig(port, origin.port), { waitPorts: [port] });
    try {
      const mark = h.mark();
      h.signal('SIGUSR1'); // soft stop: haproxy reports each proxy stopped, then exits
      assert.match(await h.waitForLine(/Proxy fe stopped/, 5000, mark), /cumulated conns/);
      const exit = await h.waitExit(5000);
      assert.equal(exit.code, 0);
      await assert.rejects(h.waitForLine('never printed', 5000), /exited before a line matching/);
    } finally {
      await h.stop();
    }
  });

  test('a start that fails reports the captured output', async () => {
    const port = await freePort();
    await assert.rejects(
      startHaproxy(`${haproxyConfig(port, origin.port)}    no-such-keyword here\n`, { waitPorts: [port] }),
      (e: Error) => {
        assert.match(e.message, /haproxy failed to start/);
        assert.match(e.message, /no-such-keyword/);
        return true;
      },
    );
  });

  test('a port that never opens fails within the bound', async () => {
    const [port, other] = await freePorts(2);
    const t0 = Date.now();
    await assert.rejects(
      startHaproxy(haproxyConfig(port!, origin.port), { waitPorts: [other!], startTimeoutMs: 600 }),
      /not accepting connections/,
    );
    assert.ok(Date.now() - t0 < 5000);
  });

  test('runCheck: valid and invalid configurations', async () => {
    const port = await freePort();
    const ok = await runCheck('haproxy', haproxyConfig(port, origin.port));
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await runCheck('haproxy', `${haproxyConfig(port, origin.port)}    bogus-keyword\n`);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /\[ALERT\].*bogus-keyword/);
    assert.ok((bad.stderr + bad.stdout).includes(bad.configPath));
  });

  test('cpus pins the process with taskset', { skip: skipUnless('taskset') }, async () => {
    const port = await freePort();
    const h = await startHaproxy(haproxyConfig(port, origin.port), { waitPorts: [port], cpus: '0' });
    try {
      const status = fs.readFileSync(`/proc/${h.pid}/status`, 'utf8');
      assert.match(status, /Cpus_allowed_list:\s+0\n/);
      assert.equal((await request(port, { path: '/' })).status, 200);
    } finally {
      await h.stop();
    }
  });
});

describe('startProcess', () => {
  test('waitForLine, early exit and stop escalation', async () => {
    const p = await startProcess('sh', ['/bin/sh', '-c', 'trap "" TERM; echo ready; echo oops >&2; sleep 30'], {
      waitLine: 'ready',
    });
    assert.equal(await p.waitForLine(/oops/), 'oops');
    assert.deepEqual(p.lines().map((l) => l.stream), ['stdout', 'stderr']);
    const t0 = Date.now();
    const exit = await p.stop(300); // TERM is ignored: SIGKILL after 300 ms
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(Date.now() - t0 < 3000);

    await assert.rejects(
      startProcess('quitter', ['/bin/sh', '-c', 'echo bye; exit 3'], { waitPorts: [await freePort()] }),
      (e: Error) => /exited/.test(e.message) && /bye/.test(e.message) && /code=3/.test(e.message),
    );
  });
});
