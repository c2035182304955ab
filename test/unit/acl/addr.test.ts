// Address parsing and formatting: inet_pton/inet_ntop results (expected values from the C
// library through Python's socket module), HAProxy's short IPv4 forms and masks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, parseIpv4Short, parseIpv4Strict, parseIpv6, parseMask4, parseNet4, bitsFromMask } from '../../../src/acl/addr.js';

test('IPv6 text round-trips like inet_pton/inet_ntop', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8::', '2001:db8::'],
    ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:0:1', '::ffff:0.0.0.1'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['::0.0.0.1', '::1'],
    ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ];
  const b = new Uint8Array(16);
  for (const [text, out] of cases) {
    assert.ok(parseIpv6(text, b), text);
    assert.equal(formatIpv6(b), out, text);
  }
  for (const bad of ['1:2:3:4:5:6:7:8:9', ':1', '1:', '1::2::3', '12345::', '::1.2.3', '1.2.3.4', '::ffff:1.2.3.04', 'g::', '1:2:3:4:5:6::1.2.3.4', '']) {
    assert.equal(parseIpv6(bad, b), false, bad);
  }
});

test('IPv4: exact patterns, sample prefixes, short forms, masks', () => {
  assert.equal(parseIpv4Strict('1.2.3.4', false), 0x01020304);
  assert.equal(parseIpv4Strict('01.2.3.4', false), -1);
  assert.equal(parseIpv4Strict('1.2.3', false), -1);
  assert.equal(parseIpv4Strict('256.1.1.1', false), -1);
  // Samples (buf2ip): leading zeros are fine and what follows a complete address is ignored.
  assert.equal(parseIpv4Strict('01.2.3.4', true), 0x01020304);
  assert.equal(parseIpv4Strict('1.2.3.4:80', true), 0x01020304);
  assert.equal(parseIpv4Strict('1.2.3.4.5', true), -1);
  assert.equal(parseIpv4Short('127.1'), 0x7f000001);
  assert.equal(parseIpv4Short('10.12'), 0x0a00000c);
  assert.equal(parseIpv4Short('192.168.1'), 0xc0a80001);
  assert.equal(parseIpv4Short('10.256'), 0x0a000100);
  assert.equal(parseIpv4Short('host.example'), -1);
  assert.deepEqual(parseNet4('192.168.1/22', false), { addr: 0xc0a80001, mask: 0xfffffc00 });
  assert.equal(parseNet4('192.168.1/22', true), null);
  assert.deepEqual(parseNet4('10.0.0.0/255.0.0.0', false), { addr: 0x0a000000, mask: 0xff000000 });
  assert.equal(parseMask4('33'), -1);
  assert.equal(parseMask4('0'), 0);
  assert.equal(bitsFromMask(0xffffff00), 24);
  assert.equal(bitsFromMask(0xffffffff), 32);
  assert.equal(bitsFromMask(0), 0);
  assert.equal(bitsFromMask(0xff00ff00), -1);
});
