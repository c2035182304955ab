// Error and warning texts. Each expected text is what HAProxy 2.6.12 prints for the same line
// (`haproxy -c`), after "parsing [file:line] : ".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclError, AclTable, aclErrorText, checkRefs, compileAcls, compileCondition, compileSampleExpr } from '../../../src/acl/index.js';
import { words } from './ctx.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-acl-err-'));
  writeFileSync(join(dir, 'one.lst'), 'x\n');
  writeFileSync(join(dir, 'm1.map'), 'www.example.com example\n');
  writeFileSync(join(dir, 'ip.map'), '10.0.0.0/8 ten\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The text HAProxy prints for `acl <name> <rest>`, or '' when it is accepted. */
function aclText(line: string, table = new AclTable({ baseDir: dir })): string {
  const w = words(line.replaceAll('DIR', dir));
  try {
    table.add({ name: w[0]!, args: w.slice(1), file: 'e.cfg', line: 8 });
    return '';
  } catch (e) {
    assert.ok(e instanceof AclError);
    assert.equal(e.file, 'e.cfg');
    assert.equal(e.line, 8);
    return aclErrorText(e);
  }
}

const ACL_ERRORS: Array<[string, string]> = [
  ['a1 hdr(host) -m foo x', "error detected while parsing ACL 'a1' : unknown matching method 'foo' when parsing ACL expression."],
  ['a2 nosuchfetch x', "error detected while parsing ACL 'a2' : unknown fetch method 'nosuchfetch' in ACL expression 'nosuchfetch'."],
  ['a3 req.hdr(host),nosuchconv x', "error detected while parsing ACL 'a3' : unknown converter 'nosuchconv' in ACL expression 'req.hdr(host),nosuchconv'."],
  ['a5 hdr(host -m str x', "error detected while parsing ACL 'a5' : ACL keyword 'hdr' : expected ')'."],
  ['a6 src 1.2.3.400', "error detected while parsing ACL 'a6' : '1.2.3.400' is not a valid IPv4 or IPv6 address."],
  ['a7 req.hdr_cnt(x) foo', "error detected while parsing ACL 'a7' : 'foo' is not a number."],
  ['a8 req.hdr(x) -f /nonexistent/file', "error detected while parsing ACL 'a8' : failed to open pattern file </nonexistent/file>."],
  ['a9 path -x foo', "error detected while parsing ACL 'a9' : '-x' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'."],
  ['b3 var(txn.x) -f DIR/one.lst', "error detected while parsing ACL 'b3' : matching method must be specified first (using '-m') when using a sample fetch of this type ('var')."],
  ['b4 path,field(0,:) x', "error detected while parsing ACL 'b4' : ACL keyword 'path' : invalid args in converter 'field' : Unexpected value 0 for index.."],
  ['b5 path,field(1,) x', "error detected while parsing ACL 'b5' : ACL keyword 'path' : invalid args in converter 'field' : Empty separators list.."],
  ['b6 path,regsub(a,b,q) x', "error detected while parsing ACL 'b6' : ACL keyword 'path' : invalid args in converter 'regsub' : invalid regex flag 'q', only 'i' and 'g' are supported.."],
  ['b7 path,map(/nonexist.map) x', "error detected while parsing ACL 'b7' : ACL keyword 'path' : invalid args in converter 'map' : failed to open pattern file </nonexist.map>.."],
  ['b8 path,add(foo) x', "error detected while parsing ACL 'b8' : ACL keyword 'path' : invalid args in converter 'add' : expects an integer or a variable name.."],
  ['b9 path,ipmask(33) x', "error detected while parsing ACL 'b9' : ACL keyword 'path' : invalid arg 1 in converter 'ipmask' : failed to parse '33' as type 'IPv4 mask' at position 1.."],
  ['c1 path,json(foo) x', "error detected while parsing ACL 'c1' : ACL keyword 'path' : invalid args in converter 'json' : Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'.."],
  ['c2 var(foo) x', "error detected while parsing ACL 'c2' : invalid args in fetch method 'var' : invalid variable name 'foo'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check' in ACL expression 'var(foo)'."],
  ['c3 path,lower(1) x', "error detected while parsing ACL 'c3' : ACL keyword 'path' : invalid arg 1 in converter 'lower' : expected ')' before '1)'.."],
  ['c4 path,field(1,:,2,3) x', "error detected while parsing ACL 'c4' : ACL keyword 'path' : invalid arg 3 in converter 'field' : expected ')' before ',3)'.."],
  ['c5 path,len x', "error detected while parsing ACL 'c5' : ACL keyword 'path' : unknown converter 'len'.."],
  ['c6 method -m ip 1.2.3.4', "error detected while parsing ACL 'c6' : matching method 'ip' cannot be used with fetch keyword 'method'."],
  ['bad$name path x', "character '$' is not permitted in acl name 'bad$name'."],
  ['or path x', "acl name 'or' will never match. 'or' is used to express a logical disjunction within a condition."],
  ['d2 status gt x', "error detected while parsing ACL 'd2' : 'x' is neither a number nor a supported operator."],
  ['d3 status 3:1', "error detected while parsing ACL 'd3' : '3:1' is not a valid number range."],
  ['e1 hdr(x,-11) y', "error detected while parsing ACL 'e1' : in argument to 'hdr', header occurrence must be >= -10."],
  ['e2 req.hdr(x,-11) y', "error detected while parsing ACL 'e2' : invalid args in fetch method 'req.hdr' : header occurrence must be >= -10 in ACL expression 'req.hdr(x,-11)'."],
  ['e3 path -f DIR/one.lst -m beg x', "error detected while parsing ACL 'e3' : '-m' must only be specified before patterns and files in parsing ACL expression."],
  ['e4 path -u abc x', "error detected while parsing ACL 'e4' : the argument of -u must be an integer."],
  ['e5 var(txn.a-b) x', "error detected while parsing ACL 'e5' : invalid args in fetch method 'var' : invalid syntax at char '-b' in ACL expression 'var(txn.a-b)'."],
  ['e6 path,map_str_int(DIR/m1.map) 1', "error detected while parsing ACL 'e6' : ACL keyword 'path' : invalid args in converter 'map_str_int' : unable to parse 'example' at line 1 of file 'DIR/m1.map'.."],
  ['e7 src -f DIR/ip.map', "error detected while parsing ACL 'e7' : '10.0.0.0/8 ten' is not a valid IPv4 or IPv6 address at line 1 of file 'DIR/ip.map'."],
  ['e9 path,word(1) x', "error detected while parsing ACL 'e9' : ACL keyword 'path' : invalid arg 2 in converter 'word' : missing arguments (got 1/2), type 'string' expected.."],
  ['f1 int() 1', "error detected while parsing ACL 'f1' : fetch method 'int' : expected type 'integer' at position 1, but got nothing in ACL expression 'int()'."],
  ['f2 path,regsub(a) x', "error detected while parsing ACL 'f2' : ACL keyword 'path' : invalid arg 2 in converter 'regsub' : missing arguments (got 1/2), type 'string' expected.."],
  ['f4 path,field(x,:) x', "error detected while parsing ACL 'f4' : ACL keyword 'path' : invalid arg 1 in converter 'field' : failed to parse 'x' as type 'integer' at position 1.."],
  ['f5 path -m bin 4', "error detected while parsing ACL 'f5' : an even number of hex digit is expected."],
  ['f6 path -m bin zz', "error detected while parsing ACL 'f6' : an hex digit is expected (found 'z')."],
  ['f7 src 10.0.0.0/33', "error detected while parsing ACL 'f7' : '10.0.0.0/33' is not a valid IPv4 or IPv6 address."],
  ['f8 src ::1/129', "error detected while parsing ACL 'f8' : '::1/129' is not a valid IPv4 or IPv6 address."],
  ['f9 path,concat(a,foo) x', "error detected while parsing ACL 'f9' : ACL keyword 'path' : invalid args in converter 'concat' : failed to register variable name 'foo'.."],
  ['g1 bool(maybe)', "error detected while parsing ACL 'g1' : invalid args in fetch method 'bool' : Expects 'true', 'false', '0' or '1' in ACL expression 'bool(maybe)'."],
  ['g2 date(0,h) 1', "error detected while parsing ACL 'g2' : invalid args in fetch method 'date' : expects 's', 'ms' or 'us', got 'h' in ACL expression 'date(0,h)'."],
  ['g4 url_param(a,b,c) x', "error detected while parsing ACL 'g4' : fetch method 'url_param' : expected ')' before ',c)' in ACL expression 'url_param(a,b,c)'."],
  ['g3 path_beg,lower /x', ''],
  ['g7 src -m beg 1', ''],
  ['g8 ssl_fc,lower x', ''],
  ['g9 path lt 3', ''],
  ['h1 path -m int lt 3', ''],
  ['h2 path_beg -m found', ''],
];

test('ACL errors carry HAProxy texts', () => {
  for (const [line, expected] of ACL_ERRORS) assert.equal(aclText(line), expected.replaceAll('DIR', dir), line);
  // A file keeps the shape it was first read with.
  const t = new AclTable({ baseDir: dir });
  assert.equal(aclText('e3 path -f DIR/one.lst', t), '');
  assert.equal(
    aclText('e8 path -M -f DIR/one.lst', t),
    `error detected while parsing ACL 'e8' : The file "${dir}/one.lst" is already used as one column file and cannot be used by as two column file..`,
  );
  // Invalid regular expressions are reported with the pattern.
  assert.match(aclText('b1 path_reg ([a'), /^error detected while parsing ACL 'b1' : regex '\(\[a' is invalid \(error=.+\)\.$/);
});

test('warnings for ACLs that will never match or look like typos', () => {
  const t = compileAcls(
    [
      { name: 'g5', args: words('path ( x'), file: 'e.cfg', line: 1 },
      { name: 'g6', args: words('path'), file: 'e.cfg', line: 2 },
      { name: 'g7', args: words('path --'), file: 'e.cfg', line: 3 },
      { name: 'g8', args: words('always_true'), file: 'e.cfg', line: 4 },
    ],
    {},
  );
  assert.deepEqual(
    t.warnings.map((w) => [w.line, w.message]),
    [
      [
        1,
        "parsing acl 'g5' :\n  matching 'path' for pattern '(' is likely a mistake and probably\n  not what you want. Maybe you need to remove the extraneous space before '('.\n  If you are really sure this is not an error, please insert '--' between the\n  match and the pattern to make this warning message disappear.\n",
      ],
      [
        2,
        "parsing acl keyword 'path' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n",
      ],
    ],
  );
});

const COND_ERRORS: Array<[string, string]> = [
  ['{ path x', "missing closing '}' in condition"],
  ['{ path } }', "no such ACL : '}'"],
  ['a1 { }', "missing fetch method in ACL expression ''"],
  ['{path x}', "no such ACL : '{path'"],
  ['{ nosuch }', "unknown fetch method 'nosuch' in ACL expression 'nosuch'"],
  ['{ path -m foo }', "unknown matching method 'foo' when parsing ACL expression"],
  ['} TRUE', "no such ACL : '}'"],
  ['nosuch', "no such ACL : 'nosuch'"],
  ['TRUE or', ''],
  ['{ path x } or || TRUE', ''],
  ['! ! TRUE', ''],
];

test('condition errors carry HAProxy texts', () => {
  const t = new AclTable();
  t.add({ name: 'a1', args: words('path /x'), file: 'c.cfg', line: 8 });
  for (const [cond, expected] of COND_ERRORS) {
    let got = '';
    try {
      compileCondition({ polarity: 'if', tokens: words(cond), loc: { file: 'c.cfg', line: 9 } }, t);
    } catch (e) {
      assert.ok(e instanceof AclError && e.kind === 'plain' && e.line === 9);
      got = e.message;
    }
    assert.equal(got, expected, cond);
  }
  assert.throws(
    () => compileCondition({ polarity: 'if', tokens: ['RDP_COOKIE'], loc: { file: 'c.cfg', line: 9 } }, t),
    /predefined ACL 'RDP_COOKIE' needs the 'req.rdp_cookie_cnt' fetch/,
  );
});

test('sample expression errors', () => {
  const cases: Array<[string, string]> = [
    ['', 'missing fetch method'],
    ['nosuch', "unknown fetch method 'nosuch'"],
    ['req.hdr(host', "fetch method 'req.hdr' : expected ')'"],
    ['req.hdr(host)lower', "missing comma after fetch keyword 'req.hdr'"],
    ['req.hdr(host),lower(x)', "invalid arg 1 in converter 'lower' : expected ')' before 'x)'"],
    ['req.hdr(host),lower x', "missing comma after converter 'lower'"],
    ['req.hdr(host),nosuch', "unknown converter 'nosuch'"],
    ['method,add(1)', "converter 'add' cannot be applied"],
    ['path,field(0,:)', "invalid args in converter 'field' : Unexpected value 0 for index"],
    ['str("abc\\', "fetch method 'str' : failed to parse '\\' after 'abc' as type 'string' at position 1"],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => compileSampleExpr(text), (e: unknown) => e instanceof AclError && e.message === expected, text);
  }
});

test('backend and server references are checked with HAProxy texts', () => {
  const t = new AclTable();
  t.add({ name: 'a1', args: words('nbsrv(nosuch) gt 0'), file: 'r.cfg', line: 8 });
  t.add({ name: 'a2', args: words('srv_is_up(nosuch/s1)'), file: 'r.cfg', line: 9 });
  t.add({ name: 'a3', args: words('srv_is_up(be/nope)'), file: 'r.cfg', line: 10 });
  t.add({ name: 'a4', args: words('nbsrv'), file: 'r.cfg', line: 11 });
  const lookup = {
    proxy: (n: string) => (n === 'be' ? { frontend: false, backend: true } : n === 'fe' ? { frontend: true, backend: false } : undefined),
    hasServer: (be: string, s: string) => be === 'be' && s === 's1',
  };
  assert.deepEqual(
    checkRefs(t.refs, lookup, 'fe').map((e) => `[${e.file}:${e.line}]: ${e.message}`),
    [
      "[r.cfg:8]: unable to find backend 'nosuch' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe'.",
      "[r.cfg:9]: unable to find proxy 'nosuch' referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'fe'.",
      "[r.cfg:10]: unable to find server 'nope' in proxy 'be', referenced in arg 1 of ACL keyword 'srv_is_up' in proxy 'fe'.",
      "[r.cfg:11]: proxy 'fe', referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'fe', has not backend capability.",
    ],
  );
  const e = compileSampleExpr('nbsrv(zz)', { file: 'r.cfg', line: 11 });
  assert.deepEqual(
    checkRefs(e.refs, lookup, 'fe', 'in http-request expression in').map((x) => x.message),
    ["unable to find backend 'zz' referenced in arg 1 of sample fetch keyword 'nbsrv' in http-request expression in proxy 'fe'."],
  );
});
