// The harness's own HTTP/1 reader: every split point, every framing, truncation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { H1ParseError, H1Reader, buildRequest, hasCompleteResponses, parseResponses, type H1Message } from '../../harness/index.js';

const STREAM = Buffer.from(
  'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' +
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x=y\r\nd\r\n0\r\nT: 1\r\n\r\n' +
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n' + // answer to HEAD: no body
    'HTTP/1.0 200 OK\r\n\r\nuntil close',
  'latin1',
);
const METHODS = ['POST', 'GET', 'GET', 'HEAD', 'GET'];

function readAll(parts: Buffer[]): H1Message[] {
  const out: H1Message[] = [];
  const r = new H1Reader('response', { onMessage: (m) => out.push(m) });
  for (const m of METHODS) r.expect(m);
  for (const p of parts) r.push(p);
  r.end();
  return out;
}

function check(ms: H1Message[]): void {
  assert.deepEqual(ms.map((m) => m.status), [100, 200, 200, 304, 200, 200]);
  assert.deepEqual(ms.map((m) => m.framing), ['none', 'length', 'chunked', 'none', 'none', 'close']);
  assert.deepEqual(ms.map((m) => m.body.toString()), ['', 'hello', 'abcd', '', '', 'until close']);
  assert.deepEqual(ms[2]!.trailers, [['T', '1']]);
  assert.ok(ms.every((m) => m.complete));
}

describe('H1Reader', () => {
  test('whole stream', () => check(readAll([STREAM])));

  test('split at every byte position', () => {
    for (let i = 1; i < STREAM.length; i++) check(readAll([STREAM.subarray(0, i), STREAM.subarray(i)]));
  });

  test('one byte at a time', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) parts.push(STREAM.subarray(i, i + 1));
    check(readAll(parts));
  });

  test('truncated body is reported incomplete', () => {
    const ms = parseResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    assert.equal(ms.length, 1);
    assert.equal(ms[0]!.complete, false);
    assert.equal(ms[0]!.body.toString(), 'abc');
  });

  test('requests: content-length, chunked, bad framing', () => {
    const got: H1Message[] = [];
    const r = new H1Reader('request', { onMessage: (m) => got.push(m) });
    r.push(buildRequest(80, { method: 'POST', path: '/a', body: 'xyz', headers: [['X-A', 'b']] }));
    r.push(buildRequest(80, { method: 'PUT', body: 'hello world', chunked: 4 }));
    r.push(Buffer.from('\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'));
    assert.deepEqual(got.map((m) => [m.method, m.framing, m.body.toString()]), [
      ['POST', 'length', 'xyz'],
      ['PUT', 'chunked', 'hello world'],
      ['GET', 'none', ''],
    ]);
    assert.deepEqual(got[0]!.headers, [['Host', '127.0.0.1:80'], ['X-A', 'b'], ['Content-Length', '3']]);
    const bad = new H1Reader('request', { onMessage: () => {} });
    assert.throws(() => bad.push(Buffer.from('GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n')), H1ParseError);
  });

  test('hasCompleteResponses counts final responses only', () => {
    assert.equal(hasCompleteResponses(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n')), false);
    assert.equal(hasCompleteResponses(STREAM, 3, METHODS), true);
    assert.equal(hasCompleteResponses(STREAM, 6, METHODS), false, 'close-delimited needs EOF');
    assert.equal(hasCompleteResponses(Buffer.from('garbage\r\n\r\n')), true, 'malformed stops waiting');
  });
});
