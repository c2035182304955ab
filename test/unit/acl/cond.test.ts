// Conditions: implicit AND, or/||, negation, anonymous ACLs, predefined ACLs, several lines with
// one name, declaration order. Results were checked against HAProxy 2.6.12 (one
// `http-request set-header ... if|unless <cond>` per case).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AclResult, AclTable, compileCondition, PREDEFINED_ACLS } from '../../../src/acl/index.js';
import { condition, makeCtx, words } from './ctx.js';

const GET = makeCtx({ reqRaw: 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n' });
const POST = makeCtx({ reqRaw: 'POST /y HTTP/1.0\r\nContent-Length: 0\r\n\r\n' });

// [condition, on GET /x HTTP/1.1, on POST /y HTTP/1.0 with an empty body]
const CASES: Array<[string, boolean, boolean]> = [
  ['if', false, false],
  ['unless', true, true],
  ['if or', false, false],
  ['if !', false, false],
  ['if ! TRUE', false, false],
  ['if ! ! TRUE', true, true],
  ['if !!TRUE', true, true],
  ['if FALSE or TRUE', true, true],
  ['if ! FALSE TRUE', true, true],
  ['if ! or TRUE', true, true],
  ['if TRUE !', true, true],
  ['unless FALSE', true, true],
  ['if { path /x } { method GET }', true, false],
  ['if { path /y } || { method GET }', true, true],
  ['if METH_GET { path_beg /x } or FALSE', true, false],
  ['if HTTP', true, true],
  ['if HTTP_1.1', true, false],
  ['if HTTP_1.0', false, true],
  ['if REQ_CONTENT', true, true],
  ['if HTTP_CONTENT', false, false],
  ['if HTTP_URL_SLASH', true, true],
  ['if HTTP_URL_ABS', false, false],
  ['if LOCALHOST', true, true],
  ['if WAIT_END', true, true],
  ['if METH_HEAD', false, false],
  ['if METH_GET', true, false],
  ['if METH_POST', false, true],
  ['if TRUE OR FALSE', true, true],
];

test('conditions as HAProxy evaluates them', () => {
  for (const [cond, onGet, onPost] of CASES) {
    const c = condition([], cond).cond;
    assert.equal(c.test(GET), onGet, `${cond} on GET`);
    assert.equal(c.test(POST), onPost, `${cond} on POST`);
  }
});

test('METH_GET also matches HEAD; the other predefined ACLs', () => {
  const head = makeCtx({ reqRaw: 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n' });
  assert.equal(condition([], 'if METH_GET').cond.test(head), true);
  assert.equal(condition([], 'if METH_HEAD').cond.test(head), true);
  const abs = makeCtx({ reqRaw: 'GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n' });
  assert.equal(condition([], 'if HTTP_URL_ABS').cond.test(abs), true);
  assert.equal(condition([], 'if HTTP_URL_SLASH').cond.test(abs), false);
  const star = makeCtx({ reqRaw: 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n' });
  assert.equal(condition([], 'if HTTP_URL_STAR METH_OPTIONS').cond.test(star), true);
  const h2 = makeCtx({ reqRaw: 'DELETE /x HTTP/2.0\r\ncontent-length: 3\r\n\r\n' });
  assert.equal(condition([], 'if HTTP_2.0 METH_DELETE HTTP_CONTENT').cond.test(h2), true);
  assert.equal(condition([], 'if LOCALHOST').cond.test(makeCtx({ srcAddr: '::1' })), true);
  assert.equal(condition([], 'if LOCALHOST').cond.test(makeCtx({ srcAddr: '192.0.2.1' })), false);
  for (const m of ['CONNECT', 'PUT', 'TRACE']) {
    assert.equal(condition([], `if METH_${m}`).cond.test(makeCtx({ reqRaw: `${m} /x HTTP/1.1\r\nHost: h\r\n\r\n` })), true);
  }
  assert.ok(PREDEFINED_ACLS.includes('HTTP_URL_STAR'));
});

test('acl lines with the same name are ORed; patterns of a line are ORed', () => {
  const acls = ['static path_beg /static /img', 'static path_end .css', 'api path_beg /api'];
  const c = condition(acls, 'if static or api').cond;
  for (const [path, exp] of [
    ['/static/a', true],
    ['/img/b', true],
    ['/x/y.css', true],
    ['/api/z', true],
    ['/other', false],
  ] as const) {
    assert.equal(c.test(makeCtx({ reqRaw: `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n` })), exp, path);
  }
});

test('the documentation example: routing with hosts and paths', () => {
  const acls = [
    'url_static  path_beg         /static /images /img /css',
    'url_static  path_end         .gif .png .jpg .css .js',
    'host_www    hdr_beg(host) -i www',
    'host_static hdr_beg(host) -i img. video. download. ftp.',
  ];
  const staticCond = condition(acls, 'if host_static or host_www url_static').cond;
  const wwwCond = condition(acls, 'if host_www').cond;
  const req = (host: string, path: string): ReturnType<typeof makeCtx> => makeCtx({ reqRaw: `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n` });
  assert.equal(staticCond.test(req('IMG.example.com', '/')), true);
  assert.equal(staticCond.test(req('WWW.example.com', '/a.png')), true);
  assert.equal(staticCond.test(req('www.example.com', '/index.html')), false);
  assert.equal(wwwCond.test(req('www.example.com', '/index.html')), true);
  assert.equal(staticCond.test(req('api.example.com', '/a.png')), false);
});

test('a user ACL overrides a predefined one; ACLs declared later are not visible', () => {
  const t = new AclTable();
  t.add({ name: 'TRUE', args: words('path /never'), file: 'f.cfg', line: 1 });
  const c = compileCondition({ polarity: 'if', tokens: ['TRUE'], loc: { file: 'f.cfg', line: 2 } }, t);
  assert.equal(c.test(GET), false);
  t.add({ name: 'later', args: words('path /x'), file: 'f.cfg', line: 10 });
  assert.throws(
    () => compileCondition({ polarity: 'if', tokens: ['later'], loc: { file: 'f.cfg', line: 5 } }, t),
    { message: "no such ACL : 'later'" },
  );
  // Lines added after a condition still extend an ACL it already uses (HAProxy shares it).
  const t2 = new AclTable();
  t2.add({ name: 'a', args: words('path /one'), file: 'f.cfg', line: 1 });
  const c2 = compileCondition({ polarity: 'if', tokens: ['a'], loc: { file: 'f.cfg', line: 2 } }, t2);
  t2.add({ name: 'a', args: words('path /x'), file: 'f.cfg', line: 3 });
  assert.equal(c2.test(GET), true);
});

test('response conditions read the response; hdr ACLs stay on the request', () => {
  const ctx = makeCtx({
    reqRaw: 'GET / HTTP/1.1\r\nX: req\r\n\r\n',
    resRaw: 'HTTP/1.1 503 Service Unavailable\r\nX: res\r\nSet-Cookie: sid=1\r\n\r\n',
  });
  const acls = ['err status 500:599', 'xres res.hdr(x) res', 'xreq hdr(x) req', 'xreq2 hdr(x),upper REQ', 'chan cookie(sid) 1', 'sc res.cook(sid) 1'];
  // The ACL keyword hdr() is req.hdr(), converters or not.
  assert.equal(condition(acls, 'if err xres xreq xreq2 sc', { dir: 'res' }).cond.test(ctx), true);
  // The cookie() fetch follows the direction of the rule.
  assert.equal(condition(acls, 'if chan', { dir: 'res' }).cond.test(ctx), true);
  assert.equal(condition(acls, 'if chan', { dir: 'req' }).cond.test(ctx), false);
});

test('data that may still arrive gives MISS until final', () => {
  const ctx = makeCtx({ reqRaw: 'POST /y HTTP/1.1\r\nContent-Length: 10\r\n\r\n', reqBodyBytes: 4 });
  const c = condition(['big req.len gt 1000'], 'if big').cond;
  assert.equal(c.exec(ctx, false), AclResult.Miss);
  assert.equal(c.exec(ctx, true), AclResult.Fail);
  const w = condition([], 'if WAIT_END').cond;
  assert.equal(w.exec(ctx, false), AclResult.Miss);
  assert.equal(w.exec(ctx, true), AclResult.Pass);
  // Negation keeps MISS; a decided alternative wins.
  assert.equal(condition([], 'if !WAIT_END').cond.exec(ctx, false), AclResult.Miss);
  assert.equal(condition([], 'if WAIT_END or TRUE').cond.exec(ctx, false), AclResult.Pass);
});

test('evaluation compiles no regular expression', () => {
  const { cond } = condition(['r path_reg ^/a/[bc] \\.png$', 'h hdr_reg(host) -i ^www\\.'], 'if r or h or { url_reg x+ }');
  const ctx = makeCtx({ reqRaw: 'GET /a/b/c.png HTTP/1.1\r\nHost: WWW.example.com\r\n\r\n' });
  const Orig = globalThis.RegExp;
  let built = 0;
  globalThis.RegExp = new Proxy(Orig, {
    construct(target, args): object {
      built++;
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    for (let i = 0; i < 100; i++) assert.equal(cond.test(ctx), true);
  } finally {
    globalThis.RegExp = Orig;
  }
  assert.equal(built, 0);
});
