// The sluice command line: -v, -c (valid and invalid configurations, compared line by line with
// what haproxy 2.6 prints for the same file), -f with a directory and repeated, -p, the
// missing-timeout warnings, and a bind on a port already in use.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  Proc,
  canConnect,
  freePort,
  makeTempDir,
  repoRoot,
  requireBinary,
  request,
  runCheck,
  skipUnless,
  sluiceBin,
  startOrigin,
  startSluice,
  type ExitInfo,
} from '../../harness/index.js';

const TIMEOUTS = `    timeout connect 1s
    timeout client 5s
    timeout server 5s
`;

/** Runs bin/sluice with `args` in `dir` until it exits (bounded), with its output. */
async function runSluice(args: string[], dir = makeTempDir('sluice-cli-')): Promise<{ exit: ExitInfo; p: Proc }> {
  const p = new Proc('sluice', [sluiceBin(), ...args], dir, '', {});
  const exit = await p.waitExit(10000).catch(async (e: Error) => {
    await p.stop();
    throw e;
  });
  return { exit, p };
}

function streamText(p: Proc, stream: 'stdout' | 'stderr'): string {
  return p
    .lines()
    .filter((l) => l.stream === stream)
    .map((l) => l.text)
    .join('\n');
}

/** The [ALERT]/[WARNING] lines of an output, with the pid replaced by PID and blank lines dropped. */
function diagLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\[(ALERT|WARNING)\]/.test(l))
    .map((l) => l.replace(/^(\[\w+\]\s+)\(\d+\)/, '$1(PID)'));
}

const DIAG_RE = /^\[(ALERT|WARNING|NOTICE)\] {1,4}\(\d+\) : /;

describe('sluice -v', () => {
  test('prints "sluice version X.Y.Z" (the package version) and exits 0', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
    const { exit, p } = await runSluice(['-v']);
    assert.equal(exit.code, 0, p.describe());
    assert.match(streamText(p, 'stdout'), /^sluice version \d+\.\d+\.\d+/);
    assert.equal(streamText(p, 'stdout').split('\n')[0], `sluice version ${pkg.version}`);
  });
});

describe('sluice -c', () => {
  test('a valid file: "Configuration file is valid", exit 0, no alert', async () => {
    const cfg = `global
    maxconn 100
defaults
    mode http
${TIMEOUTS}
frontend fe
    bind 127.0.0.1:${await freePort()}
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:8001
    server s2 127.0.0.1:8002
`;
    const r = await runCheck('sluice', cfg);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Configuration file is valid$/m);
    assert.doesNotMatch(r.stderr, /\[ALERT\]/);
  });

  // Each bad file gives the same alerts as haproxy 2.6 gives for it, at the same file:line.
  const badCases: Array<{ name: string; cfg: string; expect: RegExp[] }> = [
    {
      name: 'unknown keywords in several sections',
      cfg: `global
    daemonize-me now
defaults
    mode http
${TIMEOUTS}    tiemout queue 1s
frontend fe
    bind 127.0.0.1:1
    default_backend be
backend be
    server s1 127.0.0.1:80
    bogus-keyword
`,
      expect: [
        /^\[ALERT\] {4}\(\d+\) : config : parsing \[CFG:2\] : unknown keyword 'daemonize-me' in 'global' section/m,
        /^\[ALERT\] {4}\(\d+\) : config : parsing \[CFG:8\] : unknown keyword 'tiemout' in 'defaults' section/m,
        /^\[ALERT\] {4}\(\d+\) : config : parsing \[CFG:14\] : unknown keyword 'bogus-keyword' in 'backend' section/m,
      ],
    },
    {
      name: 'a missing default_backend',
      cfg: `defaults
    mode http
${TIMEOUTS}
frontend fe
    bind 127.0.0.1:1
    default_backend nope
backend be
    server s1 127.0.0.1:80
`,
      expect: [/^\[ALERT\] {4}\(\d+\) : config : Proxy 'fe': unable to find required default_backend: 'nope'\./m],
    },
    {
      name: 'bad addresses and ports',
      cfg: `defaults
    mode http
${TIMEOUTS}
frontend fe
    bind 127.0.0.1:99999
    default_backend be
backend be
    server s1 127.0.0.1:notaport
    server s2 127.0.0.1:70000
`,
      expect: [
        /^\[ALERT\] {4}\(\d+\) : config : parsing \[CFG:8\] : 'bind' : invalid port '99999'/m,
        /^\[ALERT\] {4}\(\d+\) : config : \[CFG:11\] : 'server be\/s1' : invalid character 'n' in port number 'notaport'/m,
        /^\[ALERT\] {4}\(\d+\) : config : \[CFG:12\] : 'server be\/s2' : invalid port '70000'/m,
      ],
    },
  ];

  for (const c of badCases) {
    test(`${c.name}: every problem as an [ALERT] with file:line, exit 1, same as haproxy`, { skip: skipUnless('haproxy') }, async () => {
      // Same file name for both programs so that the file:line parts compare equal.
      const s = await runCheck('sluice', c.cfg, { args: [] });
      const cfgName = (t: string): string => t.replaceAll(/[^\s[]*(haproxy|sluice)\.cfg/g, 'CFG');
      const h = await runCheck('haproxy', c.cfg);
      assert.equal(s.code, 1, s.stderr);
      assert.notEqual(h.code, 0);
      assert.doesNotMatch(s.stdout, /Configuration file is valid/);
      const sl = diagLines(cfgName(s.stderr));
      for (const l of s.stderr.split('\n').filter(Boolean)) assert.match(l, DIAG_RE, `not an HAProxy-style line: ${l}`);
      for (const re of c.expect) assert.match(cfgName(s.stderr), re);
      // Every alert haproxy prints for this file, sluice prints too.
      for (const l of diagLines(cfgName(h.stderr))) assert.ok(sl.includes(l), `missing: ${l}\nsluice printed:\n${sl.join('\n')}`);
      assert.ok(sl.includes('[ALERT]    (PID) : config : Fatal errors found in configuration.'));
    });
  }

  test('an HAProxy keyword that sluice does not support yet is an alert that says so', async () => {
    const cfg = `defaults
    mode http
${TIMEOUTS}
frontend fe
    bind 127.0.0.1:1
    stick-table type ip size 1m
    default_backend be
backend be
    server s1 127.0.0.1:80
`;
    const r = await runCheck('sluice', cfg);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^\[ALERT\] {4}\(\d+\) : config : parsing \[[^\]]*sluice\.cfg:9\] : 'stick-table' is not supported yet by sluice\./m);
  });

  test('"Fatal errors found in configuration." is printed once, as haproxy does', async () => {
    const r = await runCheck('sluice', 'global\n    bogus 1\n');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').filter((l) => l.endsWith('Fatal errors found in configuration.')).length, 1, r.stderr);
  });

  test('missing timeouts: the [WARNING]s haproxy prints, and the file is still valid', { skip: skipUnless('haproxy') }, async () => {
    const cfg = `defaults
    mode http
frontend fe
    bind 127.0.0.1:1
    default_backend be
backend be
    server s1 127.0.0.1:80
`;
    const s = await runCheck('sluice', cfg);
    const h = await runCheck('haproxy', cfg);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'Warnings were found.\nConfiguration file is valid\n');
    assert.equal(s.stdout, h.stdout);
    // -q leaves stdout empty, as with haproxy.
    const sq = await runCheck('sluice', cfg, { args: ['-q'] });
    const hq = await runCheck('haproxy', cfg, { args: ['-q'] });
    assert.equal(sq.code, 0, sq.stderr);
    assert.equal(sq.stdout, '');
    assert.equal(sq.stdout, hq.stdout);
    assert.match(s.stderr, /^\[WARNING\] {2}\(\d+\) : config : missing timeouts for frontend 'fe'\.$/m);
    assert.match(s.stderr, /^\[WARNING\] {2}\(\d+\) : config : missing timeouts for backend 'be'\.$/m);
    // The explanation lines under each warning, exactly as haproxy words them.
    const cont = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('   | '));
    assert.deepEqual(cont(s.stderr), cont(h.stderr));
    assert.deepEqual(diagLines(s.stderr), diagLines(h.stderr));
  });
});

describe('sluice -f', () => {
  const defaults = `defaults\n    mode http\n${TIMEOUTS}`;

  test('-f DIR loads the *.cfg files in name order (as haproxy does), nothing else', { skip: skipUnless('haproxy') }, async () => {
    const dir = makeTempDir('sluice-cfgdir-');
    // One unknown keyword per file: the alert order shows the load order.
    for (const n of ['2', '10', 'b', 'A', '_x']) fs.writeFileSync(path.join(dir, `${n}.cfg`), `global\n    bogus${n} 1\n`);
    fs.writeFileSync(path.join(dir, 'skip.conf'), 'global\n    notloaded 1\n');
    const s = await runSluice(['-c', '-f', dir]);
    const h = new Proc('haproxy', [requireBinary('haproxy'), '-c', '-f', dir], dir, '', {});
    await h.waitExit(10000);
    const order = (t: string): string[] => [...t.matchAll(/parsing \[[^\]]*\/([^/\]]+\.cfg):2\]/g)].map((m) => m[1]!);
    assert.equal(s.exit.code, 1);
    assert.deepEqual(order(s.p.output()), ['10.cfg', '2.cfg', 'A.cfg', '_x.cfg', 'b.cfg']);
    assert.deepEqual(order(s.p.output()), order(h.output()));
    assert.doesNotMatch(s.p.output(), /notloaded/);
  });

  test('-f DIR: a configuration split over files runs as one', async (t) => {
    const origin = await startOrigin('o1');
    t.after(() => origin.close());
    const port = await freePort();
    const dir = makeTempDir('sluice-cfgdir-');
    // Order matters: the defaults must come before the sections that use them.
    fs.writeFileSync(path.join(dir, '00-defaults.cfg'), defaults);
    fs.writeFileSync(path.join(dir, '10-frontend.cfg'), `frontend fe\n    bind 127.0.0.1:${port}\n    default_backend be\n`);
    fs.writeFileSync(path.join(dir, '20-backend.cfg'), `backend be\n    server s1 127.0.0.1:${origin.port}\n`);
    const check = await runSluice(['-c', '-f', dir]);
    assert.equal(check.exit.code, 0, check.p.describe());
    assert.doesNotMatch(check.p.output(), /WARNING/, 'defaults loaded first: no missing-timeout warning');
    // startSluice writes its own file: run the directory with a Proc instead.
    const sl = new Proc('sluice', [sluiceBin(), '-f', dir], dir, '', {});
    t.after(() => sl.stop());
    await waitPort(sl, port);
    const r = await request(port, { path: '/a' });
    assert.equal(r.status, 200);
    assert.equal(r.header('x-server'), 'o1');
  });

  test('-f twice: both files are loaded, in the order given', async (t) => {
    const origin = await startOrigin('o2');
    t.after(() => origin.close());
    const port = await freePort();
    const dir = makeTempDir('sluice-cfg2-');
    const a = path.join(dir, 'a.cfg');
    const b = path.join(dir, 'b.cfg');
    fs.writeFileSync(a, `${defaults}\nfrontend fe\n    bind 127.0.0.1:${port}\n    default_backend be\n`);
    fs.writeFileSync(b, `backend be\n    server s1 127.0.0.1:${origin.port}\n`);
    // b alone lacks a frontend and defaults; a alone lacks the backend.
    const onlyA = await runSluice(['-c', '-f', a]);
    assert.equal(onlyA.exit.code, 1, onlyA.p.describe());
    const both = await runSluice(['-c', '-f', a, '-f', b]);
    assert.equal(both.exit.code, 0, both.p.describe());
    const reversed = await runSluice(['-c', '-f', b, '-f', a]);
    assert.match(reversed.p.output(), /missing timeouts for backend 'be'/, 'b first: its backend sees no defaults');
    const sl = new Proc('sluice', [sluiceBin(), '-f', a, '-f', b], dir, '', {});
    t.after(() => sl.stop());
    await waitPort(sl, port);
    const r = await request(port, { path: '/twice' });
    assert.equal(r.status, 200);
    assert.equal(r.header('x-server'), 'o2');
  });
});

/** Waits (bounded) until `port` accepts connections, failing early if `p` exits. */
async function waitPort(p: Proc, port: number): Promise<void> {
  const deadline = Date.now() + 10000;
  while (!(await canConnect(port))) {
    if (p.exited) throw new Error(`exited before listening\n${p.describe()}`);
    if (Date.now() > deadline) throw new Error(`port ${port} not listening\n${p.describe()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sluice running', () => {
  const cfg = (port: number, origin: number): string => `defaults
    mode http
${TIMEOUTS}
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${origin}
`;

  test('-p PIDFILE writes the pid of the process', async (t) => {
    const origin = await startOrigin();
    t.after(() => origin.close());
    const port = await freePort();
    const dir = makeTempDir('sluice-pid-');
    const pidfile = path.join(dir, 'sluice.pid');
    const p = await startSluice(cfg(port, origin.port), { args: ['-p', pidfile], waitPorts: [port] });
    t.after(() => p.stop());
    assert.equal(fs.readFileSync(pidfile, 'utf8').trim(), String(p.pid));
  });

  test('missing timeouts: the [WARNING]s are printed at start too, and it runs', async (t) => {
    const origin = await startOrigin();
    t.after(() => origin.close());
    const port = await freePort();
    const p = await startSluice(
      `defaults\n    mode http\nfrontend fe\n    bind 127.0.0.1:${port}\n    default_backend be\nbackend be\n    server s1 127.0.0.1:${origin.port}\n`,
      { waitPorts: [port] },
    );
    t.after(() => p.stop());
    await p.waitForLine(/^\[WARNING\] {2}\(\d+\) : config : missing timeouts for frontend 'fe'\.$/, 2000);
    await p.waitForLine(/^\[WARNING\] {2}\(\d+\) : config : missing timeouts for backend 'be'\.$/, 2000);
    assert.equal((await request(port)).status, 200);
  });

  test('a bind on a port in use: an [ALERT] naming the address, exit code 1', async (t) => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => r()));
    t.after(() => new Promise<void>((r) => holder.close(() => r())));
    const port = (holder.address() as net.AddressInfo).port;
    const dir = makeTempDir('sluice-inuse-');
    const file = path.join(dir, 'sluice.cfg');
    fs.writeFileSync(file, cfg(port, 1));
    const { exit, p } = await runSluice(['-f', file], dir);
    assert.equal(exit.code, 1, p.describe());
    const alert = p.lines().find((l) => l.stream === 'stderr' && l.text.startsWith('[ALERT]'));
    assert.ok(alert, p.describe());
    assert.match(alert.text, DIAG_RE);
    assert.match(alert.text, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });
});
