// Converters and maps. Expected values were checked against HAProxy 2.6.12 with the same
// expressions in `lf-string "%[...]"` and the same map files.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSampleExpr, AclError } from '../../../src/acl/index.js';
import { makeCtx } from './ctx.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-acl-conv-'));
  writeFileSync(
    join(dir, 'm1.map'),
    'www.example.com example\nexample.org org-value\n# comment\n   spaced   value with  spaces  \napi. api-beg\nxyz\n',
  );
  writeFileSync(join(dir, 'ip.map'), '10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n::1 v6lo\n127.0.0.1 lo\n');
  writeFileSync(join(dir, 'beg.map'), '/api api\n/api/v2 api2\n/ root\n');
  writeFileSync(join(dir, 'int.map'), '1 one\n10:20 teens\n');
  writeFileSync(join(dir, 'reg.map'), '^/user/([0-9]+) /u?id=\\1\n');
  writeFileSync(join(dir, 'toint.map'), 'a 1\nb 22\n');
  writeFileSync(join(dir, 'toip.map'), 'a 10.0.0.1\nb 2001:db8::5\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const REQ1 = 'GET /a/B/c HTTP/1.1\r\nHost: www.EXAMPLE.com:8080\r\nN: 42\r\n\r\n';
const REQ2 = 'GET /api/v2/x HTTP/1.1\r\nHost: www.example.com\r\nN: 15\r\n\r\n';

// [expression (MAP = the temp directory), result on REQ1, result on REQ2]; null = no sample.
const CASES: Array<[string, string | null, string | null]> = [
  ['req.hdr(host),lower', 'www.example.com:8080', 'www.example.com'],
  ['req.hdr(host),upper', 'WWW.EXAMPLE.COM:8080', 'WWW.EXAMPLE.COM'],
  ['req.hdr(host),field(1,:)', 'www.EXAMPLE.com', 'www.example.com'],
  ['req.hdr(host),field(2,.)', 'EXAMPLE', 'example'],
  ['req.hdr(host),field(-1,.)', 'com:8080', 'com'],
  ['req.hdr(host),field(2,.,0)', 'EXAMPLE.com:8080', 'example.com'],
  ['req.hdr(host),field(9,.)', null, null],
  ['req.hdr(host),word(2,.)', 'EXAMPLE', 'example'],
  ['req.hdr(host),word(9,.)', '', ''],
  ['str(a..b.c),word(2,.)', 'b', 'b'],
  ['str(a..b.c),field(2,.)', '', ''],
  ['str(f1_f2_f3__f5),field(2,_,2)', 'f2_f3', 'f2_f3'],
  ['str(f1_f2_f3__f5),field(-2,_,3)', 'f2_f3_', 'f2_f3_'],
  ['str(aXbXc),field(-2,X,2)', 'aXb', 'aXb'],
  ['path,regsub(/,_)', '_a/B/c', '_api/v2/x'],
  ['path,regsub(/,_,g)', '_a_B_c', '_api_v2_x'],
  ['path,regsub(^/a/,X/)', 'X/B/c', '/api/v2/x'],
  ['path,regsub(A,X,ig)', '/X/B/c', '/Xpi/v2/x'],
  ['path,regsub("^/([a-z]+)/",<\\1>)', '<a>B/c', '<api>v2/x'],
  ['str(abc),regsub(x*,-,g)', '-a-b-c-', '-a-b-c-'],
  ['req.hdr(host),map(MAP/m1.map)', null, 'example'],
  ['req.hdr(host),map(MAP/m1.map,def)', 'def', 'example'],
  ['req.hdr(host),map_dom(MAP/m1.map,nodom)', 'nodom', 'example'],
  ['req.hdr(host),map_beg(MAP/m1.map,nobeg)', 'nobeg', 'example'],
  ['str(spaced),map(MAP/m1.map)', 'value with  spaces', 'value with  spaces'],
  ['str(xyz),map(MAP/m1.map,dflt)', '', ''],
  ['path,map_beg(MAP/beg.map)', 'root', 'api2'],
  ['src,map_ip(MAP/ip.map,none)', 'lo', 'lo'],
  ['str(10.1.2.3),map_ip(MAP/ip.map,none)', 'ten-one', 'ten-one'],
  ['str(10.2.2.3),map_ip(MAP/ip.map)', 'ten', 'ten'],
  ['str(::1),map_ip(MAP/ip.map)', 'v6lo', 'v6lo'],
  ['hdr_val(n),map_int(MAP/int.map,nf)', 'nf', 'teens'],
  ['str(15),map_int(MAP/int.map,nf)', 'teens', 'teens'],
  ['str(org),map_end(MAP/m1.map)', null, null],
  ['str(xexample.orgx),map_sub(MAP/m1.map)', 'org-value', 'org-value'],
  ['str(/user/42),map_regm(MAP/reg.map)', '/u?id=42', '/u?id=42'],
  ['str(b),map_str_int(MAP/toint.map),add(1)', '23', '23'],
  ['str(zz),map_str_int(MAP/toint.map,7)', '7', '7'],
  ['str(b),map_str_ip(MAP/toip.map)', '2001:db8::5', '2001:db8::5'],
  ['src,ipmask(24)', '127.0.0.0', '127.0.0.0'],
  ['src,ipmask(255.255.0.0)', '127.0.0.0', '127.0.0.0'],
  ['str(10.1.2.3),ipmask(16)', '10.1.0.0', '10.1.0.0'],
  ['str(2001:db8:1:2::7),ipmask(8,32)', '2001:db8::', '2001:db8::'],
  ['str(2001:db8:1:2::7),ipmask(8)', null, null],
  ['req.hdr(host),base64', 'd3d3LkVYQU1QTEUuY29tOjgwODA=', 'd3d3LmV4YW1wbGUuY29t'],
  ['str(aGVsbG8=),b64dec', 'hello', 'hello'],
  ['str(a-_b),ub64dec,ub64enc', 'a-_b', 'a-_b'],
  ['str(AB),hex', '4142', '4142'],
  ['str(ff),hex2i', '255', '255'],
  ['str(a%2Fb+c),url_dec', 'a/b+c', 'a/b+c'],
  ['str(a%2Fb+c),url_dec(1)', 'a/b c', 'a/b c'],
  ['str(a/b\\\\c),json', 'a\\/b\\\\c', 'a\\/b\\\\c'],
  ['str(é),json', '\\u00c3\\u00a9', '\\u00c3\\u00a9'],
  ['str(é),json(utf8)', '\\u00e9', '\\u00e9'],
  ['hdr_val(n),bool', '1', '1'],
  ['hdr_val(n),not', '0', '0'],
  ['str(0),not', '1', '1'],
  ['hdr_val(n),add(8)', '50', '23'],
  ['hdr_val(n),sub(50)', '-8', '-35'],
  ['hdr_val(n),add(txn.v)', '47', '20'],
  ['hdr_val(n),mul(2),div(4),mod(7)', '0', '0'],
  ['hdr_val(n),and(6),or(1),xor(3)', '0', '4'],
  ['hdr_val(n),neg,odd', '0', '1'],
  ['str(abc),length', '3', '3'],
  ['src,bool', '1', '1'],
  ['str(x),bool', '0', '0'],
  ['method,length', '3', '3'],
  ['always_true,add(1)', '2', '2'],
  ['str(12abc),add(1)', '13', '13'],
  ['str(abc),add(1)', '1', '1'],
  ['str(),add(1)', null, null],
  ['int(-3),add(1)', '-2', '-2'],
  ['src,add(0)', '2130706433', '2130706433'],
  ['ssl_fc,length', '1', '1'],
  ['str(a),concat(b,txn.v,c)', 'ab5c', 'ab5c'],
  ['str(a),concat(,txn.none,c)', 'ac', 'ac'],
  ['hdr_val(n),div(0)', '9223372036854775807', '9223372036854775807'],
  ['ssl_fc,iif(https,http)', 'http', 'http'],
  ['str(  x  ),ltrim( ),rtrim( )', 'x', 'x'],
  ['str(abc),strcmp(txn.s)', '-1', '-1'],
  ['str(abcdef),bytes(2,3)', 'cde', 'cde'],
  ['str(a\\rb),cut_crlf', 'a', 'a'],
  ['str(::ffff:1.2.3.4),ipmask(16)', '1.2.0.0', '1.2.0.0'],
  ['ipv6(1:0:0:0:0:0:0:1)', '1::1', '1::1'],
  ['str(a/b//c/),word(-1,/)', 'c', 'c'],
  ['str(a/b//c/),word(-2,/,0)', 'a/b', 'a/b'],
  ['str(a/b//c/),word(2,/,2)', 'b//c', 'b//c'],
];

test('converters give what HAProxy gives', () => {
  const reqs = [REQ1, REQ2];
  for (const [expr0, r1, r2] of CASES) {
    const expr = expr0.replaceAll('MAP', dir);
    const e = compileSampleExpr(expr);
    [r1, r2].forEach((expected, i) => {
      const ctx = makeCtx({ reqRaw: reqs[i]! });
      ctx.setVar('txn', 'v', { type: 'sint', value: 5 });
      ctx.setVar('txn', 's', { type: 'str', value: 'abd' });
      assert.equal(e.evalString(ctx), expected, `${expr0} on request ${i + 1}`);
    });
  }
});

test('map files: missing file, bad values, shared reads', () => {
  assert.throws(
    () => compileSampleExpr(`path,map(${dir}/nope.map)`),
    (e: unknown) => e instanceof AclError && e.message === `invalid args in converter 'map' : failed to open pattern file <${dir}/nope.map>`,
  );
  writeFileSync(join(dir, 'badint.map'), 'a 1\nb x2\n');
  assert.throws(
    () => compileSampleExpr(`str(a),map_str_int(${dir}/badint.map)`),
    /invalid args in converter 'map_str_int' : unable to parse 'x2' at line 2 of file '.*badint.map'/,
  );
  writeFileSync(join(dir, 'badip.map'), '10.0.0.0/8 a\n10.300.0.0/16 b\n');
  assert.throws(
    () => compileSampleExpr(`src,map_ip(${dir}/badip.map)`),
    /'10.300.0.0\/16' is not a valid IPv4 or IPv6 address at line 2 of file/,
  );
  assert.throws(() => compileSampleExpr(`str(a),map_str_ip(${dir}/toip.map,nope)`), /map: cannot parse default ip <nope>\./);
  // Relative names resolve against baseDir.
  const e = compileSampleExpr('req.hdr(host),map(m1.map)', { baseDir: dir });
  assert.equal(e.evalString(makeCtx({ reqRaw: REQ2 })), 'example');
});
