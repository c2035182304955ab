// Hash key extraction for `balance uri`, `url_param` and `hdr`, following HAProxy's rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hdrHashKey,
  lbHashKey,
  uriHashKey,
  uriPath,
  urlParamBodyValue,
  urlParamValue,
} from '../../../src/lb/index.js';

const U = { len: 0, depth: 0, whole: false, pathOnly: false };

test('uri: stops at the query unless whole', () => {
  assert.equal(uriHashKey('/a/b/c?x=1', U), '/a/b/c');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, whole: true }), '/a/b/c?x=1');
  assert.equal(uriHashKey('/a/b/c', U), '/a/b/c');
  assert.equal(uriHashKey('?x', U), '');
  assert.equal(uriHashKey('', U), '');
});

test('uri: depth counts directory levels, the closing slash excluded', () => {
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, depth: 1 }), '/a');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, depth: 2 }), '/a/b');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, depth: 3 }), '/a/b/c');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, depth: 9 }), '/a/b/c');
  // Without path-only, the slashes of an absolute URI count too (as in HAProxy).
  assert.equal(uriHashKey('http://h/a', { ...U, depth: 1 }), 'http:/');
});

test('uri: len caps the characters considered, with depth whichever comes first', () => {
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, len: 4 }), '/a/b');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, len: 3 }), '/a/');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, len: 3, depth: 1 }), '/a');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, len: 3, depth: 2 }), '/a/');
  assert.equal(uriHashKey('/a/b/c?x=1', { ...U, len: 100, whole: true }), '/a/b/c?x=1');
  assert.equal(uriHashKey('/abcdef?x=1', { ...U, len: 9, whole: true }), '/abcdef?x');
});

test('uri: path-only drops scheme and authority of absolute URIs', () => {
  const P = { ...U, pathOnly: true };
  assert.equal(uriHashKey('http://example.com/a/b?q=1', P), '/a/b');
  assert.equal(uriHashKey('https://user@example.com:8443/a', P), '/a');
  assert.equal(uriHashKey('/a/b?q=1', P), '/a/b');
  assert.equal(uriHashKey('http://example.com', P), '');
  assert.equal(uriHashKey('http://example.com?x=1', { ...P, whole: true }), '?x=1');
  assert.equal(uriPath('*'), '');
  assert.equal(uriPath('example.com:443'), '');
  assert.equal(uriPath('http://h/x#f'), '/x#f');
  assert.equal(uriPath('1ttp://h/x'), '');
  // The same path in HTTP/1 origin-form and absolute-form hashes the same.
  assert.equal(uriHashKey('http://h/p?a', P), uriHashKey('/p?a', P));
});

test('url_param: value of the first exact parameter in the query', () => {
  assert.equal(urlParamValue('/p?a=1&id=42&b=2', 'id'), '42');
  assert.equal(urlParamValue('/p?id=42', 'id'), '42');
  assert.equal(urlParamValue('/p?id=&x=1', 'id'), '');
  assert.equal(urlParamValue('/p?xid=5&id=7', 'id'), '7');
  assert.equal(urlParamValue('/p?id=1&id=2', 'id'), '1');
  assert.equal(urlParamValue('/p?id=1#frag', 'id'), '1#frag');
  assert.equal(urlParamValue('/p?id', 'id'), undefined);
  assert.equal(urlParamValue('/p', 'id'), undefined);
  assert.equal(urlParamValue('/p?a=1', 'id'), undefined);
  assert.equal(urlParamValue('/p?ID=1', 'id'), undefined);
  assert.equal(urlParamValue('/p?a=x?id=3', 'id'), undefined);
});

test('url_param check_post: urlencoded bodies only', () => {
  assert.equal(urlParamBodyValue('a=1&id=42&b=2', 'id'), '42');
  assert.equal(urlParamBodyValue('id=%41b', 'id'), '%41b');
  assert.equal(urlParamBodyValue('id=42 rest', 'id'), '42');
  assert.equal(urlParamBodyValue('id=42\r\n', 'id'), '42');
  assert.equal(urlParamBodyValue('id=4=2', 'id'), undefined);
  assert.equal(urlParamBodyValue('id={"json"}', 'id'), undefined);
  assert.equal(urlParamBodyValue('x', 'id'), undefined);
  assert.equal(urlParamBodyValue('', 'id'), undefined);
});

test('hdr: first comma-separated element, trimmed; absent or empty gives no key', () => {
  assert.equal(hdrHashKey(undefined, false), undefined);
  assert.equal(hdrHashKey('', false), undefined);
  assert.equal(hdrHashKey('  \t ', false), undefined);
  assert.equal(hdrHashKey('Mozilla/5.0', false), 'Mozilla/5.0');
  assert.equal(hdrHashKey('  value  ', false), 'value');
  assert.equal(hdrHashKey('a, b', false), 'a');
  assert.equal(hdrHashKey('"x,y", z', false), '"x,y"');
  assert.equal(hdrHashKey('"x\\",y", z', false), '"x\\",y"');
  assert.equal(hdrHashKey(', b', false), undefined);
});

test('hdr use_domain_only: the main domain label', () => {
  assert.equal(hdrHashKey('haproxy.1wt.eu', true), '1wt');
  assert.equal(hdrHashKey('www.example.com', true), 'example');
  assert.equal(hdrHashKey('example.com', true), 'example');
  assert.equal(hdrHashKey('www.example.com:8080', true), 'example');
  assert.equal(hdrHashKey('a.b.c.d', true), 'c');
  assert.equal(hdrHashKey('localhost', true), 'localhost');
  assert.equal(hdrHashKey(' Www.Example.com ', true), 'Example');
  // HAProxy's quirks: the first character is never taken as the ending dot, and the scan for the
  // starting dot looks one character back.
  assert.equal(hdrHashKey('.com', true), '.com');
  assert.equal(hdrHashKey('a..b', true), 'a.');
});

test('lbHashKey picks the right request part for each algorithm', () => {
  const parts = {
    src: '192.0.2.7',
    uri: '/cart/item?id=9&u=alice',
    method: 'POST',
    hdr: 'shop.example.org',
    body: 'u=bob',
  };
  assert.equal(lbHashKey({ algo: 'source' }, parts), '192.0.2.7');
  assert.equal(lbHashKey({ algo: 'uri', ...U, depth: 1 }, parts), '/cart');
  assert.equal(lbHashKey({ algo: 'url_param', param: 'u', checkPost: false }, parts), 'alice');
  assert.equal(lbHashKey({ algo: 'url_param', param: 'x', checkPost: false }, parts), undefined);
  assert.equal(lbHashKey({ algo: 'url_param', param: 'u', checkPost: true }, { ...parts, uri: '/' }), 'bob');
  assert.equal(
    lbHashKey({ algo: 'url_param', param: 'u', checkPost: true }, { ...parts, uri: '/', method: 'GET' }),
    undefined,
  );
  assert.equal(lbHashKey({ algo: 'hdr', header: 'host', useDomainOnly: true }, parts), 'example');
  assert.equal(lbHashKey({ algo: 'hdr', header: 'host', useDomainOnly: false }, {}), undefined);
  assert.equal(lbHashKey({ algo: 'roundrobin' }, parts), undefined);
  assert.equal(lbHashKey({ algo: 'uri', ...U }, {}), undefined);
});
