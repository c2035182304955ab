// Hash functions of `hash-type`: values checked by hand from the definitions (first lines of each
// test) and against HAProxy's own functions compiled from its source (the other vectors).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fullHash,
  genHash,
  hashCrc32,
  hashDjb2,
  hashNone,
  hashSdbm,
  hashWt6,
  sourceHash,
} from '../../../src/lb/index.js';

// [key, sdbm, djb2, wt6, crc32, fullHash(sdbm)] as printed by HAProxy's hash.c.
const VECTORS: [string, number, number, number, number, number][] = [
  ['', 0, 5381, 4187620192, 0, 2874071335],
  ['a', 97, 177670, 1900802597, 3904355907, 1830748055],
  ['ab', 6363201, 5863208, 314091001, 2659403885, 3352188731],
  ['abc', 807794786, 193485963, 2483038440, 891568578, 659243622],
  ['123456789', 1755344949, 902675330, 2225171485, 3421780262, 3400502718],
  ['/index.html', 858007926, 3776231887, 822151038, 3928116034, 4217574924],
  ['hello world', 430867652, 894552257, 1866899626, 222957957, 261123301],
  ['192.168.1.1', 2744588789, 3398482796, 2881734074, 2286285663, 4183571711],
  ['\\xff', 4092617372, 2089913957, 3619386277, 1829461666, 2722345029],
  ['\xff', 255, 177828, 1932728997, 4278190080, 1649002269],
  // UTF-8 bytes of "café" as a latin1 string.
  ['caf\xc3\xa9', 410727374, 255161979, 4032769363, 2561491637, 893138644],
  ['\xe9t\xe9', 1932540382, 193634795, 1313011287, 3422016531, 2159704399],
  ['user=42', 2048319344, 1170332263, 2842037690, 1629494019, 3281989612],
  ['0123456789abcdefXYZ', 3302638417, 426527570, 4160680453, 3551609944, 2095367486],
  [
    'The quick brown fox jumps over the lazy dog',
    2359783795, 885799134, 3840389189, 1095738169, 4144961173,
  ],
];

test('sdbm by hand and against HAProxy', () => {
  assert.equal(hashSdbm(''), 0);
  assert.equal(hashSdbm('a'), 97);
  // 'b' + 97 << 6 + 97 << 16 - 97
  assert.equal(hashSdbm('ab'), 98 + 97 * 64 + 97 * 65536 - 97);
  for (const [k, sdbm] of VECTORS) assert.equal(hashSdbm(k), sdbm, JSON.stringify(k));
});

test('djb2 by hand and against HAProxy', () => {
  assert.equal(hashDjb2(''), 5381);
  assert.equal(hashDjb2('a'), 5381 * 33 + 97);
  assert.equal(hashDjb2('ab'), (5381 * 33 + 97) * 33 + 98);
  for (const [k, , djb2] of VECTORS) assert.equal(hashDjb2(k), djb2, JSON.stringify(k));
});

test('wt6 by hand and against HAProxy', () => {
  // No input: the two initial lanes XORed.
  assert.equal(hashWt6(''), (0xa53c965a ^ 0x5ca6953a) >>> 0);
  assert.equal(hashWt6(''), 0xf99a0360);
  for (const [k, , , wt6] of VECTORS) assert.equal(hashWt6(k), wt6, JSON.stringify(k));
});

test('crc32 standard check values and HAProxy', () => {
  assert.equal(hashCrc32('123456789'), 0xcbf43926);
  assert.equal(hashCrc32('The quick brown fox jumps over the lazy dog'), 0x414fa339);
  assert.equal(hashCrc32(''), 0);
  for (const [k, , , , crc] of VECTORS) assert.equal(hashCrc32(k), crc, JSON.stringify(k));
});

test('avalanche (full_hash) against HAProxy', () => {
  const known: [number, number][] = [
    [0, 2874071335],
    [1, 881230262],
    [2, 3798448204],
    [4096, 1237450891],
    [8192, 1079705203],
    [0xffffffff, 2120532354],
    [123456789, 2578161185],
  ];
  for (const [a, h] of known) assert.equal(fullHash(a), h, String(a));
  for (const [k, sdbm, , , , fh] of VECTORS) assert.equal(fullHash(sdbm), fh, JSON.stringify(k));
});

test('none: the key read as a saturating signed 64-bit integer, low 32 bits', () => {
  assert.equal(hashNone('42'), 42);
  assert.equal(hashNone('+7'), 7);
  assert.equal(hashNone('12abc'), 12);
  assert.equal(hashNone('abc'), 0);
  assert.equal(hashNone(''), 0);
  assert.equal(hashNone('-1'), 0xffffffff);
  assert.equal(hashNone('4294967296'), 0);
  assert.equal(hashNone('4294967297'), 1);
  assert.equal(hashNone('0000000000000000000000042'), 42);
  assert.equal(hashNone('9223372036854775806'), 0xfffffffe);
  assert.equal(hashNone('9223372036854775807'), 0xffffffff);
  assert.equal(hashNone('9223372036854775808'), 0xffffffff); // saturates at 2^63-1
  assert.equal(hashNone('99999999999999999999999'), 0xffffffff);
  assert.equal(hashNone('-9223372036854775807'), 1);
  assert.equal(hashNone('-9223372036854775808'), 0);
  assert.equal(hashNone('-99999999999999999999999'), 0);
});

test('genHash applies the function then the modifier', () => {
  const ht = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;
  assert.equal(genHash('abc', ht), 807794786);
  assert.equal(genHash('abc', { ...ht, avalanche: true }), 659243622);
  assert.equal(genHash('abc', { ...ht, fn: 'djb2' }), 193485963);
  assert.equal(genHash('abc', { ...ht, fn: 'wt6' }), 2483038440);
  assert.equal(genHash('abc', { ...ht, fn: 'crc32' }), 891568578);
  assert.equal(genHash('123', { ...ht, fn: 'none' }), 123);
  assert.equal(genHash('1', { ...ht, fn: 'none', avalanche: true }), 881230262);
});

test('source hash: address words XORed, as HAProxy computes it', () => {
  // IPv4: the address itself, big-endian.
  assert.equal(sourceHash('192.168.1.1', false), (192 << 24 >>> 0) + (168 << 16) + (1 << 8) + 1);
  const known: [string, number, number][] = [
    ['192.168.1.1', 3232235777, 1777276424],
    ['10.0.0.1', 167772161, 715288146],
    ['127.0.0.1', 2130706433, 2317047883],
    ['2001:db8::1', 536939961, 1651290792],
    ['::1', 1, 881230262],
    ['::ffff:192.168.1.1', 3232300798, 2984984815],
    ['fe80::1:2:3:4', 4269932550, 1476585397],
    ['2001:db8:85a3::8a2e:370:7334', 2798843042, 1896051620],
  ];
  for (const [addr, raw, aval] of known) {
    assert.equal(sourceHash(addr, false), raw, addr);
    assert.equal(sourceHash(addr, true), aval, addr);
  }
  // By hand: 0x20010db8 ^ 0 ^ 0 ^ 1.
  assert.equal(sourceHash('2001:db8::1', false), (0x20010db8 ^ 1) >>> 0);
  assert.equal(sourceHash('fe80::1%eth0', false), (0xfe800000 ^ 1) >>> 0);
  assert.equal(sourceHash('2001:0db8:0000:0000:0000:0000:0000:0001', false), 536939961);
  assert.equal(sourceHash('::', false), 0);
  assert.equal(sourceHash('1::', false), 0x00010000);
});

test('source hash rejects what is not an address', () => {
  for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4x', ':::', '1:2', '1::2::3', '::g', '1:2:3:4:5:6:7:8:9', '/tmp/sock']) {
    assert.equal(sourceHash(bad, false), -1, bad);
  }
});
