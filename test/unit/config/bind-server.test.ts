import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerConfig } from '../../../src/config/index.js';
import { FILE, PREAMBLE, alertAt, lines, ok, parse, warningAt } from './util.js';

function ctxAlert(line: number, msg: string): string {
  return `[ALERT]    (1) : config : [${FILE}:${line}] : ${msg}`;
}

async function bindsOf(spec: string): Promise<Array<[string, number, number]>> {
  const cfg = await ok(`${PREAMBLE}frontend f\n    bind ${spec}\n    default_backend b\nbackend b\n`);
  return cfg.proxies[0].binds.map((b) => [b.addr.host, b.addr.family, b.addr.port]);
}

test('bind addresses', async () => {
  const cases: Array<[string, Array<[string, number, number]>]> = [
    [':80', [['0.0.0.0', 4, 80]]],
    ['*:80', [['0.0.0.0', 4, 80]]],
    ['127.0.0.1:8080', [['127.0.0.1', 4, 8080]]],
    ['[::1]:80', [['::1', 6, 80]]],
    ['::1:80', [['::1', 6, 80]]],
    [':::80', [['::', 6, 80]]],
    ['[::]:80', [['::', 6, 80]]],
    ['ipv4@:80', [['0.0.0.0', 4, 80]]],
    ['ipv6@:80', [['::', 6, 80]]],
    ['tcp4@127.0.0.1:80', [['127.0.0.1', 4, 80]]],
    ['localhost:81', [['127.0.0.1', 4, 81]]],
    ['ipv6@v6.example:82', [['2001:db8::6', 6, 82]]],
    [':80,127.0.0.1:81', [['0.0.0.0', 4, 80], ['127.0.0.1', 4, 81]]],
  ];
  for (const [spec, expected] of cases) assert.deepEqual(await bindsOf(spec), expected, spec);
});

test('bind options', async () => {
  const cfg = await ok(`${PREAMBLE}frontend f
    bind :80 name web maxconn 100 backlog 512 defer-accept
    bind :::81 v6only
    bind :::82 v4v6
    default_backend b
backend b
`);
  const [a, b, c] = cfg.proxies[0].binds;
  assert.equal(a.name, 'web');
  assert.equal(a.maxconn, 100);
  assert.equal(a.v6only, false);
  assert.deepEqual(a.rawArgs, ['name', 'web', 'maxconn', '100', 'backlog', '512', 'defer-accept']);
  assert.deepEqual(a.loc, { file: FILE, line: 7 });
  assert.equal(b.v6only, true);
  assert.equal(c.v6only, false);
});

test('bind errors', async () => {
  const cases: Array<[string, string]> = [
    ['bind', "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."],
    ['bind 127.0.0.1', "'bind' : missing port specification in '127.0.0.1'"],
    ['bind :0', "'bind' : invalid port '0'"],
    ['bind :99999', "'bind' : invalid port '99999'"],
    ['bind :8080-8081', "'bind' : port ranges (':8080-8081') are not supported yet by sluice."],
    ['bind 1.2.3.4.5:80', "'bind' : invalid address: '1.2.3.4.5' in '1.2.3.4.5:80'"],
    ['bind ipv4@[::1]:80', "'bind' : invalid address: '[::1]' in 'ipv4@[::1]:80'"],
    ['bind :x80', "'bind' : invalid character 'x' in port number 'x80' in ':x80'"],
    ['bind /run/x.sock', "'bind' : UNIX sockets ('/run/x.sock') are not supported yet by sluice."],
    ['bind udp@:80', "'bind' : dgram-type address not acceptable in 'udp@:80'"],
    ['bind :80 ssl crt /x.pem', "'bind :80' in section 'frontend' : unable to stat SSL certificate from file '/x.pem' : No such file or directory."],
    ['bind :80 alpn', "'bind :80' in section 'frontend' : 'alpn' : missing the comma-delimited ALPN protocol suite"],
    ['bind :80 ssl-min-ver TLSv9', "'bind :80' in section 'frontend' : 'TLSv9' : unknown ssl/tls version"],
    ['bind :80 verify maybe', "'bind :80' in section 'frontend' : 'verify' : unknown verify method 'maybe', only 'none', 'optional', and 'required' are supported"],
    ['bind :80 proto h3', "'bind :80' in section 'frontend' : 'proto' :  unknown MUX protocol 'h3'"],
    ['bind :80 crt-list /nope.lst', "'bind :80' in section 'frontend' : 'crt-list' : cannot open file '/nope.lst' : No such file or directory"],
    ['bind :80 ca-file /nope', "'bind :80' in section 'frontend' : 'ca-file' : unable to load /nope"],
    ['bind :80 npn h2', "'bind :80' in section 'frontend' : 'npn' is not supported yet by sluice."],
    ['bind :80 foo', "'bind :80' in section 'frontend': unknown keyword 'foo'; did you mean 'tfo' maybe ?"],
    ['bind :80 name', "'bind :80' in section 'frontend' : 'name' : missing name"],
    ['bind :80 maxconn -1', "'bind :80' in section 'frontend' : 'maxconn' : invalid value -1, must be >= 0"],
  ];
  for (const [line, msg] of cases) {
    const r = await parse(`${PREAMBLE}frontend f\n    ${line}\n    default_backend b\nbackend b\n`);
    const got = lines(r).filter((l) => l.includes(':7]'));
    assert.deepEqual(got.slice(0, 1), [alertAt(7, msg)], line);
  }
  // Every unsupported option of a line is reported.
  const r = await parse(`${PREAMBLE}frontend f\n    bind :80 npn h2 tfo accept-proxy\n`);
  assert.equal(lines(r).filter((l) => l.includes('not supported yet')).length, 3);
  const d = await parse(`${PREAMBLE}    bind :80\n`);
  assert.deepEqual(lines(d).slice(0, 1), [alertAt(6, "'bind' not allowed in 'defaults' section.")]);
  const be = await parse(`${PREAMBLE}backend b\n    bind :80\n`);
  assert.deepEqual(lines(be), [warningAt(7, "'bind' ignored because backend 'b' has no frontend capability.")]);
  assert.deepEqual(be.config?.proxies[0].binds, []);
});

async function servers(body: string): Promise<ServerConfig[]> {
  const cfg = await ok(`${PREAMBLE}backend b\n${body}\n`);
  return [...cfg.proxies[0].servers];
}

test('server addresses', async () => {
  const s = await servers(`    server a 127.0.0.1:8080
    server b 127.0.0.1
    server c [::1]:81
    server d localhost:82
    server e ipv6@v6.example:83
    server f app.example`);
  assert.deepEqual(
    s.map((x) => x.addr),
    [
      { host: '127.0.0.1', family: 4, port: 8080 },
      { host: '127.0.0.1', family: 4, port: 0 },
      { host: '::1', family: 6, port: 81 },
      { host: '127.0.0.1', family: 4, port: 82, fqdn: 'localhost' },
      { host: '2001:db8::6', family: 6, port: 83, fqdn: 'v6.example' },
      { host: '192.0.2.10', family: 4, port: 0, fqdn: 'app.example' },
    ],
  );
});

test('server parameters and defaults', async () => {
  const [d, p] = await servers(`    server d 127.0.0.1:80
    server p 127.0.0.1:81 weight 50 backup disabled maxconn 10 maxqueue 20 pool-max-conn 5 pool-purge-delay 2s max-reuse 100 id 9 check inter 2s fall 2 rise 3`);
  assert.deepEqual(
    { ...d, loc: undefined },
    {
      name: 'd',
      id: 1,
      addr: { host: '127.0.0.1', family: 4, port: 80 },
      weight: 1,
      backup: false,
      disabled: false,
      maxconn: 0,
      maxqueue: 0,
      poolMaxConn: -1,
      poolPurgeDelay: 5000,
      maxReuse: -1,
      check: false,
      checkInter: 2000,
      checkRise: 2,
      checkFall: 3,
      checkSsl: false,
      checkSendProxy: false,
      errorLimit: 10,
      onError: 'fail-check',
      onMarkedDownShutdown: false,
      onMarkedUpShutdownBackups: false,
      slowstart: 0,
      rawArgs: [],
      loc: undefined,
    },
  );
  assert.deepEqual(
    [p.id, p.weight, p.backup, p.disabled, p.maxconn, p.maxqueue, p.poolMaxConn, p.poolPurgeDelay, p.maxReuse, p.check],
    [9, 50, true, true, 10, 20, 5, 2000, 100, true],
  );
  assert.deepEqual(p.rawArgs.slice(-7), ['check', 'inter', '2s', 'fall', '2', 'rise', '3']);
  assert.deepEqual(p.loc, { file: FILE, line: 8 });
});

test('default-server applies to the servers after it', async () => {
  const s = await servers(`    server a 127.0.0.1:80
    default-server weight 20 maxconn 7 inter 3s
    server b 127.0.0.1:81
    server c 127.0.0.1:82 weight 5
    default-server backup
    server d 127.0.0.1:83 no-backup`);
  assert.deepEqual(s.map((x) => [x.name, x.weight, x.maxconn, x.backup]), [
    ['a', 1, 0, false],
    ['b', 20, 7, false],
    ['c', 5, 7, false],
    ['d', 20, 7, false],
  ]);
  assert.deepEqual(s[1].rawArgs, ['weight', '20', 'maxconn', '7', 'inter', '3s']);
  const e = await servers('    default-server disabled\n    server e 127.0.0.1:80 enabled');
  assert.equal(e[0].disabled, false);
});

test('server errors', async () => {
  const cases: Array<[string, string]> = [
    ['server', "'server' expects <name> and <addr>[:<port>] as arguments."],
    ['server s', "'server' expects <name> and <addr>[:<port>] as arguments."],
    ['server s/1 127.0.0.1', "character '/' is not permitted in server name 's/1'."],
    ['server s 127.0.0.1:80-90', "'server b/s' : port range not permitted here in '127.0.0.1:80-90'"],
    ['server s 127.0.0.1:+1', "'server b/s' : port offsets ('127.0.0.1:+1') are not supported yet by sluice."],
    ['server s 127.0.0.1:99999', "'server b/s' : invalid port '99999'"],
    ['server s 127.0.0.1 weight 300', "'server b/s' : weight of server s is not within 0 and 256 (300).."],
    ['server s 127.0.0.1 foo', "'server b/s' : unknown keyword 'foo'; did you mean 'tfo' maybe ?"],
    ['server s 127.0.0.1 ssl verify maybe', "'server b/s' : 'verify' : unknown verify method 'maybe', only 'none' and 'required' are supported."],
    ['server s 127.0.0.1 ssl verify none sni', "'server b/s' : 'sni' : missing sni expression."],
    ['server s 127.0.0.1 ssl verify none alpn', "'server b/s' : 'alpn' : missing the comma-delimited ALPN protocol suite."],
    ['server s 127.0.0.1 ssl verify none ssl-min-ver TLSv9', "'server b/s' : 'TLSv9' : unknown ssl/tls version."],
    ['server s 127.0.0.1 ssl verify none crt /nope.pem', "'server b/s' : unable to stat SSL certificate from file '/nope.pem' : No such file or directory."],
    ['server s 127.0.0.1 ssl', "'server b/s' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."],
    ['server s 127.0.0.1 send-proxy-v2-ssl', "'server b/s' : 'send-proxy-v2-ssl' is not supported yet by sluice."],
    ['server s 127.0.0.1 id 0', "'server b/s' : 'id' : custom id has to be > 0."],
    ['server s 127.0.0.1 pool-max-conn -2', "'server b/s' : 'pool-max-conn' must be >= -1."],
    ['server s 127.0.0.1 rise 0', "'server b/s' : 'rise' has to be > 0.."],
    ['server s 127.0.0.1 inter', "'server b/s' : 'inter' expects a delay as argument.."],
    ['server s /run/app.sock', "'server b/s' : servers on UNIX sockets ('/run/app.sock') are not supported yet by sluice."],
    ['default-server foo', "unknown keyword 'foo'; did you mean 'tfo' maybe ? Hint: no address was expected for this server."],
  ];
  for (const [line, msg] of cases) {
    const r = await parse(`${PREAMBLE}backend b\n    ${line}\n`);
    assert.deepEqual(lines(r).slice(0, 1), [ctxAlert(7, msg)], line);
  }
  const dup = await parse(`${PREAMBLE}backend b\n    server a 127.0.0.1 id 3\n    server c 127.0.0.1 id 3\n`);
  assert.deepEqual(lines(dup).slice(0, 1), [ctxAlert(8, `'server b/c' : 'id' : custom id 3 already used at ${FILE}:7 ('server a').`)]);
  const def = await parse(`${PREAMBLE}backend b\n    default-server id 3\n`);
  assert.ok(def.config, 'a default-server id is a non-fatal alert');
  assert.deepEqual(lines(def), [ctxAlert(7, "'id' option is not accepted in default-server sections")]);
  const inDefaults = await parse(`${PREAMBLE}    server s 127.0.0.1\n`);
  assert.deepEqual(lines(inDefaults).slice(0, 1), [ctxAlert(6, "'server' not allowed in 'defaults' section.")]);
  const inFe = await parse(`${PREAMBLE}frontend f\n    bind :80\n    server s 127.0.0.1\n`);
  assert.deepEqual(lines(inFe).slice(0, 1), [
    ctxAlert(8, `parsing [${FILE}:8] : 'server' not allowed because frontend 'f' has no backend capability.`),
  ]);
});

test('server addresses that do not resolve', async () => {
  const r = await parse(`${PREAMBLE}backend b\n    server s nosuch.invalid:80\n`);
  assert.equal(r.config, undefined);
  assert.deepEqual(lines(r), [
    ctxAlert(7, "'server b/s' : could not resolve address 'nosuch.invalid'."),
    '[ALERT]    (1) : config : Failed to initialize server(s) addr.',
  ]);
  const b = await parse(`${PREAMBLE}frontend f\n    bind nosuch.invalid:80\n`);
  assert.deepEqual(lines(b).filter((l) => l.includes('invalid address')), [
    alertAt(7, "'bind' : invalid address: 'nosuch.invalid' in 'nosuch.invalid:80'"),
  ]);
  assert.equal(lines(b).at(-1), '[ALERT]    (1) : config : Fatal errors found in configuration.');
});
