// Request line actions. Results marked "haproxy" were seen on the server side of HAProxy 2.6.12.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINUE, REWRITE_ERROR } from '../../../src/http/actions/index.js';
import { rule, ruleCtx } from './ctx.js';

function after(uri: string, line: string | string[], host = 'Ex.com'): { uri: string; method: string; host: string | undefined } {
  const ctx = ruleCtx({ reqRaw: `GET ${uri} HTTP/1.1\r\nHost: ${host}\r\n\r\n` });
  assert.equal(rule('request', line).exec(ctx), CONTINUE);
  return { uri: ctx.req!.uri, method: ctx.req!.method, host: ctx.req!.headers[1] };
}

test('set-path keeps the query (haproxy: /sp/x?q=1 -> /newpath?q=1) and the authority of absolute targets', () => {
  assert.equal(after('/sp/x?q=1', 'set-path /newpath').uri, '/newpath?q=1');
  assert.equal(after('http://h.example/a/b?c', 'set-path /z').uri, 'http://h.example/z?c');
  assert.equal(after('/a', 'set-path %[path]/index.html').uri, '/a/index.html');
});

test('set-pathq replaces the path and the query', () => {
  assert.equal(after('/a?b=1', 'set-pathq /c?d=2').uri, '/c?d=2');
  assert.equal(after('http://h/a?b', 'set-pathq /x').uri, 'http://h/x');
});

test('set-query (haproxy: /sq?a=b -> /sq?a=b&x=1, /sq -> /sq?&x=1)', () => {
  assert.equal(after('/sq?a=b', 'set-query %[query]&x=1').uri, '/sq?a=b&x=1');
  assert.equal(after('/sq', 'set-query %[query]&x=1').uri, '/sq?&x=1');
  // An empty query leaves a target without '?' alone, and empties an existing one.
  assert.equal(after('/sq', 'set-query %[query]').uri, '/sq');
  assert.equal(after('/sq?a', 'set-query %[req.hdr(none)]').uri, '/sq?');
});

test('set-uri with an absolute URI rewrites Host (haproxy: host: other.example:81)', () => {
  const r = after('/su/a?b', 'set-uri http://other.example:81/u?z');
  assert.equal(r.uri, 'http://other.example:81/u?z');
  assert.equal(r.host, 'other.example:81');
  assert.equal(after('/x', 'set-uri /y?z').host, 'Ex.com');
});

test('set-uri to an absolute URI without authority is a failed rewrite', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nHost: h\r\n\r\n' });
  assert.equal(rule('request', 'set-uri http:///nohost').exec(ctx), REWRITE_ERROR);
});

test('set-method (haproxy: POST /meth)', () => {
  assert.equal(after('/meth', 'set-method POST').method, 'POST');
});

test('replace-path works on the path only (haproxy: /old/x?q -> /new/x?q)', () => {
  assert.equal(after('/old/x?q', ['replace-path', '/old(.*)', '/new\\1']).uri, '/new/x?q');
  assert.equal(after('/keep?old', ['replace-path', 'old', 'new']).uri, '/keep?old');
});

test('replace-pathq sees the query; replace-uri the whole target (haproxy: /ru/a?b -> /rx/a?b)', () => {
  assert.equal(after('/a?x=1', ['replace-pathq', '^/a\\?x=(.*)', '/b/\\1']).uri, '/b/1');
  assert.equal(after('/ru/a?b', ['replace-uri', '^/ru/(.*)', '/rx/\\1']).uri, '/rx/a?b');
  const abs = after('http://a.example/p', ['replace-uri', '^http://([^/]*)(.*)', 'http://b.example\\2']);
  assert.deepEqual([abs.uri, abs.host], ['http://b.example/p', 'b.example']);
});

test('replace-* without a match leave the request alone', () => {
  assert.equal(after('/a', ['replace-uri', '^/zz', '/b']).uri, '/a');
});
