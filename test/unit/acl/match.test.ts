// ACL matching: every match method, flag, operator, range and address form. Expected results
// were checked against HAProxy 2.6.12 (one `acl` line per case, requests sent over loopback).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclMatches, makeCtx } from './ctx.js';

const R1 =
  'GET /a/b/images/png/x.png?a=1&a=3 HTTP/1.1\r\nHost: ex.example.com:80\r\nX: a, b\r\nX: "c,d" , e\r\n' +
  'Cookie: c=1; e=\r\nN: 42\r\nNeg: -5\r\nUA: Mozilla\r\nY: -i\r\nEmpty:\r\n\r\n';
const R2 = 'FOO /abc HTTP/1.1\r\nHost: h\r\n\r\n';
const R3 = 'get /abc HTTP/1.1\r\nHost: h\r\n\r\n';

// [acl criterion and patterns, matches R1, R2, R3]
const CASES: Array<[string, boolean, boolean, boolean]> = [
  ['method GET', true, false, false],
  // A known method is compared by identity: "get" and -i never match GET.
  ['method get', false, false, true],
  ['method -i get', false, false, true],
  ['method FOO', false, true, false],
  ['method -i foo', false, true, false],
  ['method -m str get', false, false, true],
  ['method -m str -i get', true, false, true],
  ['method -m beg GE', true, false, false],
  ['hdr_dom(host) example', true, false, false],
  ['hdr(host) -m dom ex.example.com:80', true, false, false],
  ['hdr_dom(host) -i EX', true, false, false],
  ['hdr(host) -m dom :80', true, false, false],
  ['path -m dom .png', true, false, false],
  ['path_dir images/png', true, false, false],
  ['path_dir png', true, false, false],
  ['path_dir x', false, false, false],
  ['path_len 3:5', false, true, true],
  ['path -m len gt 4', true, false, false],
  ['hdr(x-none) -m found', false, false, false],
  ['hdr(host) -m found', true, true, true],
  ['hdr_cnt(x) ge 2', true, false, false],
  ['hdr_cnt(x-none) eq 0', true, true, true],
  ['req.cook(c) -m found', true, false, false],
  ['req.cook(e) -m len 0', true, false, false],
  ['url_sub a=3', true, false, false],
  ['path_end .png .jpg', true, false, false],
  ['hdr_val(n) 40:45', true, false, false],
  ['hdr_val(n) lt 42', false, false, false],
  ['hdr_val(n) le 42', true, false, false],
  ['hdr_val(n) :41', false, false, false],
  ['hdr_val(n) 42:', true, false, false],
  ['hdr_val(neg) lt 0', true, false, false],
  ['hdr_val(n) eq 42 43', true, false, false],
  ['hdr_val(n) gt 100 eq 42', true, false, false],
  ['hdr(x) b', true, false, false],
  ['hdr_beg(x) \\"c', true, false, false],
  ['req.fhdr(x) a', false, false, false],
  ['req.fhdr(x) -m beg a,', true, false, false],
  ['hdr(host) ex.example.com:80', true, false, false],
  ['hdr(host) -i EX.example.com:80', true, false, false],
  ['hdr(host) -m len 18', false, false, false],
  ['hdr_end(host) com:80', true, false, false],
  ['hdr(ua) -m sub -i MOZ', true, false, false],
  ['src 127.0.0.1', true, true, true],
  ['src 127.0.0.0/8', true, true, true],
  ['src 127.1', true, true, true],
  ['src 127.0.0.0/255.0.0.0', true, true, true],
  ['src ::1', false, false, false],
  ['src ::/0', true, true, true],
  ['src 10.0.0.0/255.0.255.0', false, false, false],
  ['src -m str 127.0.0.1', true, true, true],
  ['src -m beg 127.', true, true, true],
  ['src,ipmask(8) 127.0.0.0', true, true, true],
  ['dst_port -m str 8080', true, true, true],
  ['dst_port -m beg 80', true, true, true],
  ['src_port -m bool', true, true, true],
  ['req.ver 1.1', true, true, true],
  ['req.ver -m int 1', true, true, true],
  ['status 200', false, false, false],
  ['always_true', true, true, true],
  ['always_false', false, false, false],
  ['path_reg ^/a/[bc]', true, false, false],
  ['path_reg -i ^/A/B', true, false, false],
  ['path_sub -i A/B', true, false, false],
  ['url_param(a) 3', true, false, false],
  ['path -m int 0', true, true, true],
  ['path -m bin 2f61', false, false, false],
  ['path -m bin 2f616263', false, true, true],
  ['path -- -i', false, false, false],
  // Every word starting with '-' is an option until '--': "-i -i" has no pattern.
  ['hdr(y) -i -i', false, false, false],
  ['hdr(y) -- -i', true, false, false],
  // An empty word ends the patterns.
  ['hdr(empty) -m str ""', false, false, false],
  ['hdr(empty) -m found', true, false, false],
  ['hdr(empty) -m len 0', true, false, false],
  ['path,length -m bool', true, true, true],
  ['hdr(empty),length -m bool', false, false, false],
];

test('match methods, flags and operators as HAProxy', () => {
  const ctxs = [R1, R2, R3].map((r) => makeCtx({ reqRaw: r }));
  for (const [def, ...expected] of CASES) {
    expected.forEach((exp, i) => assert.equal(aclMatches(def, ctxs[i]!), exp, `${def} on request ${i + 1}`));
  }
});

test('IPv6 clients and IPv4 networks', () => {
  const v6lo = makeCtx({ srcAddr: '::1' });
  const mapped = makeCtx({ srcAddr: '::ffff:127.0.0.1' });
  const sixToFour = makeCtx({ srcAddr: '2002:a01:203::1' });
  const cases: Array<[string, boolean, boolean, boolean]> = [
    // [acl, from ::1, from ::ffff:127.0.0.1, from 2002:a01:203::1 (6to4 of 10.1.2.3)]
    ['src ::1', true, false, false],
    ['src ::1/128', true, false, false],
    ['src ::/0', true, true, true],
    ['src 127.0.0.0/8', false, true, false],
    // An IPv4-compatible address (::a.b.c.d) is matched as IPv4: ::1 is 0.0.0.1.
    ['src 0.0.0.0/0', true, true, true],
    ['src 0.0.0.1', true, false, false],
    ['src 10.1.0.0/16', false, false, true],
    ['src 2002::/16', false, false, true],
    ['src ::ffff:127.0.0.0/104', false, true, false],
    ['src -m str ::1', true, false, false],
    ['src,ipmask(8,64) 2002:a01:203::', false, false, true],
  ];
  for (const [def, ...expected] of cases) {
    [v6lo, mapped, sixToFour].forEach((ctx, i) => assert.equal(aclMatches(def, ctx), expected[i], `${def} from ${ctx.srcAddr}`));
  }
  // An IPv4 sample against IPv6 networks is tried as ::ffff:a.b.c.d.
  assert.equal(aclMatches('src ::ffff:127.0.0.0/104', makeCtx()), true);
  assert.equal(aclMatches('src ::ffff:0:0/96', makeCtx()), true);
});

test('a following word naming a converter is one (HAProxy quirk for plain fetches)', () => {
  const upper = makeCtx({ reqRaw: 'GET / HTTP/1.1\r\nX: LOWER\r\n\r\n' });
  const lower = makeCtx({ reqRaw: 'GET / HTTP/1.1\r\nX: lower\r\n\r\n' });
  assert.equal(aclMatches('req.hdr(x) lower', upper), true);
  assert.equal(aclMatches('req.hdr(x) lower', lower), true);
  assert.equal(aclMatches('req.hdr(x) LOWER', upper), true);
  assert.equal(aclMatches('req.hdr(x) LOWER', lower), false);
  // ACL keywords do not do it.
  assert.equal(aclMatches('hdr(x) lower', upper), false);
});

test('cookies, parameters and headers are iterated in ACLs', () => {
  const ctx = makeCtx({ reqRaw: 'GET /?id=1&id=2;id=3 HTTP/1.1\r\nCookie: s=a; s=b\r\nCookie: s=c\r\nV: 1, 2, 3\r\n\r\n' });
  assert.equal(aclMatches('urlp(id) 3', ctx), true);
  assert.equal(aclMatches('urlp_val(id) 2', ctx), true);
  assert.equal(aclMatches('req.cook(s) b', ctx), true);
  assert.equal(aclMatches('cook_cnt(s) 3', ctx), true);
  assert.equal(aclMatches('hdr_val(v) 2', ctx), true);
  assert.equal(aclMatches('hdr(v,1) 2', ctx), false);
  assert.equal(aclMatches('hdr(v,-1) 3', ctx), true);
});

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-acl-match-'));
  writeFileSync(join(dir, 'pat1.lst'), 'Foo\n  bar baz  \n#comment\n #notcomment\n\nQUX\n');
  writeFileSync(join(dir, 'nets.lst'), '10.0.0.0/8\n# private\n192.168.0.0/16\r\n::1\n');
  writeFileSync(join(dir, 'ports.lst'), '80\n8000:8999\n');
  writeFileSync(join(dir, 'ports2.lst'), '443\n');
  writeFileSync(join(dir, 'hosts.map'), 'www.example.com be1\napi.example.com be2\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('-f pattern files, -i order, -M maps', () => {
  const x = (v: string): ReturnType<typeof makeCtx> => makeCtx({ reqRaw: `GET / HTTP/1.1\r\nX: ${v}\r\nHost: api.example.com\r\n\r\n` });
  const f = `${dir}/pat1.lst`;
  // [acl, X: foo, X: #notcomment, X: Qux, X: Foox] — checked with HAProxy.
  const cases: Array<[string, boolean[]]> = [
    [`hdr(x) -f ${f}`, [false, true, false, false]],
    [`hdr(x) -i -f ${f}`, [true, true, true, false]],
    // -i applies to what follows it only.
    [`hdr(x) -f ${f} -i qux`, [false, true, true, false]],
    [`hdr(x) -m beg -f ${f}`, [false, true, false, true]],
  ];
  const ctxs = ['foo', '#notcomment', 'Qux', 'Foox'].map(x);
  for (const [def, expected] of cases) {
    ctxs.forEach((ctx, i) => assert.equal(aclMatches(def, ctx), expected[i], `${def} #${i}`));
  }
  assert.equal(aclMatches(`src -f ${dir}/nets.lst`, makeCtx({ srcAddr: '192.168.3.4' })), true);
  assert.equal(aclMatches(`src -f ${dir}/nets.lst`, makeCtx({ srcAddr: '::1' })), true);
  assert.equal(aclMatches(`src -f ${dir}/nets.lst`, makeCtx({ srcAddr: '172.16.0.1' })), false);
  assert.equal(aclMatches(`dst_port -f ${dir}/ports.lst`, makeCtx({ dstPort: 8443 })), true);
  assert.equal(aclMatches(`hdr(host) -M -f ${dir}/hosts.map`, ctxs[0]!), true);
  // Relative names resolve against baseDir; several -f are ORed.
  assert.equal(aclMatches('dst_port -f ports.lst -f ports2.lst', makeCtx({ dstPort: 443 }), { baseDir: dir }), true);
  assert.equal(aclMatches('dst_port -f ports.lst -f ports2.lst', makeCtx({ dstPort: 444 }), { baseDir: dir }), false);
});
