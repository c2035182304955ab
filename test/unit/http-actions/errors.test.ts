// Refused rules: the text of every case below is what `haproxy -c` (HAProxy 2.6.12) printed
// for the same line in a frontend called "px" (after "parsing [file:line] : " or ": "), then
// compared with httpRuleErrorText. Lines HAProxy accepts must compile, and the warnings it
// prints must reach where.warn.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileHttpRule, HttpRuleError, httpRuleErrorText, type RuleDir } from '../../../src/http/actions/index.js';
import { words } from './ctx.js';

// haproxy read /etc/hostname ("vm\n"); the test uses a file with the same content.
const notAMessage = join(mkdtempSync(join(tmpdir(), 'sluice-actions-')), 'hostname');
writeFileSync(notAMessage, 'vm\n');

function dirOf(kw: string): RuleDir {
  return kw === 'http-request' ? 'request' : kw === 'http-response' ? 'response' : 'after-response';
}

function compile(line: string, warnings: string[] = []): void {
  const w = words(line.replace('/etc/hostname', notAMessage));
  compileHttpRule(dirOf(w[0]!), w.slice(1), {
    file: 'c.cfg',
    line: 8,
    proxyName: 'px',
    declareCapture: () => 0,
    warn: (m) => warnings.push(m),
  });
}

const CASES: Array<[string, string]> = [
  ["http-request set-header X", "error detected in frontend 'px' while parsing 'http-request set-header' rule : expects exactly 2 arguments."],
  ["http-request del-header", "error detected in frontend 'px' while parsing 'http-request del-header' rule : expects at least 1 argument."],
  ["http-request del-header X -m", "error detected in frontend 'px' while parsing 'http-request del-header' rule : -m flag expects exactly 1 argument."],
  ["http-request del-header X -m foo", "error detected in frontend 'px' while parsing 'http-request del-header' rule : -m with unsupported matching method 'foo'."],
  ["http-request del-header ( -m reg", "error detected in frontend 'px' while parsing 'http-request del-header' rule : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
  ["http-request replace-header X a", "error detected in frontend 'px' while parsing 'http-request replace-header' rule : expects exactly 3 arguments."],
  ["http-request replace-header X ( b", "error detected in frontend 'px' while parsing 'http-request replace-header' rule : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
  ["http-request set-path", "error detected in frontend 'px' while parsing 'http-request set-path' rule : expects exactly 1 argument <format>."],
  ["http-request set-path a b", "error detected in frontend 'px' while parsing 'http-request set-path' rule : expects exactly 1 argument <format>."],
  ["http-request replace-path a", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : expects exactly 2 arguments <match-regex> and <replace-format>."],
  ["http-request replace-path ( x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex '(' is invalid (error=missing closing parenthesis, erroffset=1)."],
  ["http-request replace-uri [ x", "error detected in frontend 'px' while parsing 'http-request replace-uri' rule : failed to parse the regex : regex '[' is invalid (error=missing terminating ] for character class, erroffset=1)."],
  ["http-request replace-path ab) x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex 'ab)' is invalid (error=unmatched closing parenthesis, erroffset=2)."],
  ["http-request replace-path * x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex '*' is invalid (error=quantifier does not follow a repeatable item, erroffset=0)."],
  ["http-request replace-path a** x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex 'a**' is invalid (error=quantifier does not follow a repeatable item, erroffset=2)."],
  ["http-request replace-path a{2,1} x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex 'a{2,1}' is invalid (error=numbers out of order in {} quantifier, erroffset=5)."],
  ["http-request replace-path a(b x", "error detected in frontend 'px' while parsing 'http-request replace-path' rule : failed to parse the regex : regex 'a(b' is invalid (error=missing closing parenthesis, erroffset=3)."],
  ["http-request set-var(txn.x)", "error detected in frontend 'px' while parsing 'http-request set-var(txn.x)' rule : missing fetch method."],
  ["http-request set-var(foo) path", "error detected in frontend 'px' while parsing 'http-request set-var(foo)' rule : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."],
  ["http-request set-var(txn.x path", "error detected in frontend 'px' while parsing 'http-request set-var(txn.x' rule : incomplete argument after action 'set-var(txn.x'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."],
  ["http-request set-var path", "error detected in frontend 'px' while parsing 'http-request set-var' rule : invalid or incomplete action 'set-var'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."],
  ["http-request unset-var(txn.x,ifexists)", "error detected in frontend 'px' while parsing 'http-request unset-var(txn.x,ifexists)' rule : unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions."],
  ["http-request set-var(txn.x,ifbogus) path", "error detected in frontend 'px' while parsing 'http-request set-var(txn.x,ifbogus)' rule : unknown condition \"ifbogus\"."],
  ["http-request set-var(txn.x) nosuchfetch", "error detected in frontend 'px' while parsing 'http-request set-var(txn.x)' rule : unknown fetch method 'nosuchfetch'."],
  ["http-request set-var(txn.x) path,nosuchconv", "error detected in frontend 'px' while parsing 'http-request set-var(txn.x)' rule : unknown converter 'nosuchconv'."],
  ["http-request unset-var(txn.x) extra", "'http-request unset-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'extra'."],
  ["http-request deny deny_status 999", "error detected in frontend 'px' while parsing 'http-request deny' rule : Unexpected status code '999'."],
  ["http-request deny deny_status 418", "error detected in frontend 'px' while parsing 'http-request deny' rule : status code '418' not handled by default with 'default-errorfiles' argument.."],
  ["http-request deny status 200 string x", "error detected in frontend 'px' while parsing 'http-request deny' rule : a content type must be defined when non-empty payload is configured."],
  ["http-request deny foo", "'http-request deny' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request tarpit deny_status 500 foo", "'http-request tarpit' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request return status 99", "error detected in frontend 'px' while parsing 'http-request return' rule : Unexpected status code '99'."],
  ["http-request return status", "error detected in frontend 'px' while parsing 'http-request return' rule : 'status' expects <status_code> as argument."],
  ["http-request return string x content-type", "error detected in frontend 'px' while parsing 'http-request return' rule : 'content-type' expects <ctype> as argument."],
  ["http-request return status 204 content-type t string x", "error detected in frontend 'px' while parsing 'http-request return' rule : No body expected for 204 responses."],
  ["http-request return file /nonexistent", "error detected in frontend 'px' while parsing 'http-request return' rule : error opening file '/nonexistent'."],
  ["http-request return errorfile /nonexistent", "error detected in frontend 'px' while parsing 'http-request return' rule : error opening file '/nonexistent'.."],
  ["http-request return content-type t string a string b", "error detected in frontend 'px' while parsing 'http-request return' rule : unexpected 'string' argument, 'string' already defined."],
  ["http-request return hdr x", "error detected in frontend 'px' while parsing 'http-request return' rule : 'hdr' expects <name> and <value> as arguments."],
  ["http-request return lf-string x", "error detected in frontend 'px' while parsing 'http-request return' rule : a content type must be defined with a log-format payload."],
  ["http-request return status 418 errorfile /etc/hostname", "error detected in frontend 'px' while parsing 'http-request return' rule : '/etc/hostname': unable to parse headers (error offset: 0)."],
  ["http-request return status 418 default-errorfiles", "error detected in frontend 'px' while parsing 'http-request return' rule : status code '418' not handled by default with 'default-errorfiles' argument.."],
  ["http-request return content-type t string \"\"", "error detected in frontend 'px' while parsing 'http-request return' rule : 'string' expects <str> as argument."],
  ["http-request redirect", "error detected in frontend 'px' while parsing 'http-request redirect' rule : redirection type expected ('prefix', 'location', or 'scheme')."],
  ["http-request redirect location", "error detected in frontend 'px' while parsing 'http-request redirect' rule : missing argument for 'location'."],
  ["http-request redirect location /x code 305", "error detected in frontend 'px' while parsing 'http-request redirect' rule : 'code': unsupported HTTP code '305' (must be one of 301, 302, 303, 307 or 308)."],
  ["http-request redirect location /x code", "error detected in frontend 'px' while parsing 'http-request redirect' rule : missing argument for 'code'."],
  ["http-request redirect location /x foo", "error detected in frontend 'px' while parsing 'http-request redirect' rule : expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'foo')."],
  ["http-request redirect location /x if nosuchacl", "error detected in frontend 'px' while parsing 'http-request redirect' rule : error in condition: no such ACL : 'nosuchacl'."],
  ["http-request redirect location /x unless { nosuchfetch }", "error detected in frontend 'px' while parsing 'http-request redirect' rule : error in condition: unknown fetch method 'nosuchfetch' in ACL expression 'nosuchfetch'."],
  ["http-response redirect prefix /x", "error detected in frontend 'px' while parsing 'http-response redirect' rule : response only supports redirect type 'location'."],
  ["http-response redirect scheme https", "error detected in frontend 'px' while parsing 'http-response redirect' rule : response only supports redirect type 'location'."],
  ["http-request auth realm", "error detected in frontend 'px' while parsing 'http-request auth' rule : missing realm value.\n."],
  ["http-request auth foo", "'http-request auth' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request capture", "error detected in frontend 'px' while parsing 'http-request capture' rule : expects <expression> [ 'len' <length> | id <idx> ]."],
  ["http-request capture path", "error detected in frontend 'px' while parsing 'http-request capture' rule : expects <expression> [ 'len' <length> | id <idx> ]."],
  ["http-request capture path len 0", "error detected in frontend 'px' while parsing 'http-request capture' rule : length must be > 0."],
  ["http-request capture path len", "error detected in frontend 'px' while parsing 'http-request capture' rule : expects <expression> [ 'len' <length> | id <idx> ]."],
  ["http-request capture path foo 1", "error detected in frontend 'px' while parsing 'http-request capture' rule : expects 'len' or 'id', found 'foo'."],
  ["http-request capture nosuch len 10", "error detected in frontend 'px' while parsing 'http-request capture' rule : unknown fetch method 'nosuch'."],
  ["http-request capture path id x", "error detected in frontend 'px' while parsing 'http-request capture' rule : cannot parse id 'x'."],
  ["http-request wait-for-body", "error detected in frontend 'px' while parsing 'http-request wait-for-body' rule : expects time <time> [ at-least <bytes> ]."],
  ["http-request wait-for-body time", "error detected in frontend 'px' while parsing 'http-request wait-for-body' rule : missing argument for 'time'."],
  ["http-request wait-for-body time 10x", "error detected in frontend 'px' while parsing 'http-request wait-for-body' rule : unexpected character 'x'."],
  ["http-request wait-for-body at-least 10", "error detected in frontend 'px' while parsing 'http-request wait-for-body' rule : expects time <time> [ at-least <bytes> ]."],
  ["http-request wait-for-body time 1s at-least 1z", "error detected in frontend 'px' while parsing 'http-request wait-for-body' rule : unexpected character 'z'."],
  ["http-request wait-for-body time 1s foo", "'http-request wait-for-body' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request set-log-level foo", "error detected in frontend 'px' while parsing 'http-request set-log-level' rule : expects exactly 1 argument (log level name or 'silent')."],
  ["http-request set-log-level", "error detected in frontend 'px' while parsing 'http-request set-log-level' rule : expects exactly 1 argument (log level name or 'silent')."],
  ["http-response set-status", "error detected in frontend 'px' while parsing 'http-response set-status' rule : expects 1 argument: <status>; or 3 arguments: <status> reason <fmt>."],
  ["http-response set-status 99", "error detected in frontend 'px' while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999."],
  ["http-response set-status abc", "error detected in frontend 'px' while parsing 'http-response set-status' rule : expects an integer status code between 100 and 999."],
  ["http-response set-status 200 reason", "'http-response set-status' expects either 'if' or 'unless' followed by a condition but found 'reason'."],
  ["http-response set-status 200 foo", "'http-response set-status' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request allow extra", "'http-request allow' expects either 'if' or 'unless' followed by a condition but found 'extra'."],
  ["http-request set-header X %[path", "error detected in frontend 'px' while parsing 'http-request set-header' rule : missing ']' after 'path'."],
  ["http-request set-header X \"%[path lower]\"", "error detected in frontend 'px' while parsing 'http-request set-header' rule : expected ']' after 'path', but found ' '."],
  ["http-request set-header X %", "error detected in frontend 'px' while parsing 'http-request set-header' rule : truncated line after '%'."],
  ["http-request disable-l7-retry foo", "'http-request disable-l7-retry' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request set-header X Y if nosuch", "error detected while parsing an 'http-request set-header' condition : no such ACL : 'nosuch'."],
  ["http-request set-header X Y foo", "'http-request set-header' expects either 'if' or 'unless' followed by a condition but found 'foo'."],
  ["http-request set-header X Y if { path_beg /a } or !{ nosuch }", "error detected while parsing an 'http-request set-header' condition : unknown fetch method 'nosuch' in ACL expression 'nosuch'."],
  ["http-request set-query", "error detected in frontend 'px' while parsing 'http-request set-query' rule : expects exactly 1 argument <format>."],
];

const VALID: string[] = [
  "http-request set-var(txn.x) path lower",
  "http-request set-var(txn.x) path length if TRUE",
  "http-request capture req.hdr(host) lower len 10",
  "http-request set-var-fmt(txn.x)",
];

const WARNINGS: Array<[string, string]> = [
  ["http-request return content-type t string x hdr content-length 3", "header 'content-length' always ignored by the http reply."],
  ["http-request return content-type t", "content-type 't' ignored by the http reply because neither errorfile nor payload defined."],
];

test('refused rules print what haproxy -c prints', () => {
  for (const [line, want] of CASES) {
    const dir = dirOf(line.split(' ')[0]!);
    let got = '(compiled)';
    try {
      compile(line);
    } catch (e) {
      if (!(e instanceof HttpRuleError)) throw e;
      got = httpRuleErrorText(e, dir, 'frontend', 'px');
    }
    assert.equal(got, want.replace('/etc/hostname', notAMessage), line);
  }
});

test('lines haproxy accepts compile', () => {
  for (const line of VALID) assert.doesNotThrow(() => compile(line), line);
});

test('warnings are those of haproxy', () => {
  for (const [line, want] of WARNINGS) {
    const got: string[] = [];
    compile(line, got);
    assert.deepEqual(got, [want], line);
  }
});

test('unknown actions are reported as such, for the caller to list the known ones', () => {
  for (const [dir, word] of [
    ['request', 'set-status'],
    ['after-response', 'deny'],
    ['response', 'auth'],
    ['request', ''],
  ] as const) {
    assert.throws(() => compileHttpRule(dir, [word], { file: 'c.cfg', line: 1 }), (e: unknown) => e instanceof HttpRuleError && e.kind === 'unknown' && e.action === word);
  }
  const e = new HttpRuleError('deny', 'unknown', 'deny');
  assert.equal(
    httpRuleErrorText(e, 'after-response', 'frontend', 'px', ['add-header', 'allow']),
    "'http-after-response' expects 'add-header', 'allow', but got 'deny'.",
  );
});
