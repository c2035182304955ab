// return, deny, tarpit, auth, set-status: the bytes are those HAProxy 2.6.12 sent for the same
// rules (captured on a raw socket), without the `x-after` header the reference configuration
// added and with sluice's connection handling left to the caller (close/keep-alive flags).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerdictKind, type AnswerVerdict, type TarpitVerdict, type Verdict } from '../../../src/http/actions/index.js';
import { rule, ruleCtx, text } from './ctx.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-actions-'));
const e403 = join(dir, 'e403.http');
writeFileSync(e403, 'HTTP/1.0 403 Nope Nope\nContent-Type: text/plain\nX-Custom:   spaced  \nContent-Length: 3\n\nabc');
const e200 = join(dir, 'e200.http');
writeFileSync(e200, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n');
const payload = join(dir, 'body.txt');
writeFileSync(payload, 'from a file\n');

function answer(v: Verdict): AnswerVerdict {
  assert.equal(v.kind, VerdictKind.Answer);
  return v as AnswerVerdict;
}

const GET = 'GET /ret HTTP/1.1\r\nHost: Ex.com\r\n\r\n';

test('return with content-type, string and log-format hdr; empty hdr values are left out', () => {
  const v = answer(rule('request', 'return status 200 content-type text/plain string "hello" hdr X-Foo "bar %[req.hdr(host)]" hdr X-Empty "%[req.hdr(nothing)]"').exec(ruleCtx({ reqRaw: GET })));
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 200 OK\r\nx-foo: bar Ex.com\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello');
  assert.deepEqual([v.status, v.cause, v.denied, v.close], [200, 'L', false, false]);
});

test('return without payload sends an empty body (haproxy: 404 Not Found, content-length: 0)', () => {
  const v = answer(rule('request', 'return status 404').exec(ruleCtx()));
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
});

test('return lf-string renders per request; HEAD gets the head with the same length', () => {
  const r = rule('request', 'return status 200 content-type text/plain lf-string "hi %[path] %ci" hdr X-Y %[path]');
  const v = answer(r.exec(ruleCtx({ reqRaw: 'GET /lf HTTP/1.1\r\n\r\n' })));
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 200 OK\r\nx-y: /lf\r\ncontent-length: 16\r\ncontent-type: text/plain\r\n\r\nhi /lf 127.0.0.1');
  assert.equal(text(v.reply.bytes(false, true)), 'HTTP/1.1 200 OK\r\nx-y: /lf\r\ncontent-length: 16\r\ncontent-type: text/plain\r\n\r\n');
  // haproxy to an HTTP/1.0 client: connection: close appended after the fields.
  assert.equal(text(v.reply.bytes(true, false)), 'HTTP/1.1 200 OK\r\nx-y: /lf\r\ncontent-length: 16\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhi /lf 127.0.0.1');
});

test('return file reads the payload at compile time', () => {
  const v = answer(rule('request', `return content-type text/plain file ${payload}`).exec(ruleCtx()));
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 200 OK\r\ncontent-length: 12\r\ncontent-type: text/plain\r\n\r\nfrom a file\n');
});

test('return errorfile: the file reparsed (names lowered, values trimmed), an HTTP/1.0 one kept alive announces it', () => {
  // haproxy: HTTP/1.0 403 Nope Nope / content-type / x-custom: spaced / content-length: 3 / connection: keep-alive
  const v = answer(rule('request', `return status 404 errorfile ${e403}`).exec(ruleCtx()));
  assert.equal(v.status, 404);
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.0 403 Nope Nope\r\ncontent-type: text/plain\r\nx-custom: spaced\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\nabc');
});

test('an errorfile without content-length is delimited by the close (haproxy: connection: close)', () => {
  const v = answer(rule('request', `return status 200 errorfile ${e200}`).exec(ruleCtx()));
  assert.equal(v.close, true);
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhello\n');
});

test('deny: the default 403 page, denied by the proxy', () => {
  const v = answer(rule('request', 'deny').exec(ruleCtx()));
  assert.deepEqual([v.status, v.cause, v.denied], [403, 'P', true]);
  assert.equal(
    text(v.reply.bytes(false, false)),
    'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
      '<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n',
  );
});

test('deny deny_status 429 uses the default page of that status', () => {
  const v = answer(rule('request', 'deny deny_status 429').exec(ruleCtx()));
  assert.equal(
    text(v.reply.bytes(false, false)),
    'HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n' +
      '<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n',
  );
});

test("deny with a full reply (haproxy: 418 I'm a teapot, x-a: b, nope)", () => {
  const v = answer(rule('request', 'deny status 418 content-type text/plain string nope hdr x-a b').exec(ruleCtx()));
  assert.equal(text(v.reply.bytes(false, false)), "HTTP/1.1 418 I'm a teapot\r\nx-a: b\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nnope");
});

test("deny uses the proxy's errorfile for its status", () => {
  const errorfiles = new Map([[403, Buffer.from('HTTP/1.0 403 Nope Nope\nContent-Type: text/plain\nX-Custom:   spaced  \nContent-Length: 3\n\nabc')]]);
  const v = answer(rule('request', 'deny', { errorfiles }).exec(ruleCtx()));
  assert.equal(text(v.reply.bytes(true, false)), 'HTTP/1.0 403 Nope Nope\r\ncontent-type: text/plain\r\nx-custom: spaced\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc');
});

test('http-response deny answers 502 (haproxy: 502 Bad Gateway)', () => {
  const v = answer(rule('response', 'deny').exec(ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\n\r\n' })));
  assert.equal(v.status, 502);
  assert.match(text(v.reply.bytes(false, false)), /^HTTP\/1\.1 502 Bad Gateway\r\ncontent-length: 107\r\n/);
});

test('http-response return (haproxy: 202 Accepted, resp)', () => {
  const v = answer(rule('response', 'return status 202 content-type text/plain string "resp"').exec(ruleCtx()));
  assert.equal(text(v.reply.bytes(false, false)), 'HTTP/1.1 202 Accepted\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nresp');
});

test('tarpit holds then answers 500 by default, or the deny_status page', () => {
  const v = rule('request', 'tarpit').exec(ruleCtx()) as TarpitVerdict;
  assert.equal(v.kind, VerdictKind.Tarpit);
  assert.equal(v.status, 500);
  assert.match(text(v.reply.bytes(false, false)), /^HTTP\/1\.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\n/);
  assert.equal((rule('request', 'tarpit deny_status 403').exec(ruleCtx()) as TarpitVerdict).status, 403);
});

test('auth: 401 page with the challenge at the end; the realm defaults to the proxy name', () => {
  const page = '<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n';
  const v = answer(rule('request', 'auth realm "My Realm"').exec(ruleCtx()));
  assert.equal(
    text(v.reply.bytes(false, false)),
    'HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm="My Realm"\r\n\r\n' + page,
  );
  const d = answer(rule('request', 'auth', { proxyName: 'fe' }).exec(ruleCtx()));
  assert.match(text(d.reply.bytes(false, false)), /www-authenticate: Basic realm="fe"\r\n/);
  assert.deepEqual([d.cause, d.denied], ['L', false]);
});

test('auth in proxy mode answers 407 with Proxy-Authenticate', () => {
  const v = answer(rule('request', 'auth realm R').exec(ruleCtx({ useProxyAuth: true })));
  assert.equal(v.status, 407);
  assert.match(text(v.reply.bytes(false, false)), /^HTTP\/1\.1 407 Unauthorized\r\n[^]*proxy-authenticate: Basic realm="R"\r\n\r\n/);
});

test('set-status with a reason, or HAProxy reason phrase (haproxy: 203 Fine Thanks, 299 Success)', () => {
  const ctx = ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\n\r\n' });
  rule('response', 'set-status 203 reason "Fine Thanks"').exec(ctx);
  assert.deepEqual([ctx.res!.status, ctx.res!.reason], [203, 'Fine Thanks']);
  rule('after-response', 'set-status 299').exec(ctx);
  assert.deepEqual([ctx.res!.status, ctx.res!.reason], [299, 'Success']);
  rule('response', 'set-status 302').exec(ctx);
  assert.equal(ctx.res!.reason, 'Moved Temporarily');
});

test('a constant answer is one shared verdict; http-after-response can rewrite a copy of its reply', () => {
  const r = rule('request', 'return status 200 content-type text/plain string ok');
  const a = r.exec(ruleCtx());
  assert.equal(r.exec(ruleCtx()), a);
  const res = (a as AnswerVerdict).reply.toHtx();
  const ctx = ruleCtx({ res });
  rule('after-response', 'set-header X-After "%ST %[status]"').exec(ctx);
  // haproxy: x-after: 200 200, after the reply's own fields.
  assert.deepEqual(res.headers, ['content-length', '2', 'content-type', 'text/plain', 'X-After', '200 200']);
  assert.deepEqual((a as AnswerVerdict).reply.headers, ['content-length', '2', 'content-type', 'text/plain']);
});
