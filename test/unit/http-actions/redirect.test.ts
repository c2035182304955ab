// redirect: the Location and fields HAProxy 2.6.12 sent for the same rules and requests.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINUE, VerdictKind, type AnswerVerdict } from '../../../src/http/actions/index.js';
import { rule, ruleCtx, text } from './ctx.js';

function redirect(line: string, uri: string, extra = '', over: Parameters<typeof ruleCtx>[0] = {}): AnswerVerdict {
  const v = rule('request', line).exec(ruleCtx({ reqRaw: `GET ${uri} HTTP/1.1\r\nHost: Ex.com\r\n${extra}\r\n`, ...over }));
  assert.equal(v.kind, VerdictKind.Answer);
  return v as AnswerVerdict;
}

function wire(v: AnswerVerdict): string {
  return text(v.reply.bytes(v.close, false));
}

test('location with code 301: no cache-control', () => {
  assert.equal(wire(redirect('redirect location /new code 301', '/r1')), 'HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n');
});

test('prefix keeps the path and query; 302 by default with cache-control', () => {
  assert.equal(
    wire(redirect('redirect prefix /pfx', '/r2/a?q=1')),
    'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /pfx/r2/a?q=1\r\ncache-control: no-cache\r\n\r\n',
  );
});

test('prefix with drop-query and append-slash', () => {
  assert.equal(redirect('redirect prefix /pfx drop-query append-slash', '/r3/a?q=1').reply.headers[3], '/pfx/r3/a/');
});

test('scheme https code 308 uses the first Host value and the path', () => {
  assert.equal(
    wire(redirect('redirect scheme https code 308', '/r4/x?y')),
    'HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: https://Ex.com/r4/x?y\r\n\r\n',
  );
});

test('set-cookie and clear-cookie, code 303', () => {
  assert.equal(
    wire(redirect('redirect location /c set-cookie SEEN=1', '/r5')),
    'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /c\r\ncache-control: no-cache\r\nset-cookie: SEEN=1; path=/;\r\n\r\n',
  );
  assert.equal(
    wire(redirect('redirect location /c clear-cookie SEEN= code 303', '/r6')),
    'HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /c\r\ncache-control: no-cache\r\nset-cookie: SEEN=; path=/; Max-Age=0;\r\n\r\n',
  );
});

test('prefix / redirects to the same path', () => {
  assert.equal(redirect('redirect prefix /', '/r7/keep?q').reply.headers[3], '/r7/keep?q');
});

test('every code: 301 302 303 307 308 and their reasons', () => {
  const want: Array<[number, string, boolean]> = [
    [301, 'Moved Permanently', false],
    [302, 'Found', true],
    [303, 'See Other', true],
    [307, 'Temporary Redirect', true],
    [308, 'Permanent Redirect', false],
  ];
  for (const [code, reason, noCache] of want) {
    const v = redirect(`redirect location /x code ${code}`, '/');
    assert.equal(v.status, code);
    assert.equal(v.reply.reason, reason);
    assert.equal(v.reply.headers.includes('cache-control'), noCache, String(code));
  }
});

test('scheme and prefix are log-format strings', () => {
  assert.equal(redirect('redirect location https://%[req.hdr(host),lower]%[url]', '/a?b').reply.headers[3], 'https://ex.com/a?b');
  assert.equal(redirect('redirect scheme %[req.hdr(x-proto)] drop-query', '/a?b', 'X-Proto: wss\r\n').reply.headers[3], 'wss://Ex.com/a');
});

test('a request whose body is still coming gets connection: close (haproxy, POST with a body)', () => {
  const v = rule('request', 'redirect location /x').exec(
    ruleCtx({ reqRaw: 'POST /post HTTP/1.1\r\nHost: Ex.com\r\nContent-Length: 10\r\n\r\n', reqComplete: false }),
  ) as AnswerVerdict;
  assert.equal(v.close, true);
  assert.equal(wire(v), 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /x\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n');
});

test('ignore-empty: an empty location lets the request go on, and the rule is not final', () => {
  const r = rule('request', 'redirect location %[req.hdr(x-to)] ignore-empty');
  assert.equal(r.final, false);
  assert.equal(r.exec(ruleCtx()), CONTINUE);
  assert.equal(rule('request', 'redirect location /x').final, true);
});

test('the redirect condition is its own: if/unless end its arguments', () => {
  const r = rule('request', 'redirect location /x code 301 if { path /a }');
  assert.equal(r.exec(ruleCtx({ reqRaw: 'GET /b HTTP/1.1\r\n\r\n' })), CONTINUE);
  assert.equal(r.exec(ruleCtx({ reqRaw: 'GET /a HTTP/1.1\r\n\r\n' })).kind, VerdictKind.Answer);
});

test('http-response redirect location', () => {
  const v = rule('response', 'redirect location /x').exec(ruleCtx({ resRaw: 'HTTP/1.1 200 OK\r\n\r\n' })) as AnswerVerdict;
  assert.equal(wire(v), 'HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /x\r\ncache-control: no-cache\r\n\r\n');
});
