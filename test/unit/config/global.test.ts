import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertAt, lines, ok, parse, warningAt } from './util.js';

test('global keywords fill GlobalConfig', async () => {
  const cfg = await ok(`global
    maxconn 5000
    log-tag edge
    pidfile /run/sluice.pid
    daemon
    nbthread 4
    hard-stop-after 30s
    grace 1s
    tune.bufsize 32768
    tune.maxrewrite 2048
    tune.http.maxhdr 200
`);
  const g = cfg.global;
  assert.equal(g.maxconn, 5000);
  assert.equal(g.logTag, 'edge');
  assert.equal(g.pidfile, '/run/sluice.pid');
  assert.equal(g.daemon, true);
  assert.equal(g.nbthread, 4);
  assert.equal(g.hardStopAfter, 30000);
  assert.equal(g.grace, 1000);
  assert.deepEqual({ ...g.tune, h2: undefined }, { bufsize: 32768, maxrewrite: 2048, maxhdr: 200, h2: undefined });
  assert.deepEqual(g.loc, { file: '/etc/sluice/test.cfg', line: 1 });
});

test('global defaults', async () => {
  const g = (await ok('global\n')).global;
  assert.equal(g.maxconn, 0);
  assert.equal(g.logTag, 'sluice');
  assert.equal(g.daemon, false);
  assert.equal(g.nbthread, 0);
  assert.equal(g.grace, 0);
  assert.equal(g.hardStopAfter, undefined);
  assert.equal(g.pidfile, undefined);
  assert.deepEqual(g.tune, {
    bufsize: 16384,
    maxrewrite: 1024,
    maxhdr: 101,
    // HAProxy 2.6's HTTP/2 defaults (the initial window is 65535 up to 3.0).
    h2: {
      headerTableSize: 4096,
      maxFrameSize: 16384,
      fe: { initialWindowSize: 65535, maxConcurrentStreams: 100 },
      be: { initialWindowSize: 65535, maxConcurrentStreams: 100 },
    },
  });
  assert.deepEqual(g.logs, []);
});

test('tune.maxrewrite is capped at half the buffer, tune.bufsize rounded up', async () => {
  const g = (await ok('global\n  tune.bufsize 1000\n  tune.maxrewrite 900\n')).global;
  assert.deepEqual([g.tune.bufsize, g.tune.maxrewrite, g.tune.maxhdr], [1008, 504, 101]);
});

test('global log targets', async () => {
  const cfg = await ok(`global
    log stdout format raw local0
    log stderr len 2048 format iso daemon info
    log 127.0.0.1:514 local0
    log 127.0.0.1 local1 notice err
    log ipv4@10.0.0.1:1514 user
    log [::1]:515 local7
    log /dev/log local2
    log unix@/run/log.sock local3
    log localhost:1234 local4
`);
  const l = cfg.global.logs.map(({ loc: _loc, ...t }) => t);
  assert.deepEqual(l, [
    { kind: 'stdout', format: 'raw', facility: 16, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'stderr', format: 'iso', facility: 3, maxLevel: 6, minLevel: 0, len: 2048 },
    { kind: 'udp', host: '127.0.0.1', port: 514, family: 4, format: 'local', facility: 16, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'udp', host: '127.0.0.1', port: 514, family: 4, format: 'local', facility: 17, maxLevel: 5, minLevel: 3, len: 1024 },
    { kind: 'udp', host: '10.0.0.1', port: 1514, family: 4, format: 'local', facility: 1, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'udp', host: '::1', port: 515, family: 6, format: 'local', facility: 23, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'unix', path: '/dev/log', format: 'local', facility: 18, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'unix', path: '/run/log.sock', format: 'local', facility: 19, maxLevel: 7, minLevel: 0, len: 1024 },
    { kind: 'udp', host: '127.0.0.1', port: 1234, family: 4, format: 'local', facility: 20, maxLevel: 7, minLevel: 0, len: 1024 },
  ]);
  assert.deepEqual(cfg.global.logs[2].loc, { file: '/etc/sluice/test.cfg', line: 4 });
});

test('global errors, with HAProxy texts', async () => {
  const cases: Array<[string, string[]]> = [
    ['nbproc 2', [alertAt(2, 'nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.')]],
    ['maxcon 10', [alertAt(2, "unknown keyword 'maxcon' in 'global' section; did you mean 'maxconn' maybe ?")]],
    ['frobnicate', [alertAt(2, "unknown keyword 'frobnicate' in 'global' section")]],
    ['daemon 1', [alertAt(2, "'daemon' cannot handle unexpected argument '1'.")]],
    ['nbthread 0', [alertAt(2, "'nbthread' value must be between 1 and 64 (was 0)")]],
    ['nbthread x', [alertAt(2, "'nbthread' passed a missing or unparsable integer value in 'x'")]],
    ['log-tag', [alertAt(2, "'log-tag' expects a tag for use in syslog.")]],
    ['hard-stop-after 10x', [alertAt(2, "unexpected character 'x' in argument to <hard-stop-after>.")]],
    ['grace 30d', [alertAt(2, "timer overflow in argument '30d' to 'grace' (maximum value is 2147483647 ms or ~24.8 days)")]],
    ['log stdout len 10 local0', [alertAt(2, "log : invalid log length '10', must be between 80 and 65535")]],
    ['log stdout format foo local0', [alertAt(2, "log : unknown log format 'foo'")]],
    ['log stdout local9', [alertAt(2, "log : unknown log facility 'local9'")]],
    ['log stdout local0 loud', [alertAt(2, "log : unknown optional log level 'loud'")]],
    ['log stdout local0 info x', [alertAt(2, "log : unknown optional minimum log level 'x'")]],
    ['log stdout local0 info err z', [alertAt(2, "log : cannot handle unexpected argument 'z'")]],
    ['log global', [alertAt(2, "log : 'global' is not supported for a global syslog server")]],
    ['log stdout', [alertAt(2, 'log : expects <address> and <facility>  as arguments')]],
    ['log ring@buf local0', [alertAt(2, "log : logging to rings ('ring@buf') is not supported yet by sluice")]],
    ['stats socket /run/haproxy.sock', [alertAt(2, "'stats socket' is not supported yet by sluice.")]],
    ['lua-load /x.lua', [alertAt(2, "'lua-load' is not supported yet by sluice.")]],
    ['tune.http.maxhdr 0', [alertAt(2, "'tune.http.maxhdr' expects a numeric value between 1 and 32767")]],
    ['chroot /var/empty', [alertAt(2, "'chroot' is not supported yet by sluice (it cannot change its root directory).")]],
    ['uid abc', [warningAt(2, " uid: string 'abc' is not a number.\n   | You might want to use the 'user' parameter to use a system user name.")]],
  ];
  for (const [line, expected] of cases) {
    const r = await parse(`global\n    ${line}\n`);
    const got = lines(r).filter((l) => !l.includes('Error(s) found') && !l.includes('Fatal errors'));
    assert.deepEqual(got, expected, line);
  }
});

test('repeated global keywords are non-fatal alerts', async () => {
  const r = await parse('global\n  maxconn 10\n  maxconn 20\n');
  assert.ok(r.config);
  assert.equal(r.config.global.maxconn, 10);
  assert.deepEqual(lines(r), [alertAt(3, "'maxconn' already specified. Continuing.")]);
});

test('tuning knobs and TLS defaults are accepted without effect', async () => {
  const r = await parse(`global
    tune.ssl.cachesize 1000
    tune.h2.initial-window-size 65535
    ssl-default-bind-ciphers ECDHE+AESGCM
    ssl-default-bind-options ssl-min-ver TLSv1.2
    ca-base /etc/ssl/certs
    noepoll
    spread-checks 5
    expose-experimental-directives
`);
  assert.ok(r.config);
  assert.deepEqual(lines(r), []);
});

test('ulimit-n is ignored with a warning', async () => {
  const r = await parse('global\n  ulimit-n 65536\n');
  assert.ok(r.config);
  assert.deepEqual(lines(r), [warningAt(2, "'ulimit-n' is ignored: sluice does not change the file descriptor limit of its process.")]);
});

test('setenv, presetenv, unsetenv and resetenv change later expansions', async () => {
  const cfg = await ok(
    `global
    setenv TAG first
    presetenv TAG ignored
    presetenv OTHER other
    log-tag "$TAG-$OTHER"
`,
    { env: { KEEP: 'k' } },
  );
  assert.equal(cfg.global.logTag, 'first-other');
  const r = await parse('global\n  unsetenv KEEP\n  log-tag "${KEEP-gone}"\n', { env: { KEEP: 'k' } });
  assert.equal(r.config?.global.logTag, 'gone');
  const r2 = await parse('global\n  resetenv KEEP\n  log-tag "${KEEP}${DROP-x}"\n', { env: { KEEP: 'k', DROP: 'd' } });
  assert.equal(r2.config?.global.logTag, 'kx');
});

test('zero-warning turns warnings into a failure', async () => {
  const r = await parse('global\n  zero-warning\n  ulimit-n 100\n');
  assert.equal(r.config, undefined);
  assert.equal(lines(r).at(-1), "[ALERT]    (1) : config : Some warnings were found and 'zero-warning' is set. Aborting.");
});

test('tune.h2: common values, per-side values win over them, HAProxy\'s checks', async () => {
  const g = (
    await ok(`global
    tune.h2.initial-window-size 1048576
    tune.h2.be.initial-window-size 32768
    tune.h2.max-concurrent-streams 10
    tune.h2.fe.max-concurrent-streams 0
    tune.h2.header-table-size 8192
    tune.h2.max-frame-size 32768
    tune.bufsize 65536
`)
  ).global;
  assert.deepEqual(g.tune.h2, {
    headerTableSize: 8192,
    maxFrameSize: 32768,
    fe: { initialWindowSize: 1048576, maxConcurrentStreams: 0 },
    be: { initialWindowSize: 32768, maxConcurrentStreams: 10 },
  });
  // A frame must fit in a buffer: with the default 16384-byte buffers, 16384 is announced.
  const capped = (await ok('global\n    tune.h2.max-frame-size 32768\n')).global;
  assert.equal(capped.tune.h2.maxFrameSize, 16384);
  const bad: Array<[string, string]> = [
    ['tune.h2.header-table-size 100', "'tune.h2.header-table-size' expects a numeric value between 4096 and 65536."],
    ['tune.h2.max-frame-size 100', "'tune.h2.max-frame-size' expects a numeric value between 16384 and 16777215."],
    ['tune.h2.fe.initial-window-size -1', "'tune.h2.fe.initial-window-size' expects a positive numeric value."],
    ['tune.h2.be.max-concurrent-streams -5', "'tune.h2.be.max-concurrent-streams' expects a positive numeric value."],
  ];
  for (const [line, msg] of bad) {
    const r = await parse(`global\n    ${line}\n`);
    assert.deepEqual(lines(r).slice(0, 1), [alertAt(2, msg)], line);
  }
});
