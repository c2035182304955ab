// Sample fetches on htx messages. Expected values were checked against HAProxy 2.6.12 (the same
// requests sent to `http-request return ... lf-string "%[...]"` on loopback).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSampleExpr } from '../../../src/acl/index.js';
import { makeCtx } from './ctx.js';

const R1 =
  'GET /a/b?a=1&b=2&a=3 HTTP/1.1\r\nHost: Ex.com:8080\r\nX: a, b\r\nX: "c,d" , e\r\n' +
  'Cookie: c=1; d=2\r\nCookie: c=3, e=4\r\nN: 42abc\r\n\r\n';

const CASES: Array<[string, string | null, string?]> = [
  // [expression, expected string (null = no sample), request]
  ['hdr(x)', 'e'],
  ['req.hdr(x,1)', 'a'],
  ['req.hdr(x,-1)', 'e'],
  ['req.hdr(x,2)', 'b'],
  ['req.hdr(x,3)', '"c,d"'],
  ['req.hdr(x,5)', null],
  ['req.hdr(x,-5)', null],
  ['req.hdr(x,-4)', 'a'],
  ['req.fhdr(x)', '"c,d" , e'],
  ['req.fhdr(x,1)', 'a, b'],
  ['req.hdr_cnt(x)', '4'],
  ['req.fhdr_cnt(x)', '2'],
  ['req.hdr_cnt', '9'],
  ['hdr_cnt(nope)', '0'],
  ['req.hdr()', '42abc'],
  ['req.hdr', null],
  ['hdr(host)', 'Ex.com:8080'],
  ['req.hdr_names', 'host,x,x,cookie,cookie,n'],
  ['req.hdr_names(:)', 'host:x:x:cookie:cookie:n'],
  ['hdr_val(n)', '42'],
  ['path', '/a/b'],
  ['pathq', '/a/b?a=1&b=2&a=3'],
  ['query', 'a=1&b=2&a=3'],
  ['url', '/a/b?a=1&b=2&a=3'],
  ['base', 'Ex.com:8080/a/b'],
  ['baseq', 'Ex.com:8080/a/b?a=1&b=2&a=3'],
  ['url_param(a)', '1'],
  ['url_param(b)', '2'],
  ['urlp(zz)', null],
  ['urlp_val(b)', '2'],
  ['req.cook(c)', '3'],
  ['req.cook()', '1'],
  ['cook(d)', '2'],
  ['req.cook_cnt(c)', '2'],
  ['req.cook_val(c)', '3'],
  ['req.cook(zz)', null],
  ['req.ver', '1.1'],
  ['method', 'GET'],
  ['src', '127.0.0.1'],
  ['src_port', '40000'],
  ['dst', '127.0.0.1'],
  ['dst_port', '8080'],
  ['req.len', '112'],
  ['req.body_size', '0'],
  ['nbsrv(be)', '1'],
  ['nbsrv', '1'],
  ['srv_is_up(be/s1)', '1'],
  ['srv_is_up(be/s2)', '0'],
  ['fe_conn', '3'],
  ['be_conn(be)', '2'],
  ['fe_name', 'fe'],
  ['be_name', 'be'],
  ['ssl_fc', '0'],
  ['ssl_fc_sni', null],
  ['env(SLUICE_TEST_ENV)', 'from-env'],
  ['env(SLUICE_NOT_SET)', null],
  ['always_true', '1'],
  ['always_false', '0'],
  ['status', null],
  ['str(hello)', 'hello'],
  ['int(-3)', '-3'],
  ['bool(true)', '1'],
  ['ipv4(10.0.0.1)', '10.0.0.1'],
  ['ipv6(2001:db8::1)', '2001:db8::1'],
  ['bin(414243)', 'ABC'],
  // Other request shapes.
  ['url', 'http://h.com', 'GET http://h.com HTTP/1.1\r\nHost: h.com\r\n\r\n'],
  ['path', null, 'GET http://h.com HTTP/1.1\r\nHost: h.com\r\n\r\n'],
  ['base', 'h.com', 'GET http://h.com HTTP/1.1\r\nHost: h.com\r\n\r\n'],
  ['path', '/p/q', 'GET http://h.com:81/p/q?z HTTP/1.1\r\nHost: h.com:81\r\n\r\n'],
  ['path', null, 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['url', '*', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['base', 'h', 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['path', null, 'CONNECT h.com:443 HTTP/1.1\r\nHost: h.com:443\r\n\r\n'],
  ['url', 'h.com:443', 'CONNECT h.com:443 HTTP/1.1\r\nHost: h.com:443\r\n\r\n'],
  ['base', '/x', 'POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n'],
  ['req.ver', '1.0', 'POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n'],
  ['req.body_size', '5', 'POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n'],
  ['base', '/x', 'GET /x HTTP/1.1\r\nHost: \r\n\r\n'],
  ['req.hdr_ip(xff)', '10.1.2.3', 'GET / HTTP/1.1\r\nXFF: 10.1.2.3:80\r\n\r\n'],
  ['req.hdr_ip(xff)', '2001:db8::1', 'GET / HTTP/1.1\r\nXFF: junk, 2001:db8::1\r\n\r\n'],
];

test('sample fetches give what HAProxy gives', () => {
  for (const [text, expected, raw] of CASES) {
    const ctx = makeCtx({ reqRaw: raw ?? R1 });
    const e = compileSampleExpr(text);
    assert.equal(e.evalString(ctx), expected, text);
  }
});

test('req.len counts the buffered body and may change', () => {
  const ctx = makeCtx({ reqRaw: 'POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n', reqBodyBytes: 5 });
  assert.equal(compileSampleExpr('req.len').evalString(ctx), '55');
  assert.equal(compileSampleExpr('req.body_len').evalString(ctx), '5');
});

test('response fetches read the response; hdr() follows the rule direction', () => {
  const ctx = makeCtx({
    reqRaw: 'GET / HTTP/1.1\r\nX: from-req\r\nCookie: a=1\r\n\r\n',
    resRaw: 'HTTP/1.1 404 Not Found\r\nX: from-res\r\nSet-Cookie: a=2; Path=/\r\n\r\n',
  });
  assert.equal(compileSampleExpr('status').evalString(ctx), '404');
  assert.equal(compileSampleExpr('res.ver').evalString(ctx), '1.1');
  assert.equal(compileSampleExpr('res.hdr(x)').evalString(ctx), 'from-res');
  assert.equal(compileSampleExpr('req.hdr(x)', { dir: 'res' }).evalString(ctx), 'from-req');
  assert.equal(compileSampleExpr('hdr(x)').evalString(ctx), 'from-req');
  assert.equal(compileSampleExpr('hdr(x)', { dir: 'res' }).evalString(ctx), 'from-res');
  assert.equal(compileSampleExpr('res.cook(a)').evalString(ctx), '2');
  assert.equal(compileSampleExpr('cookie(a)', { dir: 'res' }).evalString(ctx), '2');
  assert.equal(compileSampleExpr('cookie(a)').evalString(ctx), '1');
  // Log formats look at the request first, then at the response.
  assert.equal(compileSampleExpr('hdr(x)').evalLogString(ctx), 'from-req');
  assert.equal(compileSampleExpr('res.hdr(x)').evalLogString(ctx), 'from-res');
  // sluice's own responses: no response message, but a status.
  assert.equal(compileSampleExpr('status').evalString(makeCtx({ status: 503 })), '503');
});

test('addresses: IPv6 clients, TLS, typed values', () => {
  const ctx = makeCtx({ srcAddr: '::ffff:192.0.2.7', dstAddr: '2001:db8::10', sslFc: true, sslSni: 'www.example.com' });
  assert.equal(compileSampleExpr('src').evalString(ctx), '::ffff:192.0.2.7');
  assert.equal(compileSampleExpr('dst').evalString(ctx), '2001:db8::10');
  assert.equal(compileSampleExpr('ssl_fc_sni').evalString(ctx), 'www.example.com');
  assert.deepEqual(compileSampleExpr('src').eval(ctx), { type: 'ipv6', value: '::ffff:192.0.2.7' });
  assert.deepEqual(compileSampleExpr('src_port').eval(makeCtx()), { type: 'sint', value: 40000 });
  assert.deepEqual(compileSampleExpr('ssl_fc').eval(ctx), { type: 'bool', value: true });
  assert.deepEqual(compileSampleExpr('method').eval(makeCtx()), { type: 'meth', value: 'GET' });
  assert.deepEqual(compileSampleExpr('bin(00ff)').eval(ctx), { type: 'bin', value: Buffer.from([0, 255]) });
  assert.equal(compileSampleExpr('src').evalString(makeCtx({ srcAddr: '/run/sluice.sock' })), null);
});

test('variables: var() with and without default, typed values round-trip', () => {
  const ctx = makeCtx();
  ctx.setVar('txn', 'v', { type: 'sint', value: 5 });
  ctx.setVar('sess', 'ip', { type: 'ipv4', value: '10.1.2.3' });
  assert.equal(compileSampleExpr('var(txn.v)').evalString(ctx), '5');
  assert.equal(compileSampleExpr('var(txn.none)').evalString(ctx), null);
  assert.equal(compileSampleExpr('var(txn.none,dflt)').evalString(ctx), 'dflt');
  assert.equal(compileSampleExpr('var(sess.ip),ipmask(16)').evalString(ctx), '10.1.0.0');
  assert.deepEqual(compileSampleExpr('var(txn.v),add(1)').eval(ctx), { type: 'sint', value: 6 });
});
