// Configuration errors in HTTP rules through `bin/sluice -c`, each compared with `haproxy -c` on
// the same file: an unknown action, a condition naming an unknown ACL, http_auth() naming a
// userlist that does not exist, use-server naming an unknown server, errorfiles naming an unknown
// http-errors section. Every [ALERT] haproxy prints must come out of sluice too (pid and file
// name masked), with exit code 1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCheck, skipUnless } from '../../harness/index.js';

const HEAD = `defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:1
    default_backend be
`;
const TAIL = `backend be
    server s1 127.0.0.1:2
`;

/** `lines` inserted in the frontend, line 9 onwards; `backend` lines before the server. */
function cfg(lines: string, backend = ''): string {
  return `${HEAD}${lines}${TAIL.replace('    server', `${backend}    server`)}`;
}

/**
 * The [ALERT] lines of a -c run, pid and configuration path masked. `lists`: the keyword list of
 * an unknown action (which HAProxy builds from the modules compiled in, in registration order)
 * becomes "...", so that the rest of the message can be compared.
 */
function alerts(stderr: string, lists = false): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('[ALERT]'))
    .map((l) => l.replace(/\(\d+\)/, '(PID)').replaceAll(/[^\s[(]*(haproxy|sluice)\.cfg/g, 'CFG'))
    .map((l) => (lists ? l.replace(/ expects ('[^']+'(, )?)+, but got /, ' expects ..., but got ') : l));
}

interface Case {
  name: string;
  config: string;
  /** The alert sluice must print: its text after "config : ". */
  expect: RegExp;
  /** Compare keyword lists as "...". */
  lists?: boolean;
  /** haproxy 2.6 prints something unusable here: do not compare with it. */
  noReference?: string;
  todo?: string;
}

const CASES: Case[] = [
  {
    name: 'unknown http-request action',
    config: cfg('    http-request frobnicate\n'),
    expect: /^parsing \[CFG:9\]: 'http-request' expects \.\.\., but got 'frobnicate'\.$/,
    lists: true,
  },
  {
    name: 'misspelt http-request action: the suggestion',
    config: cfg('    http-request denyy\n'),
    expect: /^parsing \[CFG:9\]: 'http-request' expects .* but got 'denyy'\. Did you mean 'deny' maybe \?$/,
    lists: true,
  },
  {
    name: 'unknown http-response action',
    config: cfg('    http-response frobnicate\n'),
    expect: /^parsing \[CFG:9\]: 'http-response' expects .* but got 'frobnicate'\.$/,
    lists: true,
  },
  {
    name: 'unknown http-after-response action',
    config: cfg('    http-after-response frobnicate\n'),
    expect: /^parsing \[CFG:9\]: 'http-after-response' expects .* but got 'frobnicate'\.$/,
    lists: true,
  },
  {
    name: 'http-request action without a name',
    config: cfg('    http-request\n'),
    expect: /^parsing \[CFG:9\]: 'http-request' expects .* but got '' \(missing argument\)\.$/,
    lists: true,
  },
  {
    name: 'http-request condition naming an unknown ACL',
    config: cfg('    http-request deny if nosuchacl\n'),
    expect: /^parsing \[CFG:9\] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuchacl'\.$/,
  },
  {
    name: 'an unknown ACL after a known one and ||',
    config: cfg('    acl a path /x\n    http-request deny if a || nosuchacl\n'),
    expect: /^parsing \[CFG:10\] : error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuchacl'\.$/,
  },
  {
    name: 'http-response condition naming an unknown ACL',
    config: cfg('    http-response set-header X-A b if !nosuchacl\n'),
    expect: /^parsing \[CFG:9\] : error detected while parsing an 'http-response set-header' condition : no such ACL : 'nosuchacl'\.$/,
  },
  {
    name: 'use_backend condition naming an unknown ACL',
    config: cfg('    use_backend be if nosuchacl\n'),
    expect: /^parsing \[CFG:9\] : error detected while parsing switching rule : no such ACL : 'nosuchacl'\.$/,
  },
  {
    name: 'http_auth() naming a userlist that does not exist',
    config: cfg('    http-request auth unless { http_auth(nousers) }\n'),
    expect: /^parsing \[CFG:9\]: unable to find userlist 'nousers' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'fe'\.$/,
  },
  {
    name: 'http_auth() in a backend naming a userlist that does not exist',
    config: cfg('', '    http-request auth if !{ http_auth(nousers) }\n'),
    expect: /^parsing \[CFG:10\]: unable to find userlist 'nousers' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'be'\.$/,
  },
  {
    name: 'http_auth_group() naming a userlist that does not exist',
    config: cfg('    http-request deny if { http_auth_group(nousers) admins }\n'),
    expect: /^parsing \[CFG:9\]: unable to find userlist 'nousers' referenced in arg 1 of ACL keyword 'http_auth_group' in proxy 'fe'\.$/,
    noReference: 'haproxy 2.6.12 prints bytes of freed memory for the keyword name',
  },
  {
    name: 'use-server naming an unknown server',
    config: cfg('', '    use-server nosuch if TRUE\n'),
    expect: /^backend 'be' : unable to find server 'nosuch' referenced in a 'use-server' rule\.$/,
  },
  {
    name: 'errorfiles naming an unknown http-errors section',
    config: cfg('    errorfiles nosuch\n'),
    expect: /^proxy 'fe': unknown http-errors section 'nosuch' \(at CFG:9\)\.$/,
  },
  {
    name: 'errorfiles in defaults naming an unknown http-errors section: one alert per proxy using it',
    config: HEAD.replace('frontend fe', '    errorfiles nosuch\nfrontend fe') + TAIL,
    expect: /^proxy 'be': unknown http-errors section 'nosuch' \(at CFG:6\)\.$/,
  },
  {
    name: 'http-request deny errorfiles naming an unknown http-errors section',
    config: cfg('    http-request deny errorfiles nosuch\n'),
    expect: /^Proxy 'fe': unknown http-errors section 'nosuch' referenced by an http reply \.$/,
  },
  {
    name: 'http-request return errorfiles naming an unknown http-errors section',
    config: cfg('    http-request return errorfiles nosuch\n'),
    expect: /^Proxy 'fe': unknown http-errors section 'nosuch' referenced by an http reply \.$/,
  },
];

for (const c of CASES) {
  test(`-c: ${c.name}`, c.todo !== undefined ? { todo: c.todo } : {}, async () => {
    const s = await runCheck('sluice', c.config);
    assert.equal(s.code, 1, s.stderr);
    const sl = alerts(s.stderr, c.lists);
    assert.ok(
      sl.some((l) => c.expect.test(l.replace(/^\[ALERT\] {4}\(PID\) : config : /, ''))),
      `no alert matching ${c.expect}\nsluice printed:\n${s.stderr}`,
    );
    if (c.noReference !== undefined || skipUnless('haproxy') !== false) return;
    const h = await runCheck('haproxy', c.config);
    assert.equal(h.code, 1, h.stderr);
    // Every alert haproxy prints, sluice prints as well.
    for (const l of alerts(h.stderr, c.lists)) {
      assert.ok(sl.includes(l), `haproxy's alert is missing:\n  ${l}\nsluice printed:\n  ${sl.join('\n  ')}`);
    }
  });
}

// The expected messages above are haproxy's own: check them against it, so that a wrong
// expectation cannot hide behind a todo.
test('-c: the expected messages are what haproxy 2.6 prints', { skip: skipUnless('haproxy') }, async () => {
  for (const c of CASES) {
    if (c.noReference !== undefined) continue;
    const h = await runCheck('haproxy', c.config);
    const hl = alerts(h.stderr, c.lists).map((l) => l.replace(/^\[ALERT\] {4}\(PID\) : config : /, ''));
    assert.ok(hl.some((l) => c.expect.test(l)), `${c.name}: haproxy printed\n${h.stderr}`);
  }
});

test('-c: a rule using an existing http-errors section is valid, as for haproxy', async () => {
  // The check runs in the configuration's folder, where the error file is written.
  const config = 'http-errors myerrors\n    errorfile 403 403.http\n' + cfg('    http-request deny errorfiles myerrors\n');
  const files = { '403.http': 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n' };
  if (skipUnless('haproxy') === false) {
    const h = await runCheck('haproxy', config, { files });
    assert.equal(h.code, 0, h.stderr);
  }
  const s = await runCheck('sluice', config, { files });
  assert.equal(s.code, 0, s.stderr);
});

test('-c: statuses missing from an http-errors section get the warnings haproxy prints', async () => {
  const config =
    'http-errors myerrors\n    errorfile 403 403.http\n' +
    cfg(
      '    errorfiles myerrors 404 403 404\n' +
        '    http-error status 503 errorfiles myerrors\n' +
        '    http-request deny status 500 errorfiles myerrors if { path /a }\n' +
        '    http-request return status 404 errorfiles myerrors content-type text/plain hdr x y if { path /b }\n' +
        '    http-request deny errorfiles myerrors if { path /c }\n',
    );
  const files = { '403.http': 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n' };
  const warnings = (stderr: string): string[] =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('[WARNING]'))
      .map((l) => l.replace(/\(\d+\)/, '(PID)').replaceAll(/[^\s[(]*(haproxy|sluice)\.cfg/g, 'CFG'))
      .sort();
  const s = await runCheck('sluice', config, { files });
  assert.equal(s.code, 0, s.stderr);
  const expected = [
    "config: proxy 'fe' : status '404' not declared in http-errors section 'myerrors' (at CFG:11).",
    "config: proxy 'fe' : status '503' not declared in http-errors section 'myerrors' (at CFG:12).",
    "Proxy 'fe': status '500' referenced by an http reply not declared in http-errors section 'myerrors'.",
    "Proxy 'fe': status '404' referenced by an http reply not declared in http-errors section 'myerrors'.",
    "parsing [CFG:14] : content-type 'text/plain' ignored by the http reply when used with an erorrfile.",
    'parsing [CFG:14] : hdr parameters ignored by the http reply when used with an erorrfile.',
  ];
  assert.deepEqual(warnings(s.stderr), expected.map((m) => `[WARNING]  (PID) : config : ${m}`).sort());
  assert.equal(s.stdout, 'Warnings were found.\nConfiguration file is valid\n');
  if (skipUnless('haproxy') !== false) return;
  const h = await runCheck('haproxy', config, { files });
  assert.equal(h.code, 0, h.stderr);
  assert.deepEqual(warnings(s.stderr), warnings(h.stderr));
  assert.equal(s.stdout, h.stdout);
});
