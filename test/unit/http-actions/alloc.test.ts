// Rules are built once: executing them returns shared verdict objects, and constant values are
// rendered at compile time, not per request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINUE, VerdictKind, runHttpRules } from '../../../src/http/actions/index.js';
import { rule, ruleCtx } from './ctx.js';

test('a static set-header returns the same verdict object 1000 times', () => {
  const r = rule('request', 'set-header X-Static "static  value"');
  const ctx = ruleCtx();
  const first = r.exec(ctx);
  assert.equal(first, CONTINUE);
  for (let i = 0; i < 1000; i++) {
    ctx.req!.headers.length = 0;
    assert.equal(r.exec(ctx), first);
  }
  assert.deepEqual(ctx.req!.headers, ['X-Static', 'static  value']);
});

test('a constant answer and a rule list return shared verdicts', () => {
  const rules = [rule('request', 'del-header x-a'), rule('request', 'set-header X-B b'), rule('request', 'deny if { path /d }'), rule('request', 'return status 204')];
  const ctx = ruleCtx();
  const v = runHttpRules(rules, ctx);
  for (let i = 0; i < 1000; i++) assert.equal(runHttpRules(rules, ctx), v);
  const d = ruleCtx({ reqRaw: 'GET /d HTTP/1.1\r\n\r\n' });
  const denied = runHttpRules(rules, d);
  for (let i = 0; i < 1000; i++) assert.equal(runHttpRules(rules, d), denied);
  assert.notEqual(denied, v);
});

test('the wire bytes of a constant reply are built once', () => {
  const r = rule('request', 'return status 200 content-type text/plain string hello');
  const v = r.exec(ruleCtx());
  assert.ok(v.kind === VerdictKind.Answer);
  const b = v.reply.bytes(false, false);
  for (let i = 0; i < 100; i++) assert.equal(v.reply.bytes(false, false), b);
});

test('the record behind % aliases is refilled for each rendering', () => {
  const r = rule('request', 'set-header X "%ci %b %s"');
  const a = ruleCtx({ srcAddr: '192.0.2.1', beName: 'be1' });
  a.fillLogRecord = (rec) => {
    rec.serverName = 'srv1';
    rec.capturedReqHeaders = ['h'];
  };
  r.exec(a);
  const b = ruleCtx({ srcAddr: '192.0.2.2', beName: '' });
  r.exec(b);
  assert.equal(a.req!.headers.at(-1), '192.0.2.1 be1 srv1');
  assert.equal(b.req!.headers.at(-1), '192.0.2.2 fe <NOSRV>');
});
