import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, registerProxyKeywords } from '../../../src/config/index.js';
import { FILE, PREAMBLE, alertAt, lines, ok, parse } from './util.js';

const A = '[ALERT]    (1) : config : ';

test('formatDiagnostic prints HAProxy\'s frames', () => {
  assert.equal(
    formatDiagnostic({ severity: 'alert', file: '/etc/x.cfg', line: 12, message: "unknown keyword 'foo' in 'backend' section" }, 1234),
    "[ALERT]    (1234) : config : parsing [/etc/x.cfg:12] : unknown keyword 'foo' in 'backend' section",
  );
  assert.equal(formatDiagnostic({ severity: 'warning', file: 'a.cfg', line: 3, message: 'm', frame: 'parsing:' }, 7), '[WARNING]  (7) : config : parsing [a.cfg:3]: m');
  assert.equal(formatDiagnostic({ severity: 'notice', file: 'a.cfg', line: 3, message: 'm', frame: 'context' }, 7), '[NOTICE]   (7) : config : [a.cfg:3] : m');
  assert.equal(formatDiagnostic({ severity: 'alert', message: 'Fatal errors found in configuration.' }, 7), '[ALERT]    (7) : config : Fatal errors found in configuration.');
});

test('unsupported sections: one alert for the header, then their lines are skipped', async () => {
  const r = await parse(`mailers admins
    mailer smtp1 127.0.0.1:587
    timeout mail 2s
peers mypeers
    peer a 127.0.0.1:1024
${PREAMBLE}backend b
`);
  assert.deepEqual(lines(r), [
    alertAt(1, "section 'mailers' is not supported yet by sluice."),
    alertAt(4, "section 'peers' is not supported yet by sluice."),
    `${A}Error(s) found in configuration file : ${FILE}`,
    `${A}Fatal errors found in configuration.`,
  ]);
  for (const s of ['mailers m', 'program p', 'ring r', 'cache c']) {
    const x = await parse(`${s}\n`);
    assert.equal(lines(x)[0], alertAt(1, `section '${s.split(' ')[0]}' is not supported yet by sluice.`));
  }
});

test('keywords out of any section', async () => {
  const r = await parse('maxconn 10\n');
  assert.equal(lines(r)[0], `${A}parsing [${FILE}:1]: unknown keyword 'maxconn' out of section.`);
});

test('every file starts outside of any section', async () => {
  const { parseSources } = await import('../../../src/config/load.js');
  const r = await parseSources(
    [
      { file: 'a.cfg', text: 'global\n    maxconn 10\n' },
      { file: 'b.cfg', text: '    daemon\n' },
    ],
    { env: {} },
  );
  assert.deepEqual(
    r.diagnostics.map((d) => formatDiagnostic(d, 1)),
    [
      `${A}parsing [b.cfg:1]: unknown keyword 'daemon' out of section.`,
      `${A}Error(s) found in configuration file : b.cfg`,
      `${A}Fatal errors found in configuration.`,
    ],
  );
});

test('resolvers sections', async () => {
  const cfg = await ok(`resolvers dns
    nameserver ns1 127.0.0.1:53
    nameserver ns2 [::1]:5353
    parse-resolv-conf
    accepted_payload_size 4096
    hold valid 10s
    hold nx 30s
    resolve_retries 3
    timeout resolve 1s
    timeout retry 1s
`);
  const r = cfg.resolvers[0];
  assert.equal(r.name, 'dns');
  assert.deepEqual(r.nameservers, [
    { name: 'ns1', addr: { host: '127.0.0.1', family: 4, port: 53 } },
    { name: 'ns2', addr: { host: '::1', family: 6, port: 5353 } },
  ]);
  assert.equal(r.parseResolvConf, true);
  assert.deepEqual(
    r.settings.map((s) => [s.keyword, ...s.args, s.loc.line]),
    [
      ['accepted_payload_size', '4096', 5],
      ['hold', 'valid', '10s', 6],
      ['hold', 'nx', '30s', 7],
      ['resolve_retries', '3', 8],
      ['timeout', 'resolve', '1s', 9],
      ['timeout', 'retry', '1s', 10],
    ],
  );
  const cases: Array<[string, string]> = [
    ['nameserver ns1', "'nameserver' expects <name> and <addr>[:<port>] as arguments."],
    ['nameserver ns1 127.0.0.1', "'nameserver ns1' : missing port specification in '127.0.0.1'"],
    ['accepted_payload_size 5', "'accepted_payload_size' must be between 12 and 65535 inclusive (was 5)."],
    ['hold foo 1s', "'hold' unknown <event>: 'foo', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'."],
    ['timeout foo 1s', "'timeout' expects 'retry' or 'resolve' and <time> as arguments got 'foo'."],
    ['frob', "unknown keyword 'frob' in 'resolvers' section"],
  ];
  for (const [line, msg] of cases) {
    const x = await parse(`resolvers dns\n    ${line}\n`);
    assert.equal(lines(x)[0], alertAt(2, msg), line);
  }
  const t = await parse('resolvers dns\n    timeout retry 1x\n');
  assert.equal(lines(t)[0], `${A}parsing [${FILE}:2]: unexpected character 'x' in argument to <timeout retry>.`);
});

test('conditional blocks', async () => {
  const cfg = await ok(
    `global
.if defined(FOO)
    log-tag foo
.elif streq("$BAR",yes)
    log-tag bar
.else
    log-tag other
.endif
.if version_atleast(2.4-dev19) && !feature(OPENSSL)
    maxconn 10
.endif
.if 0
    this line is never parsed
  .if 1
    nor this one
  .endif
.endif
.if (1 || 0) && strneq(a,b)
    nbthread 2
.endif
`,
    { env: { BAR: 'yes' } },
  );
  assert.equal(cfg.global.logTag, 'bar');
  assert.equal(cfg.global.maxconn, 10);
  assert.equal(cfg.global.nbthread, 2);
  const v = await ok('global\n.if version_before(2.6)\n    maxconn 1\n.endif\n.if version_atleast(2.6.0)\n    maxconn 2\n.endif\n');
  assert.equal(v.global.maxconn, 2);
});

test('conditional block errors and message directives', async () => {
  const p = (l: number, m: string): string => `${A}parsing [${FILE}:${l}]: ${m}`;
  assert.equal(lines(await parse('.else\n'))[0], p(1, "lone '.else' with no matching '.if'."));
  assert.equal(lines(await parse('.endif\n'))[0], p(1, "lone '.endif' with no matching '.if'."));
  assert.equal(lines(await parse('.elif 1\n'))[0], p(1, "lone '.elif' with no matching '.if'."));
  assert.equal(lines(await parse('.if 1\n'))[0], p(1, "non-terminated '.if' block."));
  assert.equal(lines(await parse('.if 1\n.else\n.else\n.endif\n'))[0], p(3, "'.else' after '.else' is not permitted."));
  assert.equal(
    lines(await parse('.if foo(1)\n.endif\n'))[0],
    `${A}parsing [${FILE}:1]: unparsable conditional expression 'foo(1)' in '.if' at position 1:\n  .if foo(1)\n      ^`,
  );
  assert.equal(lines(await parse('.foo\n'))[0], p(1, "unknown directive '.foo'."));
  const w = await parse('.warning "be careful"\n.notice hello\n');
  assert.deepEqual(lines(w), [
    `[WARNING]  (1) : config : parsing [${FILE}:1]: 'be careful'.`,
    `[NOTICE]   (1) : config : parsing [${FILE}:2]: 'hello'.`,
  ]);
  const a = await parse('.alert "stop here"\nfoo\n');
  assert.deepEqual(lines(a), [p(1, "'stop here'."), `${A}Error(s) found in configuration file : ${FILE}`]);
  assert.equal(lines(await parse('.warning a b\n'))[0], p(1, "Unexpected argument 'b' for '.warning'. Use quotes if the message should contain spaces."));
});

test('empty words are refused', async () => {
  const r = await parse('global\n    log-tag "$NOPE" x\n    description ""\n');
  assert.deepEqual(lines(r).slice(0, 2), [
    `${A}parsing [${FILE}:2]: argument number 1 at position 15 is empty and marks the end of the argument list:\n` +
      '  log-tag "$NOPE" x\n' +
      '            ^\n' +
      'Aborting to prevent all subsequent arguments from being silently ignored. If this is caused by an environment variable expansion, please have a look at section 2.3 of the configuration manual to find solutions to address this.',
    `${A}parsing [${FILE}:3]: argument number 1 at position 18 is empty and marks the end of the argument list:\n` +
      '  description ""\n' +
      '               ^',
  ]);
});

test('lexical errors', async () => {
  const r = await parse('global\n    description "abc\n');
  assert.equal(lines(r)[0], `${A}parsing [${FILE}:2]: unmatched quote at position 17:\n  description "abc\n              ^`);
});

test('later features register keywords', async () => {
  let seen: string[] = [];
  registerProxyKeywords([
    {
      name: 'x-test-keyword',
      cap: 'be',
      inDefaults: false,
      parse(ctx) {
        seen = ctx.args;
        if (ctx.args[1] === 'bad') ctx.report.alert("'x-test-keyword' does not like 'bad'.");
      },
    },
  ]);
  await ok(`${PREAMBLE}backend b\n    x-test-keyword 1 2\n`);
  assert.deepEqual(seen, ['x-test-keyword', '1', '2']);
  const r = await parse(`${PREAMBLE}backend b\n    x-test-keyword bad\n`);
  assert.equal(lines(r)[0], alertAt(7, "'x-test-keyword' does not like 'bad'."));
  const d = await parse(`${PREAMBLE}    x-test-keyword\n`);
  assert.equal(lines(d)[0], alertAt(6, "'x-test-keyword' not allowed in 'defaults' section."));
});
