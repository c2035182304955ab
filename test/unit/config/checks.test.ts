// The configuration side of health checks (issue #5): the finished `checks` rulesets of backends
// as HAProxy 2.6 runs them (implicit connect and expect, the `option httpchk` request merged
// into `http-check send` in either order, defaults inheritance, comments carried onto rules,
// step numbers), and the check settings of servers (default-server included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckRule, Config, ProxyConfig, ServerConfig } from '../../../src/config/index.js';
import { FILE, PREAMBLE, alertAt, lines, messages, ok, parse } from './util.js';

/** A backend `be` made of `body` lines, after PREAMBLE (its first line is line 7). */
function be(body: string, pre = PREAMBLE): string {
  return `${pre}backend be\n${body}`;
}

function backend(cfg: Config, name = 'be'): ProxyConfig {
  const p = cfg.proxies.find((x) => x.name === name);
  assert.ok(p, `no proxy ${name}`);
  return p;
}

type Loose = Record<string, unknown>;

/** The rules without their locations, for comparisons. */
function rulesOf(p: ProxyConfig): Loose[] {
  assert.ok(p.checks, `${p.name} has no check ruleset`);
  return p.checks.rules.map((r: CheckRule) => {
    const { loc: _loc, ...rest } = r;
    return rest as Loose;
  });
}

const IMPLICIT_CONNECT = { kind: 'connect', useDefault: true, sendProxy: false, ssl: false, linger: false, implicit: true, step: 0 } as const;
const CONNECT = { kind: 'connect', useDefault: false, sendProxy: false, ssl: false, linger: false } as const;

function implicitExpect(step: number): Loose {
  return {
    kind: 'expect',
    negate: false,
    type: 'status',
    pattern: '200-399',
    codes: [[200, 399]],
    minRecv: -1,
    okStatus: 'L7OK',
    errorStatus: 'L7STS',
    toutStatus: 'L7TOUT',
    step,
  };
}

function httpSend(http: Loose, step: number, extra: Loose = {}): Loose {
  return { kind: 'send', http: { uriLf: false, hdrs: [], bodyLf: false, ...http }, ...extra, step };
}

const SERVER = '    server s1 127.0.0.1:80 check\n';

test('option httpchk alone: connect default, the request, expect status 200-399', async () => {
  const p = backend(await ok(be(`    option httpchk\n${SERVER}`)));
  assert.equal(p.checks?.type, 'http');
  assert.deepEqual(rulesOf(p), [IMPLICIT_CONNECT, httpSend({}, 1), implicitExpect(2)]);
  assert.equal(p.checks?.disableOn404, false);
  assert.equal(p.checks?.sendState, false);
  // The implicit rules carry the backend's place.
  assert.deepEqual(p.checks?.rules[0].loc, { file: FILE, line: 6 });
});

test('option httpchk: <uri>, <method> <uri>, <method> <uri> <version>', async () => {
  const req = async (args: string): Promise<unknown> => {
    const p = backend(await ok(be(`    option httpchk ${args}\n${SERVER}`)));
    return rulesOf(p)[1].http;
  };
  assert.deepEqual(await req('/health'), { uriLf: false, hdrs: [], bodyLf: false, uri: '/health' });
  assert.deepEqual(await req('HEAD /health'), { uriLf: false, hdrs: [], bodyLf: false, meth: 'HEAD', uri: '/health' });
  assert.deepEqual(await req('GET /health HTTP/1.1'), { uriLf: false, hdrs: [], bodyLf: false, meth: 'GET', uri: '/health', ver: 'HTTP/1.1' });
});

test('option httpchk: headers and a body hidden after the version are kept, with the warning', async () => {
  const r = await parse(be(`    option httpchk POST /x HTTP/1.1\\r\\nHost:\\ www\\r\\nX-A:\\ 1\\r\\n\\r\\nhello\n${SERVER}`));
  assert.deepEqual(lines(r), [
    `[WARNING]  (1) : config : parsing [${FILE}:7]: 'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.`,
  ]);
  const p = backend(r.config!);
  assert.deepEqual(rulesOf(p)[1], httpSend({ meth: 'POST', uri: '/x', ver: 'HTTP/1.1', hdrs: [{ name: 'Host', value: 'www' }, { name: 'X-A', value: '1' }], body: 'hello' }, 1));
  // A body without headers.
  const q = backend(await ok(be(`    option httpchk GET / HTTP/1.1\\r\\n\\r\\nbody\n${SERVER}`)));
  assert.deepEqual(rulesOf(q)[1], httpSend({ meth: 'GET', uri: '/', ver: 'HTTP/1.1', body: 'body' }, 1));
});

test('http-check send after option httpchk: merged, the explicit parts win, its headers replace the hidden ones', async () => {
  const p = backend(
    await ok(be(`    option httpchk GET /opt HTTP/1.1\\r\\nX-Old:\\ 1\n    http-check comment merged\n    http-check send uri /explicit hdr X-New 2 body b\n${SERVER}`)),
  );
  assert.deepEqual(rulesOf(p), [
    IMPLICIT_CONNECT,
    httpSend({ meth: 'GET', uri: '/explicit', ver: 'HTTP/1.1', hdrs: [{ name: 'X-New', value: '2' }], body: 'b' }, 1, { comment: 'merged' }),
    implicitExpect(2),
  ]);
  // Without headers of its own, the send keeps those of the option.
  const q = backend(await ok(be(`    option httpchk GET /opt HTTP/1.1\\r\\nX-Old:\\ 1\n    http-check send meth HEAD\n${SERVER}`)));
  assert.deepEqual(rulesOf(q)[1], httpSend({ meth: 'HEAD', uri: '/opt', ver: 'HTTP/1.1', hdrs: [{ name: 'X-Old', value: '1' }] }, 1));
});

test('option httpchk after http-check send: the option parts win, the send keeps the rest and its comment', async () => {
  const p = backend(await ok(be(`    http-check send meth GET uri /explicit hdr X-A 1 body b comment mine\n    option httpchk POST /m HTTP/1.1\n${SERVER}`)));
  assert.deepEqual(rulesOf(p), [
    IMPLICIT_CONNECT,
    httpSend({ meth: 'POST', uri: '/m', ver: 'HTTP/1.1', hdrs: [{ name: 'X-A', value: '1' }], body: 'b' }, 1, { comment: 'mine' }),
    implicitExpect(2),
  ]);
  // A second option httpchk replaces the first request; an option without arguments changes nothing.
  const q = backend(await ok(be(`    option httpchk GET /a\n    option httpchk HEAD /b\n${SERVER}`)));
  assert.deepEqual(rulesOf(q)[1], httpSend({ meth: 'HEAD', uri: '/b' }, 1));
  const r = backend(await ok(be(`    http-check send meth GET uri /keep\n    option httpchk\n${SERVER}`)));
  assert.deepEqual(rulesOf(r)[1], httpSend({ meth: 'GET', uri: '/keep' }, 1));
});

test('explicit connect rules: no implicit connect; the option request moves after the first connect', async () => {
  const p = backend(
    await ok(be(`    option httpchk GET /x\n    http-check connect port 8080 linger\n    http-check send hdr Host a\n    http-check expect status 200\n${SERVER}`)),
  );
  // The merged send keeps the index of the option's request (step 1), as in HAProxy.
  assert.deepEqual(rulesOf(p), [
    { ...CONNECT, port: 8080, linger: true, step: 1 },
    httpSend({ meth: 'GET', uri: '/x', hdrs: [{ name: 'Host', value: 'a' }] }, 1),
    { kind: 'expect', negate: false, type: 'status', pattern: '200', codes: [[200, 200]], minRecv: -1, okStatus: 'L7OK', errorStatus: 'L7STS', toutStatus: 'L7TOUT', step: 2 },
  ]);
  // A connect written before the option: the option's request is moved behind it at the end.
  const q = backend(await ok(be(`    http-check connect port 8080\n    option httpchk GET /y\n${SERVER}`)));
  assert.deepEqual(rulesOf(q), [{ ...CONNECT, port: 8080, step: 1 }, httpSend({ meth: 'GET', uri: '/y' }, 2), implicitExpect(3)]);
});

test('sequences of connect/send/expect and the closing expect', async () => {
  const p = backend(
    await ok(
      be(`    option httpchk
    http-check connect
    http-check send meth GET uri /one
    http-check expect status 200
    http-check connect port 8081
    http-check send meth GET uri /two
${SERVER}`),
    ),
  );
  const r = rulesOf(p);
  assert.deepEqual(
    r.map((x) => [x.kind, x.step]),
    [['connect', 1], ['send', 1], ['expect', 2], ['connect', 3], ['send', 4], ['expect', 5]],
  );
  assert.deepEqual(r[5], implicitExpect(5));
  // Ending with an expect: nothing is added.
  const q = backend(await ok(be(`    option httpchk\n    http-check send uri /x\n    http-check expect rstatus ^2\n${SERVER}`)));
  assert.equal(rulesOf(q).length, 3);
  assert.equal(rulesOf(q)[2].type, 'rstatus');
});

test('http-check expect: patterns, negation, statuses, min-recv, messages, comments', async () => {
  const expectOf = async (line: string): Promise<Record<string, unknown>> => {
    const p = backend(await ok(be(`    option httpchk\n    http-check send\n    http-check expect ${line}\n${SERVER}`)));
    const { step: _s, ...rest } = rulesOf(p)[2];
    return rest;
  };
  const base = { kind: 'expect', negate: false, minRecv: -1, okStatus: 'L7OK', toutStatus: 'L7TOUT' };
  assert.deepEqual(await expectOf('status 200,301-302,'), { ...base, type: 'status', pattern: '200,301-302,', codes: [[200, 200], [301, 302], [0, 0]], errorStatus: 'L7STS' });
  assert.deepEqual(await expectOf('! rstatus ^5'), { ...base, negate: true, type: 'rstatus', pattern: '^5', errorStatus: 'L7STS' });
  assert.deepEqual(await expectOf('!!string up'), { ...base, type: 'string', pattern: 'up', errorStatus: 'L7RSP' });
  assert.deepEqual(await expectOf('!rstring ^down'), { ...base, negate: true, type: 'rstring', pattern: '^down', errorStatus: 'L7RSP' });
  assert.deepEqual(await expectOf('string-lf "a%%b"'), { ...base, type: 'string-lf', pattern: 'a%%b', errorStatus: 'L7RSP' });
  assert.deepEqual(await expectOf('min-recv 10 ok-status l7okc error-status L7RSP tout-status L6TOUT on-success up on-error down comment c status 200'), {
    ...base,
    type: 'status',
    pattern: '200',
    codes: [[200, 200]],
    minRecv: 10,
    okStatus: 'L7OKC',
    errorStatus: 'L7RSP',
    errorStatusSet: true,
    toutStatus: 'L6TOUT',
    onSuccess: 'up',
    onError: 'down',
    comment: 'c',
  });
  assert.deepEqual(await expectOf('hdr name X-Up'), {
    ...base,
    type: 'hdr',
    pattern: 'X-Up',
    hdr: { name: 'X-Up', nameMatch: 'str', valueMatch: 'str' },
    errorStatus: 'L7STS',
  });
  assert.deepEqual(await expectOf('fhdr name -m beg x- value -m reg ^(a|b)$'), {
    ...base,
    type: 'fhdr',
    pattern: 'x-',
    hdr: { name: 'x-', nameMatch: 'beg', value: '^(a|b)$', valueMatch: 'reg' },
    errorStatus: 'L7STS',
  });
  // Constant log-format names and values are read once ('%%' is a '%').
  assert.deepEqual(await expectOf('hdr name-lf x-%%p value-lf 1%%'), {
    ...base,
    type: 'hdr',
    pattern: 'x-%p',
    hdr: { name: 'x-%p', nameMatch: 'str', value: '1%', valueMatch: 'str' },
    errorStatus: 'L7STS',
  });
});

test('disable-on-404 and send-state, on the ruleset', async () => {
  const p = backend(await ok(be(`    option httpchk\n    http-check disable-on-404\n    http-check send-state\n${SERVER}`)));
  assert.equal(p.checks?.disableOn404, true);
  assert.equal(p.checks?.sendState, true);
  // With tcp-check they are dropped with HAProxy's warnings.
  const r = await parse(be(`    option tcp-check\n    http-check disable-on-404\n    http-check send-state\n${SERVER}`));
  assert.deepEqual(messages(r), [
    "'disable-on-404' will be ignored for backend 'be' (requires 'option httpchk').",
    "'send-state' will be ignored for backend 'be' (requires 'option httpchk').",
  ]);
  assert.equal(backend(r.config!).checks?.disableOn404, false);
  assert.equal(backend(r.config!).checks?.sendState, false);
});

test('defaults: option httpchk and its rules are inherited; a backend writing rules of its own drops them', async () => {
  const defs = `${PREAMBLE}    option httpchk GET /d HTTP/1.1\n    http-check send hdr X-Def 1\n    http-check send-state\n`;
  const cfg = await ok(`${defs}backend a\n${SERVER}backend b\n    http-check send hdr X-Be 2\n${SERVER}backend c\n    http-check expect status 204\n${SERVER}backend d\n    option tcp-check\n${SERVER}frontend f\n    bind :80\n    default_backend a\n`);
  assert.deepEqual(rulesOf(backend(cfg, 'a')), [
    IMPLICIT_CONNECT,
    httpSend({ meth: 'GET', uri: '/d', ver: 'HTTP/1.1', hdrs: [{ name: 'X-Def', value: '1' }] }, 1),
    implicitExpect(2),
  ]);
  assert.equal(backend(cfg, 'a').checks?.sendState, true);
  // Its own send: the request of the defaults section is gone, not merged.
  assert.deepEqual(rulesOf(backend(cfg, 'b')), [IMPLICIT_CONNECT, httpSend({ hdrs: [{ name: 'X-Be', value: '2' }] }, 1), implicitExpect(2)]);
  // Only an expect of its own: HAProxy then sends nothing at all.
  assert.deepEqual(
    rulesOf(backend(cfg, 'c')).map((r) => r.kind),
    ['connect', 'expect'],
  );
  // option tcp-check replaces the HTTP check (a plain connect).
  assert.deepEqual(backend(cfg, 'd').checks, { type: 'tcp', rules: [{ ...IMPLICIT_CONNECT, loc: backend(cfg, 'd').loc }], disableOn404: false, sendState: false });
  assert.equal(backend(cfg, 'f').checks, undefined);
});

test('defaults: tcp-check rules count only with option tcp-check in the defaults section', async () => {
  const send = { kind: 'send', data: { text: 'hello', binary: false, lf: false }, step: 1 };
  // Enabled in the defaults: a backend saying option tcp-check again keeps the rules.
  const a = await ok(`${PREAMBLE}    option tcp-check\n    tcp-check send hello\nbackend a\n    option tcp-check\n${SERVER}backend b\n${SERVER}`);
  assert.deepEqual(rulesOf(backend(a, 'a')), [IMPLICIT_CONNECT, send]);
  assert.deepEqual(rulesOf(backend(a, 'b')), [IMPLICIT_CONNECT, send]);
  // Written without the option: a backend enabling tcp-check does not get them.
  const b = await ok(`${PREAMBLE}    tcp-check send hello\nbackend c\n    option tcp-check\n${SERVER}`);
  assert.deepEqual(rulesOf(backend(b, 'c')), [IMPLICIT_CONNECT]);
});

test('option httpchk and option tcp-check replace each other', async () => {
  const a = backend(await ok(be(`    option httpchk\n    option tcp-check\n    tcp-check send x\n${SERVER}`)));
  assert.equal(a.checks?.type, 'tcp');
  assert.deepEqual(rulesOf(a), [IMPLICIT_CONNECT, { kind: 'send', data: { text: 'x', binary: false, lf: false }, step: 1 }]);
  const b = backend(await ok(be(`    option tcp-check\n    tcp-check send x\n    option httpchk\n${SERVER}`)));
  assert.equal(b.checks?.type, 'http');
  assert.deepEqual(rulesOf(b), [IMPLICIT_CONNECT, httpSend({}, 1), implicitExpect(2)]);
});

test('rules without their option are ignored, with HAProxy warnings; no option means layer-4 checks', async () => {
  const r = await parse(be(`    http-check send uri /x\n    tcp-check send y\n${SERVER}`));
  assert.deepEqual(messages(r), [
    "backend 'be' uses http-check rules without 'option httpchk', so the rules are ignored.",
    "backend 'be' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
  ]);
  assert.equal(backend(r.config!).checks, undefined);
  assert.equal(backend(await ok(be(SERVER))).checks, undefined);
});

test('tcp-check: rules, implicit connect, comments carried onto the rules that follow', async () => {
  const p = backend(
    await ok(
      be(`    option tcp-check
    tcp-check comment greeting
    tcp-check send PING\\r\\n
    tcp-check send-binary 0d0a comment own
    tcp-check expect string +PONG
    tcp-check comment second
    tcp-check send-lf "x%%y"
    tcp-check expect !rbinary ^00 min-recv 2
    tcp-check expect binary-lf 0a
${SERVER}`),
    ),
  );
  assert.equal(p.checks?.type, 'tcp');
  const expect = { kind: 'expect', negate: false, minRecv: -1, okStatus: 'L7OK', errorStatus: 'L7RSP', toutStatus: 'L7TOUT' };
  // A comment goes to the rules after it, up to a rule of another kind; the step numbers count
  // the comment lines.
  assert.deepEqual(rulesOf(p), [
    IMPLICIT_CONNECT,
    { kind: 'send', data: { text: 'PING\r\n', binary: false, lf: false }, comment: 'greeting', step: 2 },
    { kind: 'send', data: { text: '0d0a', binary: true, lf: false }, comment: 'own', step: 3 },
    { ...expect, type: 'string', pattern: '+PONG', step: 4 },
    { kind: 'send', data: { text: 'x%%y', binary: false, lf: true }, comment: 'second', step: 6 },
    { ...expect, negate: true, type: 'rbinary', pattern: '^00', minRecv: 2, step: 7 },
    { ...expect, type: 'binary-lf', pattern: '0a', step: 8 },
  ]);
  // No rule at all: a plain connect.
  assert.deepEqual(rulesOf(backend(await ok(be(`    option tcp-check\n${SERVER}`)))), [IMPLICIT_CONNECT]);
});

test('tcp-check: explicit connect rules and their options', async () => {
  const p = backend(
    await ok(
      be(`    option tcp-check
    tcp-check comment first
    tcp-check connect port 6380 addr 127.0.0.2:6381 send-proxy ssl sni s.example alpn h2,,http/1.1 linger proto none
    tcp-check send a
    tcp-check connect default comment own
    tcp-check send b
    server s1 127.0.0.1:80 check verify none
`),
    ),
  );
  assert.deepEqual(rulesOf(p), [
    {
      kind: 'connect',
      useDefault: false,
      port: 6380,
      addr: { host: '127.0.0.2', family: 4, port: 6381 },
      sendProxy: true,
      ssl: true,
      sni: 's.example',
      alpn: ['h2', 'http/1.1'],
      linger: true,
      comment: 'first',
      step: 2,
    },
    { kind: 'send', data: { text: 'a', binary: false, lf: false }, step: 3 },
    { ...CONNECT, useDefault: true, comment: 'own', step: 4 },
    { kind: 'send', data: { text: 'b', binary: false, lf: false }, step: 5 },
  ]);
});

test('connect rules: default, proto, comment', async () => {
  const p = backend(await ok(be(`    option httpchk\n    http-check connect default proto h2 comment c\n    http-check send\n${SERVER}`)));
  assert.deepEqual(rulesOf(p)[0], { ...CONNECT, useDefault: true, proto: 'h2', comment: 'c', step: 1 });
});

test('check rule errors are refused with HAProxy texts', async () => {
  const cases: Array<[string, string]> = [
    ['    option httpchk\n    http-check send\n    http-check send', "'http-check send' : unable to add http-check send rule at step 2 (missing connect rule).."],
    ['    option httpchk\n    http-check connect\n    http-check expect status 200', "'http-check expect' : unable to add http-check expect rule at step 2 (missing send rule).."],
    ['    option tcp-check\n    tcp-check send x\n    tcp-check connect', "'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset."],
    ['    option httpchk\n    http-check expect status 300-200', "'http-check expect' : invalid range of status codes '300-200'."],
    ['    option httpchk\n    http-check expect rstatus (', "'http-check expect' : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
    ['    option tcp-check\n    tcp-check connect port 0', "'tcp-check connect' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 0.."],
    ['    option tcp-check\n    tcp-check send-binary 0z', "'tcp-check send-binary' : '0z' invalid binary string (an hex digit is expected (found 'z')).\n."],
    ['    http-check bogus', "'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'bogus'"],
  ];
  for (const [body, msg] of cases) {
    const r = await parse(be(`${body}\n`));
    assert.equal(r.config, undefined, body);
    const last = body.split('\n').length + 6;
    assert.ok(lines(r).includes(alertAt(last, msg)), `${body}\n${lines(r).join('\n')}`);
  }
});

test('what sluice cannot run is refused as not supported yet', async () => {
  const cases: Array<[string, string]> = [
    ['tcp-check connect via-socks4', "'tcp-check connect' : 'via-socks4' is not supported yet by sluice."],
    ['tcp-check connect port srv_port', "'tcp-check connect' : sample expressions as check port ('srv_port') are not supported yet by sluice."],
    ['tcp-check connect addr unix@/tmp/x', "'tcp-check connect' : check addresses on UNIX sockets ('unix@/tmp/x') are not supported yet by sluice."],
    ['tcp-check send-lf %[date]', "'tcp-check send-lf' : log-format expressions in health checks ('%[date]') are not supported yet by sluice."],
    ['tcp-check expect custom', "'tcp-check expect' : 'expect custom' is not supported yet by sluice."],
    ['tcp-check set-var(check.x) int(1)', "'tcp-check set-var' is not supported yet by sluice."],
    ['http-check unset-var(check.x)', "'http-check unset-var' is not supported yet by sluice."],
    ['http-check expect status-code int(200) status 200', "'http-check expect' : 'status-code' in expect rules is not supported yet by sluice."],
  ];
  for (const [line, msg] of cases) {
    const r = await parse(be(`    ${line}\n`));
    assert.ok(lines(r).includes(alertAt(7, msg)), `${line}\n${lines(r).join('\n')}`);
  }
});

test('option log-health-checks, inherited, negated', async () => {
  const cfg = await ok(`${PREAMBLE}    option log-health-checks\nbackend a\n${SERVER}backend b\n    no option log-health-checks\n${SERVER}`);
  assert.equal(backend(cfg, 'a').options.logHealthChecks, true);
  assert.equal(backend(cfg, 'b').options.logHealthChecks, false);
  const d = await ok(`${PREAMBLE}    option log-health-checks\nbackend c\n    no option log-health-checks\n    default option log-health-checks\n${SERVER}`);
  assert.equal(backend(d, 'c').options.logHealthChecks, true);
  assert.equal(backend(await ok(be(SERVER))).options.logHealthChecks, false);
});

test('spread-checks fills GlobalConfig.spreadChecks', async () => {
  assert.equal((await ok(`global\n    spread-checks 5\n${be(SERVER)}`)).global.spreadChecks, 5);
  assert.equal((await ok(be(SERVER))).global.spreadChecks, 0);
  const r = await parse(`global\n    spread-checks 51\n${be(SERVER)}`);
  assert.deepEqual(lines(r).slice(0, 1), [`[ALERT]    (1) : config : parsing [${FILE}:2]: 'spread-checks' needs a positive value in range 0..50.`]);
});

// ---------------------------------------------------------------------------------------------
// Servers

async function server(line: string, pre = '', check = ''): Promise<ServerConfig> {
  const cfg = await ok(be(`${check}${pre}    server s1 ${line}\n`));
  return backend(cfg).servers[0];
}

test('server check keywords fill their settings', async () => {
  const s = await server(
    '127.0.0.1:80 check addr 127.0.0.2:8080 port 8081 check-ssl verify none check-sni chk.example check-alpn h2,http/1.1 check-send-proxy ' +
      'agent-check agent-port 5000 agent-addr 127.0.0.3 agent-inter 3s agent-send "hello\\n" observe layer7 error-limit 5 on-error mark-down ' +
      'on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions slowstart 1500 init-state fully-down',
  );
  assert.deepEqual(s.checkAddr, { host: '127.0.0.2', family: 4, port: 8080 });
  assert.equal(s.checkPort, 8081);
  assert.equal(s.checkSsl, true);
  assert.equal(s.checkSni, 'chk.example');
  assert.deepEqual(s.checkAlpn, ['h2', 'http/1.1']);
  assert.equal(s.checkSendProxy, true);
  assert.deepEqual(s.agent, { port: 5000, addr: { host: '127.0.0.3', family: 4 }, inter: 3000, send: 'hello\n' });
  assert.equal(s.observe, 'layer7');
  assert.equal(s.errorLimit, 5);
  assert.equal(s.onError, 'mark-down');
  assert.equal(s.onMarkedDownShutdown, true);
  assert.equal(s.onMarkedUpShutdownBackups, true);
  // HAProxy keeps whole seconds, rounded up.
  assert.equal(s.slowstart, 2000);
  assert.equal(s.initState, 'fully-down');
});

test('server check defaults', async () => {
  const s = await server('127.0.0.1:80 check');
  assert.equal(s.checkSendProxy, false);
  assert.equal(s.checkSsl, false);
  assert.equal(s.errorLimit, 10);
  assert.equal(s.onError, 'fail-check');
  assert.equal(s.slowstart, 0);
  for (const k of ['checkAddr', 'checkSni', 'checkAlpn', 'checkProto', 'agent', 'observe', 'initState'] as const) assert.equal(s[k], undefined, k);
});

test('agent: the port and address of checks serve the agent unless agent-port/agent-addr say otherwise', async () => {
  assert.deepEqual((await server('127.0.0.1:80 check agent-check port 81 addr 127.0.0.9')).agent, { port: 81, addr: { host: '127.0.0.9', family: 4 }, inter: 2000 });
  assert.deepEqual((await server('127.0.0.1:80 check agent-port 82 agent-check port 81')).agent, { port: 82, inter: 2000 });
  assert.equal((await server('127.0.0.1:80 check agent-check agent-port 82 no-agent-check')).agent, undefined);
  // agent-inter does not follow inter.
  assert.equal((await server('127.0.0.1:80 check inter 5s agent-check agent-port 82')).agent?.inter, 2000);
  const r = await parse(be('    server s1 127.0.0.1:80 check agent-check\n'));
  assert.deepEqual(lines(r).slice(0, 1), [`[ALERT]    (1) : config : [${FILE}:7] : 'server be/s1' : server s1 does not have agent port. Agent check has been disabled.`]);
});

test('check TLS follows ssl unless port or addr is set; check-ssl and no-check-ssl decide', async () => {
  assert.equal((await server('127.0.0.1:443 check ssl verify none')).checkSsl, true);
  assert.equal((await server('127.0.0.1:443 check ssl verify none port 8443')).checkSsl, false);
  assert.equal((await server('127.0.0.1:443 check ssl verify none addr 127.0.0.2')).checkSsl, false);
  assert.equal((await server('127.0.0.1:443 check ssl verify none port 8443 check-ssl')).checkSsl, true);
  assert.equal((await server('127.0.0.1:443 check ssl verify none no-check-ssl')).checkSsl, false);
  assert.equal((await server('127.0.0.1:80 check check-ssl verify none')).checkSsl, true);
});

test('check mux: HTTP checks follow the server proto, check-proto wins; other checks never inherit it', async () => {
  assert.equal((await server('127.0.0.1:80 check proto h2', '', '    option httpchk\n')).checkProto, 'h2');
  assert.equal((await server('127.0.0.1:80 check proto h2 check-proto h1', '', '    option httpchk\n')).checkProto, 'h1');
  assert.equal((await server('127.0.0.1:80 check proto h2')).checkProto, undefined);
  assert.equal((await server('127.0.0.1:80 check proto h2', '', '    option tcp-check\n')).checkProto, undefined);
  assert.equal((await server('127.0.0.1:80 check proto h2 check-proto none', '', '    option tcp-check\n')).checkProto, undefined);
  const r = await parse(be('    server s1 127.0.0.1:80 check check-proto h2\n'));
  assert.deepEqual(messages(r).slice(0, 1), ["config: backend 'be': server 's1' uses an incompatible MUX protocol for the selected check type"]);
});

test('default-server carries the check settings to the servers after it', async () => {
  const cfg = await ok(
    be(`    default-server addr 127.0.0.2 port 8081 check-ssl verify none check-sni d.example check-alpn h2 check-send-proxy agent-check agent-port 5000 agent-send ping agent-inter 1s observe layer4 error-limit 3 on-error sudden-death on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions slowstart 2s init-state down
    server s1 127.0.0.1:80 check
    server s2 127.0.0.1:80 check no-check-ssl no-check-send-proxy no-agent-check observe none
`),
  );
  const [s1, s2] = backend(cfg).servers;
  assert.deepEqual(s1.checkAddr, { host: '127.0.0.2', family: 4 });
  assert.equal(s1.checkPort, 8081);
  assert.equal(s1.checkSsl, true);
  assert.equal(s1.checkSni, 'd.example');
  assert.deepEqual(s1.checkAlpn, ['h2']);
  assert.equal(s1.checkSendProxy, true);
  assert.deepEqual(s1.agent, { port: 5000, addr: { host: '127.0.0.2', family: 4 }, inter: 1000, send: 'ping' });
  assert.equal(s1.observe, 'layer4');
  assert.equal(s1.errorLimit, 3);
  assert.equal(s1.onError, 'sudden-death');
  assert.equal(s1.onMarkedDownShutdown, true);
  assert.equal(s1.onMarkedUpShutdownBackups, true);
  assert.equal(s1.slowstart, 2000);
  assert.equal(s1.initState, 'down');
  assert.equal(s2.checkSsl, false);
  assert.equal(s2.checkSendProxy, false);
  assert.equal(s2.agent, undefined);
  assert.equal(s2.observe, undefined);
});

test('default-server check-proto is not passed on, as in HAProxy, and sluice says so', async () => {
  const r = await parse(be('    option httpchk\n    default-server check-proto h2\n    server s1 127.0.0.1:80 check\n'));
  assert.deepEqual(messages(r), [
    `parsing [${FILE}:8] : 'check-proto' on a 'default-server' line is not passed on to the servers (as in HAProxy); set it on the 'server' lines.`,
  ]);
  assert.equal(backend(r.config!).servers[0].checkProto, undefined);
});

test('observe layer7 outside HTTP: HAProxy alert, the server does not observe, the configuration stands', async () => {
  const r = await parse(be('    mode tcp\n    server s1 127.0.0.1:80 check observe layer7 weight 5\n'));
  assert.ok(lines(r).includes(`[ALERT]    (1) : config : [${FILE}:8] : 'server be/s1' : 'layer7' can only be used in http proxies..`), lines(r).join('\n'));
  assert.ok(r.config);
  assert.equal(backend(r.config).servers[0].observe, undefined);
  assert.equal(backend(r.config).servers[0].weight, 5);
});

test('check addresses with host names are resolved at start-up; failures are HAProxy errors', async () => {
  assert.deepEqual((await server('127.0.0.1:80 check addr localhost:81')).checkAddr, { host: '127.0.0.1', family: 4, port: 81 });
  const p = backend(await ok(be(`    option tcp-check\n    tcp-check connect addr localhost port 9\n${SERVER}`)));
  assert.deepEqual(rulesOf(p)[0].addr, { host: '127.0.0.1', family: 4 });
  const r = await parse(be('    server s1 127.0.0.1:80 check addr nowhere.example agent-check agent-port 1 agent-addr nothere.example\n'));
  assert.equal(r.config, undefined);
  assert.ok(lines(r).includes(`[ALERT]    (1) : config : [${FILE}:7] : 'server be/s1' : 'addr' : invalid address: 'nowhere.example' in 'nowhere.example'.`), lines(r).join('\n'));
  assert.ok(lines(r).includes(`[ALERT]    (1) : config : [${FILE}:7] : 'server be/s1' : parsing agent-addr failed. Check if 'nothere.example' is correct address..`), lines(r).join('\n'));
});

test('a server checked without any port', async () => {
  const r = await parse(be('    server s1 127.0.0.1 check\n'));
  assert.deepEqual(messages(r).slice(0, 1), ["config: backend 'be': server 's1' has neither service port nor check port."]);
  await ok(be('    server s1 127.0.0.1 check port 80\n'));
  await ok(be('    server s1 127.0.0.1 check addr 127.0.0.2:80\n'));
  await ok(be('    option tcp-check\n    tcp-check connect port 80\n    server s1 127.0.0.1 check\n'));
  const q = await parse(be('    option tcp-check\n    tcp-check send x\n    server s1 127.0.0.1 check\n'));
  assert.deepEqual(messages(q).slice(0, 1), ["config: backend 'be': server 's1' has neither service port nor check port nor tcp_check rule 'connect' with port information."]);
});

test('TLS for checks only needs CAs or verify none, like ssl', async () => {
  const msg = `[ALERT]    (1) : config : [${FILE}:7] : 'server be/s1' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.`;
  assert.ok(lines(await parse(be('    server s1 127.0.0.1:80 check check-ssl\n'))).includes(msg));
  // A connect rule with ssl needs it for every server of the backend.
  const r = await parse(be('    server s1 127.0.0.1:80\n    option tcp-check\n    tcp-check connect ssl\n'));
  assert.ok(lines(r).includes(msg), lines(r).join('\n'));
  await ok(`global\n    ssl-server-verify none\n${be('    server s1 127.0.0.1:80 check check-ssl\n')}`);
});

test('init-state (HAProxy 3.1+): the values of current HAProxy, none is the default', async () => {
  assert.equal((await server('127.0.0.1:80 check init-state up')).initState, 'up');
  assert.equal((await server('127.0.0.1:80 check init-state fully-up init-state none')).initState, undefined);
  const r = await parse(be('    server s1 127.0.0.1:80 check init-state sideways\n'));
  assert.deepEqual(messages(r).slice(0, 1), [
    `[${FILE}:7] : 'server be/s1' : 'init-state' expects one of 'none', 'fully-up', 'up', 'down', or 'fully-down' but got 'sideways'.`,
  ]);
});
