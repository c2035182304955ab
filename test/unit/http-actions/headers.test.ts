// Header actions and the log-format strings of their values. The expected fields were taken
// from HAProxy 2.6.12 forwarding the same requests to an echo server (see the comments).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINUE, REWRITE_ERROR } from '../../../src/http/actions/index.js';
import { headersOf, rule, ruleCtx } from './ctx.js';

const RAW = 'GET /sh?k=v HTTP/1.1\r\nHost: Ex.com\r\nUser-Agent: cu-rl\r\nX-List: abc, aXY,b\r\nX-Delme: 1\r\nx-del: 2\r\nX-Keep: 3\r\n\r\n';

test('set-header replaces every occurrence and appends at the end', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-A: 1\r\nHost: h\r\nx-a: 2\r\n\r\n' });
  assert.equal(rule('request', 'set-header X-A new').exec(ctx), CONTINUE);
  assert.equal(headersOf(ctx.req!.headers), 'Host: h\nX-A: new\n');
});

test('add-header appends even when present, an empty value included', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n' });
  rule('request', 'add-header X-A 2').exec(ctx);
  rule('request', 'add-header X-B "%[req.hdr(nothing)]"').exec(ctx);
  assert.equal(headersOf(ctx.req!.headers), 'X-A: 1\nX-A: 2\nX-B: \n');
});

test('log-format values: spaces kept, %ci:%cp, converters, %%, empty samples print nothing (HAProxy 2.6.12)', () => {
  // haproxy: x-a: a  b 127.0.0.1:56286 ex.com % |vm  (with %H = host name)
  const ctx = ruleCtx({ reqRaw: RAW });
  rule('request', 'set-header X-A "a  b %ci:%cp %[req.hdr(host),lower] %% %[req.hdr(nothing)]|"').exec(ctx);
  assert.equal(ctx.req!.headers.at(-1), 'a  b 127.0.0.1:40000 ex.com % |');
});

test('log-format aliases before a backend is chosen: %b is the frontend, %s <NOSRV>, +Q quotes aliases only', () => {
  // haproxy: x-b: Ex.com "127.0.0.1" fe fe fe <NOSRV> GET /sh?k=v /sh ?k=v HTTP/1.1 GET /sh?k=v HTTP/1.1
  const ctx = ruleCtx({ reqRaw: RAW, beName: '' });
  rule('request', 'add-header X-B "%{+Q}[req.hdr(host)] %{+Q}ci %b %f %ft %s %HM %HU %HP %HQ %HV %r"').exec(ctx);
  assert.equal(ctx.req!.headers.at(-1), 'Ex.com "127.0.0.1" fe fe fe <NOSRV> GET /sh?k=v /sh ?k=v HTTP/1.1 GET /sh?k=v HTTP/1.1');
});

test('aliases the stream knows come from fillLogRecord; %ST is -1 before a response', () => {
  const ctx = ruleCtx({ reqRaw: RAW });
  ctx.fillLogRecord = (r) => {
    r.serverName = 's1';
    r.uniqueId = 'abc';
  };
  rule('request', 'set-header X "%s %ID %ST"').exec(ctx);
  assert.equal(ctx.req!.headers.at(-1), 's1 abc -1');
});

test('sample output is made header-safe: control characters become %XX, the rest is kept', () => {
  // haproxy: x-esc: a"b c\\d%01e\xc3\xa9%
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-In: a"b c\\d\x01e\xc3\xa9%\r\n\r\n' });
  rule('request', 'set-header X-Esc "%[req.hdr(x-in)]"').exec(ctx);
  assert.equal(ctx.req!.headers.at(-1), 'a"b c\\d%01e\xc3\xa9%');
});

test('non-ASCII configuration text is written as UTF-8 bytes', () => {
  const ctx = ruleCtx();
  rule('request', 'set-header X-U "é %[str(é)]"').exec(ctx);
  assert.equal(ctx.req!.headers.at(-1), '\xc3\xa9 \xc3\xa9');
});

test('del-header -m str|beg|end|sub|reg', () => {
  const cases: Array<[string, string]> = [
    ['del-header x-del', 'Host: Ex.com\nUser-Agent: cu-rl\nX-List: abc, aXY,b\nX-Delme: 1\nX-Keep: 3\n'],
    ['del-header X-Del -m beg', 'Host: Ex.com\nUser-Agent: cu-rl\nX-List: abc, aXY,b\nX-Keep: 3\n'],
    ['del-header EP -m end', 'Host: Ex.com\nUser-Agent: cu-rl\nX-List: abc, aXY,b\nX-Delme: 1\nx-del: 2\n'],
    ['del-header -agen -m sub', 'Host: Ex.com\nX-List: abc, aXY,b\nX-Delme: 1\nx-del: 2\nX-Keep: 3\n'],
    // A search, as HAProxy's regex_exec: "x-delme" matches too.
    ['del-header ^x-(del|keep) -m reg', 'Host: Ex.com\nUser-Agent: cu-rl\nX-List: abc, aXY,b\n'],
    ['del-header ^x-del$ -m reg', 'Host: Ex.com\nUser-Agent: cu-rl\nX-List: abc, aXY,b\nX-Delme: 1\nX-Keep: 3\n'],
  ];
  for (const [line, want] of cases) {
    const ctx = ruleCtx({ reqRaw: RAW });
    rule('request', line).exec(ctx);
    assert.equal(headersOf(ctx.req!.headers), want, line);
  }
});

test('replace-header rewrites whole lines; replace-value each comma-delimited value (HAProxy 2.6.12)', () => {
  // haproxy: user-agent: rl+cu / x-list: zbc,zXY,b
  const ctx = ruleCtx({ reqRaw: RAW });
  rule('request', ['replace-header', 'User-Agent', '(.*)-(.*)', '\\2+\\1']).exec(ctx);
  rule('request', ['replace-value', 'X-List', '^a(.*)', 'z\\1']).exec(ctx);
  assert.equal(headersOf(ctx.req!.headers), 'Host: Ex.com\nUser-Agent: rl+cu\nX-List: zbc,zXY,b\nX-Delme: 1\nx-del: 2\nX-Keep: 3\n');
});

test('replace-value on a response in http-after-response; the match replaces the value, not only the matched part', () => {
  // haproxy: x-res: one / x-res: Two,Three (from "two, three")
  const ctx = ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\nX-Res: one\r\nX-Res: two, three\r\n\r\n' });
  rule('after-response', ['replace-value', 'X-Res', '^t(.*)', 'T\\1']).exec(ctx);
  assert.deepEqual(ctx.res!.headers, ['X-Res', 'one', 'X-Res', 'Two,Three']);
  rule('response', 'replace-header X-Res n X').exec(ctx);
  assert.deepEqual(ctx.res!.headers, ['X-Res', 'X', 'X-Res', 'Two,Three']);
});

test('replace-value keeps quoted commas inside one value, and \\xHH escapes', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-Q: "a,b", c\r\n\r\n' });
  rule('request', ['replace-value', 'X-Q', '^"(.*)"$', '\\x41\\1']).exec(ctx);
  assert.equal(ctx.req!.headers[1], 'Aa,b, c');
});

test('a replacement ending with a lone backslash fails the rewrite', () => {
  const ctx = ruleCtx({ reqRaw: 'GET / HTTP/1.1\r\nX-Q: abc\r\n\r\n' });
  assert.equal(rule('request', ['replace-header', 'X-Q', 'b', 'x\\\\']).exec(ctx), CONTINUE);
  assert.equal(ctx.req!.headers[1], 'x\\');
  assert.equal(rule('request', ['replace-header', 'X-Q', 'x', 'y\\']).exec(ctx), REWRITE_ERROR);
});

test('setting Host on an absolute-form request updates the target authority', () => {
  const ctx = ruleCtx({ reqRaw: 'GET http://a.example/p?q HTTP/1.1\r\nHost: a.example\r\n\r\n' });
  rule('request', 'set-header Host b.example:8080').exec(ctx);
  assert.equal(ctx.req!.uri, 'http://b.example:8080/p?q');
  rule('request', ['replace-header', 'Host', 'b(.*)', 'c\\1']).exec(ctx);
  assert.equal(ctx.req!.uri, 'http://c.example:8080/p?q');
});

test('response rules read the response in %[hdr()] and res.hdr (HAProxy 2.6.12: x-resp: three|three|200)', () => {
  const ctx = ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\nX-Res: one\r\nX-Res: two, three\r\n\r\n' });
  rule('response', 'set-header X-Resp "%[res.hdr(x-res)]|%[hdr(x-res)]|%ST"').exec(ctx);
  assert.equal(ctx.res!.headers.at(-1), 'three|three|200');
});

test('conditions gate the action', () => {
  const ctx = ruleCtx({ reqRaw: 'GET /api/x HTTP/1.1\r\n\r\n' });
  rule('request', 'set-header X-Api 1 if { path_beg /api }').exec(ctx);
  rule('request', 'set-header X-Not 1 unless { path_beg /api }').exec(ctx);
  assert.deepEqual(ctx.req!.headers, ['X-Api', '1']);
});
