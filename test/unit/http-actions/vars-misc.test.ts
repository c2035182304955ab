// Variables (set-var, set-var-fmt, unset-var and their conditions), allow, set-log-level,
// disable-l7-retry, capture, wait-for-body, and running rule lists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyKind } from '../../../src/htx/index.js';
import { CONTINUE, STOP, VerdictKind, lastRuleIndex, runHttpRules, type WaitForBodyVerdict } from '../../../src/http/actions/index.js';
import { rule, ruleCtx } from './ctx.js';

test('set-var stores the typed sample; converters may follow in the next words', () => {
  const ctx = ruleCtx({ reqRaw: 'GET /Abc HTTP/1.1\r\nHost: Ex.com\r\n\r\n' });
  rule('request', 'set-var(txn.p) path').exec(ctx);
  rule('request', 'set-var(req.h) req.hdr(host) lower').exec(ctx);
  rule('request', 'set-var(sess.n) path,length').exec(ctx);
  assert.deepEqual(ctx.vars.get('txn.p'), { type: 'str', value: '/Abc' });
  assert.deepEqual(ctx.vars.get('req.h'), { type: 'str', value: 'ex.com' });
  assert.deepEqual(ctx.vars.get('sess.n'), { type: 'sint', value: 4 });
});

test('set-var without a sample leaves the variable alone; unset-var removes it', () => {
  const ctx = ruleCtx();
  rule('request', 'set-var(txn.x) str(a)').exec(ctx);
  rule('request', 'set-var(txn.x) req.hdr(nothing)').exec(ctx);
  assert.deepEqual(ctx.vars.get('txn.x'), { type: 'str', value: 'a' });
  rule('request', 'unset-var(txn.x)').exec(ctx);
  assert.equal(ctx.vars.has('txn.x'), false);
});

test('set-var-fmt renders a log-format string without header encoding', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-In: a\x01b\r\n\r\n' });
  rule('request', 'set-var-fmt(txn.f) "%ci|%[req.hdr(x-in)]"').exec(ctx);
  assert.deepEqual(ctx.vars.get('txn.f'), { type: 'str', value: '127.0.0.1|a\x01b' });
});

test('set-var conditions: ifexists ifnotexists ifempty ifnotempty ifgt iflt', () => {
  const ctx = ruleCtx();
  const run = (line: string): void => void rule('request', line).exec(ctx);
  run('set-var(txn.a,ifexists) str(x)');
  assert.equal(ctx.vars.has('txn.a'), false);
  run('set-var(txn.a,ifnotexists) str(x)');
  run('set-var(txn.a,ifnotexists) str(y)');
  assert.deepEqual(ctx.vars.get('txn.a'), { type: 'str', value: 'x' });
  run('set-var(txn.a,ifnotempty) str()');
  assert.deepEqual(ctx.vars.get('txn.a'), { type: 'str', value: 'x' });
  run('set-var(txn.a,ifempty) str()');
  assert.deepEqual(ctx.vars.get('txn.a'), { type: 'str', value: '' });
  run('set-var(txn.n) int(5)');
  run('set-var(txn.n,ifgt) int(7)');
  assert.deepEqual(ctx.vars.get('txn.n'), { type: 'sint', value: 5 });
  run('set-var(txn.n,ifgt) int(3)');
  assert.deepEqual(ctx.vars.get('txn.n'), { type: 'sint', value: 3 });
  run('set-var(txn.n,iflt) int(9)');
  assert.deepEqual(ctx.vars.get('txn.n'), { type: 'sint', value: 9 });
});

test('response rules evaluate set-var expressions on the response', () => {
  const ctx = ruleCtx({ resRaw: 'HTTP/1.1 201 Created\r\nX-R: r\r\n\r\n' });
  rule('response', 'set-var(txn.s) status').exec(ctx);
  rule('response', 'set-var(txn.h) hdr(x-r)').exec(ctx);
  assert.deepEqual(ctx.vars.get('txn.s'), { type: 'sint', value: 201 });
  assert.deepEqual(ctx.vars.get('txn.h'), { type: 'str', value: 'r' });
});

test('allow stops the list; set-log-level and disable-l7-retry reach the stream', () => {
  const ctx = ruleCtx();
  assert.equal(rule('request', 'allow').exec(ctx), STOP);
  rule('request', 'set-log-level err').exec(ctx);
  assert.equal(ctx.logLevel, 3);
  rule('response', 'set-log-level silent').exec(ctx);
  assert.equal(ctx.logLevel, -1);
  rule('request', 'disable-l7-retry').exec(ctx);
  assert.equal(ctx.l7RetryDisabled, true);
});

test('capture len declares a slot and stores the truncated sample; capture id uses a declared slot', () => {
  let declared = -1;
  const r = rule('request', 'capture req.hdr(host) lower len 4', { declareCapture: (len) => ((declared = len), 7) });
  assert.equal(declared, 4);
  assert.equal(r.captureLen, 4);
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nHost: Example.com\r\n\r\n' });
  r.exec(ctx);
  rule('request', 'capture path id 2').exec(ctx);
  assert.deepEqual([...ctx.captures], [
    [7, 'exam'],
    [2, '/'],
  ]);
});

test('capture len needs the frontend side', () => {
  assert.throws(() => rule('request', 'capture path len 10', { frontend: false, proxyName: 'be' }), /proxy 'be' has no frontend capability/);
});

test('wait-for-body waits until the body is complete, at-least bytes, or the buffer limit', () => {
  const r = rule('request', 'wait-for-body time 2s at-least 100');
  const post = 'POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n';
  const v = r.exec(ruleCtx({ reqRaw: post, reqComplete: false, reqBodyBytes: 10 })) as WaitForBodyVerdict;
  assert.deepEqual([v.kind, v.time, v.atLeast], [VerdictKind.WaitForBody, 2000, 100]);
  assert.equal(r.exec(ruleCtx({ reqRaw: post, reqComplete: false, reqBodyBytes: 100 })), CONTINUE);
  assert.equal(r.exec(ruleCtx({ reqRaw: post, reqComplete: true, reqBodyBytes: 10 })), CONTINUE);
  assert.equal(r.exec(ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\n\r\n', reqComplete: false })), CONTINUE);
  const all = rule('request', 'wait-for-body time 1s');
  assert.equal(all.exec(ruleCtx({ reqRaw: post, reqComplete: false, reqBodyBytes: 900, bodyLimit: 15360 })).kind, VerdictKind.WaitForBody);
  assert.equal(all.exec(ruleCtx({ reqRaw: post, reqComplete: false, reqBodyBytes: 900, bodyLimit: 512 })), CONTINUE);
  const res = ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\n\r\n', resComplete: false, resBodyBytes: 5 });
  res.res!.bodyKind = BodyKind.Chunked;
  assert.equal(rule('response', 'wait-for-body time 1s').exec(res).kind, VerdictKind.WaitForBody);
});

test('runHttpRules stops at the first verdict and tells its index, to resume after waiting', () => {
  const rules = [
    rule('request', 'set-header X-1 a'),
    rule('request', 'wait-for-body time 1s'),
    rule('request', 'return status 204 if { req.hdr(x-go) -m found }'),
    rule('request', 'set-header X-2 b'),
  ];
  const ctx = ruleCtx({ reqRaw: 'POST / HTTP/1.1\r\nContent-Length: 3\r\nX-Go: 1\r\n\r\n', reqComplete: false });
  assert.equal(runHttpRules(rules, ctx).kind, VerdictKind.WaitForBody);
  assert.equal(lastRuleIndex, 1);
  ctx.reqComplete = true;
  ctx.reqBodyBytes = 3;
  assert.equal(runHttpRules(rules, ctx, lastRuleIndex).kind, VerdictKind.Answer);
  assert.equal(lastRuleIndex, 2);
  assert.deepEqual(ctx.req!.headers, ['Content-Length', '3', 'X-Go', '1', 'X-1', 'a']);
  const other = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\n\r\n' });
  assert.equal(runHttpRules(rules, other), CONTINUE);
  assert.deepEqual(other.req!.headers, ['X-1', 'a', 'X-2', 'b']);
  assert.equal(lastRuleIndex, 4);
});

test('final rules', () => {
  for (const [line, final] of [
    ['allow', true],
    ['deny', true],
    ['tarpit', true],
    ['auth', true],
    ['return', true],
    ['redirect location /', true],
    ['set-header a b', false],
    ['wait-for-body time 1s', false],
  ] as const) {
    assert.equal(rule('request', line).final, final, line);
  }
});
