// Hashing algorithms (source, uri, url_param, hdr) with map-based and consistent hash-types.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HashTypeConfig } from '../../../src/config/model.js';
import { ChashRing } from '../../../src/lb/chash.js';
import { HashLb } from '../../../src/lb/hashing.js';
import { createLbAlgorithm, fullHash, hashSdbm, uriHashKey } from '../../../src/lb/index.js';
import type { LbAlgorithm, LbServer } from '../../../src/lb/types.js';
import { addAll, FakeServer, makeServers, pickNames } from './fake.js';

const MAP: HashTypeConfig = { method: 'map-based', fn: 'sdbm', avalanche: false };
const CONS: HashTypeConfig = { method: 'consistent', fn: 'sdbm', avalanche: true };
const URI = { algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false } as const;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `/static/img${i}.png`);
}

function mapping(lb: LbAlgorithm, ks: string[]): (LbServer | null)[] {
  return ks.map((k) => lb.pick(k, null));
}

test('map-based: hash % total weight over HAProxy\'s slot table', () => {
  const lb = createLbAlgorithm(URI, MAP);
  const srvs = makeServers([1, 2, 3, 4]);
  addAll(lb, srvs);
  // HAProxy's table for weights 1,2,3,4 (servers 0..3).
  const table = [0, 1, 3, 2, 3, 1, 2, 3, 2, 3];
  // By hand: sdbm("/index.html") = 858007926; 858007926 % 10 = 6; slot 6 holds server 2 (s3).
  assert.equal(lb.pick('/index.html', null), srvs[2]);
  for (const k of keys(200)) assert.equal(lb.pick(k, null), srvs[table[hashSdbm(k) % 10]!], k);
});

test('source: the address hash, function of hash-type ignored', () => {
  const srvs = makeServers([1, 1, 1]);
  for (const fn of ['sdbm', 'djb2', 'crc32'] as const) {
    const lb = createLbAlgorithm({ algo: 'source' }, { ...MAP, fn });
    addAll(lb, srvs);
    // 192.168.1.1 = 3232235777, and 3232235777 % 3 = 2.
    assert.equal(lb.pick('192.168.1.1', null), srvs[2]);
    // 10.0.0.1 = 167772161, % 3 = 2; 10.0.0.2 -> 0; 10.0.0.3 -> 1.
    assert.deepEqual(pickNames(lb, 1, '10.0.0.2'), ['s1']);
    assert.deepEqual(pickNames(lb, 1, '10.0.0.3'), ['s2']);
  }
  // Not an address: round robin.
  const lb = createLbAlgorithm({ algo: 'source' }, MAP);
  addAll(lb, srvs);
  assert.deepEqual(pickNames(lb, 3, 'unix@/tmp/sock').sort(), ['s1', 's2', 's3']);
});

test('same key, same server; keys spread in proportion to weights', () => {
  for (const ht of [MAP, CONS]) {
    const lb = createLbAlgorithm({ algo: 'hdr', header: 'x-user', useDomainOnly: false }, ht);
    const srvs = makeServers([1, 3]);
    addAll(lb, srvs);
    const ks = Array.from({ length: 20000 }, (_, i) => `user-${i}`);
    const first = mapping(lb, ks);
    assert.deepEqual(mapping(lb, ks), first);
    const onS2 = first.filter((s) => s === srvs[1]).length / ks.length;
    assert.ok(Math.abs(onS2 - 0.75) < 0.06, `${ht.method}: ${onS2}`);
  }
});

test('no key: round robin over the same servers', () => {
  const lbMap = createLbAlgorithm({ algo: 'url_param', param: 'id', checkPost: false }, MAP);
  addAll(lbMap, makeServers([2, 1]));
  assert.deepEqual(pickNames(lbMap, 6), ['s1', 's1', 's2', 's1', 's1', 's2']);
  const lbCons = createLbAlgorithm({ algo: 'url_param', param: 'id', checkPost: false }, CONS);
  addAll(lbCons, makeServers([2, 1]));
  const seq = pickNames(lbCons, 48 * 10);
  const s1 = seq.filter((n) => n === 's1').length;
  // The ring walk visits every point once per lap: exactly 2:1 over full laps.
  assert.equal(s1, 320);
});

test('map-based: a server going down remaps most keys; weights are static', () => {
  const lb = createLbAlgorithm(URI, MAP);
  const srvs = makeServers([1, 1, 1, 1, 1]);
  addAll(lb, srvs);
  const ks = keys(2000);
  const before = mapping(lb, ks);
  srvs[0]!.eweight = 3;
  lb.weightChanged(srvs[0]!);
  assert.deepEqual(mapping(lb, ks), before);
  lb.remove(srvs[4]!);
  const after = mapping(lb, ks);
  const moved = ks.filter((_, i) => after[i] !== before[i]).length / ks.length;
  assert.ok(moved > 0.5, String(moved));
  lb.add(srvs[4]!);
  assert.deepEqual(mapping(lb, ks), before);
});

test('consistent: removing a server moves only its keys (about 1/N)', () => {
  const lb = createLbAlgorithm(URI, CONS);
  const srvs = makeServers([1, 1, 1, 1, 1]);
  addAll(lb, srvs);
  const ks = keys(5000);
  const before = mapping(lb, ks);
  lb.remove(srvs[2]!);
  const after = mapping(lb, ks);
  let moved = 0;
  ks.forEach((_, i) => {
    if (before[i] === srvs[2]) assert.notEqual(after[i], srvs[2]);
    else assert.equal(after[i], before[i]);
    if (after[i] !== before[i]) moved++;
  });
  assert.ok(Math.abs(moved / ks.length - 0.2) < 0.08, String(moved / ks.length));
  lb.add(srvs[2]!);
  assert.deepEqual(mapping(lb, ks), before);
});

test('consistent: weight changes move keys only to or from that server', () => {
  const lb = createLbAlgorithm(URI, CONS);
  const srvs = makeServers([2, 2, 2]);
  addAll(lb, srvs);
  const ks = keys(5000);
  const before = mapping(lb, ks);
  srvs[0]!.eweight = 4;
  lb.weightChanged(srvs[0]!);
  const up = mapping(lb, ks);
  ks.forEach((_, i) => {
    if (up[i] !== before[i]) assert.equal(up[i], srvs[0]);
  });
  assert.ok(up.filter((s) => s === srvs[0]).length > before.filter((s) => s === srvs[0]).length);
  srvs[0]!.eweight = 2;
  lb.weightChanged(srvs[0]!);
  assert.deepEqual(mapping(lb, ks), before);
  srvs[0]!.eweight = 0;
  lb.weightChanged(srvs[0]!);
  assert.equal(lb.size, 2);
  assert.ok(!mapping(lb, ks).includes(srvs[0]!));
});

test('consistent ring: HAProxy point placement and nearest-point lookup', () => {
  const ring = new ChashRing();
  const srvs = makeServers([1, 2, 1]);
  srvs[2] = new FakeServer(9, 's3', 1); // ids need not be contiguous
  for (const s of srvs) ring.add(s, s.eweight * 16);
  assert.equal(ring.pointCount, 64);
  // Brute force: every point of every server, nearest on either side, the previous one on ties.
  const points: { key: number; srv: LbServer }[] = [];
  for (const s of srvs) {
    for (let j = 0; j < s.eweight * 16; j++) points.push({ key: fullHash((s.id * 4096 + j) >>> 0), srv: s });
  }
  points.sort((a, b) => a.key - b.key);
  const rnd = lcg(42);
  const probes = [0, 0xffffffff, ...points.slice(0, 5).map((p) => p.key), ...points.map((p) => (p.key + 1) >>> 0)];
  for (let i = 0; i < 3000; i++) probes.push(Math.floor(rnd() * 4294967296));
  for (const h of probes) {
    let next = points.findIndex((p) => p.key >= h);
    if (next < 0) next = 0;
    const prev = next === 0 ? points.length - 1 : next - 1;
    const dp = (h - points[prev]!.key) >>> 0;
    const dn = (points[next]!.key - h) >>> 0;
    const want = dp <= dn ? points[prev]!.srv : points[next]!.srv;
    assert.equal(ring.lookup(h, null), want, String(h));
  }
});

test('full servers and avoid: the key goes to the next suitable server', () => {
  for (const ht of [MAP, CONS]) {
    const lb = new HashLb('text', ht);
    const srvs = makeServers([1, 1, 1]);
    addAll(lb, srvs);
    const k = '/some/object';
    const home = lb.pick(k, null) as FakeServer;
    const alt = lb.pick(k, home);
    assert.ok(alt !== null && alt !== home);
    home.maxconn = 1;
    home.conns = 1;
    assert.equal(lb.pick(k, null), alt);
    for (const s of srvs) {
      s.maxconn = 1;
      s.conns = 1;
    }
    assert.equal(lb.pick(k, null), null);
    assert.equal(lb.pick(undefined, null), null);
    home.conns = 0;
    assert.equal(lb.pick(k, home), home);
    assert.equal(lb.pick(undefined, home), home);
  }
});

test('one server: no hashing needed; none: nothing to pick', () => {
  for (const ht of [MAP, CONS]) {
    const lb = createLbAlgorithm(URI, ht);
    assert.equal(lb.pick('/x', null), null);
    assert.equal(lb.pick(undefined, null), null);
    const [s] = makeServers([3]);
    lb.add(s!);
    assert.equal(lb.size, 1);
    assert.equal(lb.pick('/x', null), s);
    assert.equal(lb.pick(uriHashKey('/y?z', URI), null), s);
    lb.remove(s!);
    assert.equal(lb.size, 0);
    assert.equal(lb.pick('/x', null), null);
  }
});

test('home(): the server a key maps to, even when it is full (hash affinity)', () => {
  for (const ht of [MAP, CONS]) {
    const lb = new HashLb('text', ht);
    const srvs = makeServers([1, 1, 1]);
    addAll(lb, srvs);
    const k = '/some/object';
    const home = lb.pick(k, null) as FakeServer;
    assert.equal(lb.home(k), home);
    home.maxconn = 1;
    home.conns = 1;
    assert.equal(lb.home(k), home, 'still its home when full');
    assert.notEqual(lb.pick(k, null), home, 'pick() moves on');
    for (const s of srvs) lb.remove(s);
    assert.equal(lb.home(k), null);
  }
});
