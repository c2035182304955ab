import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serializeRequestHead, serializeResponseHead, lastChunk } from '../../../src/proto/h1/index.js';
import { BodyKind, type HtxRequest, type HtxResponse } from '../../../src/htx/index.js';

function req(headers: string[], bodyKind = BodyKind.None, contentLength = -1): HtxRequest {
  return { method: 'GET', uri: '/x', version: 11, headers, bodyKind, contentLength, wantClose: false, expectContinue: false, upgrade: '' };
}

test('request head keeps header case and order', () => {
  const s = serializeRequestHead(req(['Host', 'h', 'X-Mixed-Case', 'v', 'accept', '*/*']), { close: false, keepAlive: false, framing: BodyKind.None, contentLength: -1 });
  assert.equal(s, 'GET /x HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: v\r\naccept: */*\r\n\r\n');
});

test('Connection close/keep-alive tokens are regenerated per hop; other tokens kept', () => {
  const h = ['Host', 'h', 'Connection', 'keep-alive, Upgrade', 'Keep-Alive', 'timeout=5', 'Proxy-Connection', 'x'];
  const s = serializeRequestHead(req(h), { close: true, keepAlive: false, framing: BodyKind.None, contentLength: -1 });
  assert.equal(s, 'GET /x HTTP/1.1\r\nHost: h\r\nconnection: Upgrade, close\r\n\r\n');
});

test('framing headers follow the hop framing', () => {
  const h = ['Host', 'h', 'Transfer-Encoding', 'chunked'];
  const asLength = serializeRequestHead(req(h, BodyKind.Chunked), { close: false, keepAlive: false, framing: BodyKind.Length, contentLength: 5 });
  assert.equal(asLength, 'GET /x HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\n\r\n');
  const chunked = serializeRequestHead(req(['Host', 'h']), { close: false, keepAlive: false, framing: BodyKind.Chunked, contentLength: -1 });
  assert.equal(chunked, 'GET /x HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked\r\n\r\n');
});

test('response head for an HTTP/1.0 keep-alive client: an HTTP/1.1 status line, as HAProxy', () => {
  const res: HtxResponse = { status: 200, reason: 'OK', version: 11, headers: ['Content-Length', '2'], bodyKind: BodyKind.Length, contentLength: 2, wantClose: false };
  const s = serializeResponseHead(res, { close: false, keepAlive: true, framing: BodyKind.Length, contentLength: 2 });
  assert.equal(s, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: keep-alive\r\n\r\n');
});

test('Content-Length is rewritten with the parsed value, and kept on bodyless answers', () => {
  const res: HtxResponse = { status: 200, reason: 'OK', version: 11, headers: ['Content-Length', '3, 3'], bodyKind: BodyKind.Length, contentLength: 3, wantClose: false };
  assert.equal(serializeResponseHead(res, { close: false, keepAlive: false, framing: BodyKind.Length, contentLength: 3 }), 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n');
  const head: HtxResponse = { ...res, headers: ['Content-Length', '50'], bodyKind: BodyKind.None };
  assert.equal(serializeResponseHead(head, { close: false, keepAlive: false, framing: BodyKind.None, contentLength: -1 }), 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n');
});

test('an HTTP/1.0 request keeps its version towards the server', () => {
  const r = { ...req(['Host', 'h']), version: 10 };
  assert.equal(serializeRequestHead(r, { close: false, keepAlive: true, framing: BodyKind.None, contentLength: -1 }), 'GET /x HTTP/1.0\r\nHost: h\r\nconnection: keep-alive\r\n\r\n');
});

test('last chunk with trailers', () => {
  assert.equal(lastChunk().toString(), '0\r\n\r\n');
  assert.equal(lastChunk(['X-T', '1']).toString(), '0\r\nX-T: 1\r\n\r\n');
});
