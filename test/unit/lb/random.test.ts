// `balance random(<draws>)`: weighted draws, least loaded of N.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLbAlgorithm } from '../../../src/lb/index.js';
import { RandomLb } from '../../../src/lb/random.js';
import type { LbAlgorithm } from '../../../src/lb/types.js';
import { addAll, countPicks, makeServers } from './fake.js';

const HT = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function share(counts: Map<string, number>, name: string, n: number): number {
  return (counts.get(name) ?? 0) / n;
}

test('one draw: servers chosen in proportion to their weights', () => {
  const lb = new RandomLb(1, lcg(1));
  addAll(lb, makeServers([1, 2, 3, 0]));
  assert.equal(lb.size, 3);
  const n = 60000;
  const counts = countPicks(lb, n);
  assert.ok(Math.abs(share(counts, 's1', n) - 1 / 6) < 0.01);
  assert.ok(Math.abs(share(counts, 's2', n) - 2 / 6) < 0.01);
  assert.ok(Math.abs(share(counts, 's3', n) - 3 / 6) < 0.01);
  assert.equal(counts.get('s4'), undefined);
});

test('draws exactly by weight: a scripted random source maps onto weight ranges', () => {
  // Internal weights 16, 32, 48 (x16): [0,16) s1, [16,48) s2, [48,96) s3.
  const values = [0, 15 / 96, 16 / 96, 47 / 96, 48 / 96, 95 / 96];
  let i = 0;
  const lb = new RandomLb(1, () => values[i++ % values.length]!);
  addAll(lb, makeServers([1, 2, 3]));
  const names = values.map(() => lb.pick(undefined, null)!.name);
  assert.deepEqual(names, ['s1', 's1', 's2', 's2', 's3', 's3']);
});

test('more draws steer away from loaded servers (power of N choices)', () => {
  const n = 30000;
  const loadedShare = (draws: number): number => {
    const srvs = makeServers([1, 1, 1]);
    srvs[0]!.conns = 50;
    const lb = new RandomLb(draws, lcg(draws));
    addAll(lb, srvs);
    return share(countPicks(lb, n), 's1', n);
  };
  // The loaded server wins only when every draw lands on it: (1/3)^draws.
  assert.ok(Math.abs(loadedShare(1) - 1 / 3) < 0.015);
  assert.ok(Math.abs(loadedShare(2) - 1 / 9) < 0.01);
  assert.ok(Math.abs(loadedShare(3) - 1 / 27) < 0.007);
});

test('load is compared relative to weight', () => {
  const srvs = makeServers([4, 1]);
  srvs[0]!.conns = 6; // 6/4 < 2/1
  srvs[1]!.conns = 2;
  const lb = new RandomLb(2, lcg(5));
  addAll(lb, srvs);
  let both = 0;
  let s1 = 0;
  for (let i = 0; i < 5000; i++) if (lb.pick(undefined, null) === srvs[0]) s1++;
  // s2 wins only when both draws hit it: (1/5)^2 = 4%.
  both = 5000 - s1;
  assert.ok(Math.abs(both / 5000 - 0.04) < 0.015, String(both));
});

test('default of 2 draws from the configuration; full servers, avoid, weights', () => {
  const lb = createLbAlgorithm({ algo: 'random', draws: 2 }, HT);
  const srvs = makeServers([1, 1, 1]);
  addAll(lb, srvs);
  srvs[0]!.maxconn = 1;
  srvs[0]!.conns = 1;
  for (let i = 0; i < 200; i++) {
    const s = lb.pick(undefined, srvs[1]!);
    assert.equal(s, srvs[2]);
  }
  srvs[2]!.maxconn = 1;
  srvs[2]!.conns = 1;
  // Only the avoided server has room: it is returned.
  for (let i = 0; i < 20; i++) assert.equal(lb.pick(undefined, srvs[1]!), srvs[1]);
  srvs[1]!.maxconn = 1;
  srvs[1]!.conns = 1;
  assert.equal(lb.pick(undefined, null), null);
  for (const s of srvs) s.conns = 0;
  srvs[1]!.eweight = 0;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 2);
  const counts = countPicks(lb, 3000);
  assert.equal(counts.get('s2'), undefined);
});

test('servers come and go; slots are reused', () => {
  const lb: LbAlgorithm = new RandomLb(1, lcg(9));
  const srvs = makeServers(Array.from({ length: 20 }, () => 1));
  addAll(lb, srvs);
  for (const s of srvs.slice(0, 15)) lb.remove(s);
  assert.equal(lb.size, 5);
  const counts = countPicks(lb, 5000);
  assert.deepEqual([...counts.keys()].sort(), ['s16', 's17', 's18', 's19', 's20']);
  for (const s of srvs.slice(0, 3)) lb.add(s);
  srvs[0]!.eweight = 5;
  lb.weightChanged(srvs[0]!);
  const n = 24000;
  const c2 = countPicks(lb, n);
  assert.ok(Math.abs(share(c2, 's1', n) - 5 / 12) < 0.015);
  for (const s of srvs) lb.remove(s);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});
