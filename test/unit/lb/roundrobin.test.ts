// `balance roundrobin`: smooth, exact per cycle, dynamic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLbAlgorithm } from '../../../src/lb/index.js';
import { RoundRobin } from '../../../src/lb/roundrobin.js';
import type { LbServer } from '../../../src/lb/types.js';
import { addAll, countPicks, makeServers, pickNames, type FakeServer } from './fake.js';

const HT = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;

function rr(srvs: FakeServer[]): RoundRobin {
  const lb = new RoundRobin();
  addAll(lb, srvs);
  return lb;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('interleaves servers in proportion to their weights, without bursts', () => {
  assert.deepEqual(pickNames(rr(makeServers([1, 1, 1])), 6), ['s1', 's2', 's3', 's1', 's2', 's3']);
  assert.deepEqual(pickNames(rr(makeServers([5, 1, 1])), 7), ['s1', 's2', 's1', 's1', 's3', 's1', 's1']);
  assert.deepEqual(pickNames(rr(makeServers([2, 1])), 6), ['s1', 's2', 's1', 's1', 's2', 's1']);
  // A heavy server next to light ones: the light ones are spread over the cycle.
  assert.deepEqual(
    pickNames(rr(makeServers([10, 1, 1, 1])), 13).join(' '),
    's1 s2 s1 s1 s1 s3 s1 s1 s1 s4 s1 s1 s1',
  );
  assert.equal(createLbAlgorithm({ algo: 'roundrobin' }, HT) instanceof RoundRobin, true);
});

test('exact distribution over every full cycle, bounded gaps', () => {
  const rnd = lcg(3);
  for (let round = 0; round < 200; round++) {
    const n = 1 + Math.floor(rnd() * 8);
    const w = Array.from({ length: n }, () => 1 + Math.floor(rnd() * (rnd() < 0.3 ? 256 : 6)));
    const T = w.reduce((a, b) => a + b, 0);
    const srvs = makeServers(w);
    const lb = rr(srvs);
    const seq: LbServer[] = [];
    for (let i = 0; i < 4 * T; i++) seq.push(lb.pick(undefined, null)!);
    for (let c = 0; c < 4; c++) {
      const counts = new Map<LbServer, number>();
      for (let i = c * T; i < (c + 1) * T; i++) counts.set(seq[i]!, (counts.get(seq[i]!) ?? 0) + 1);
      for (const s of srvs) assert.equal(counts.get(s), s.eweight, `weights ${w} cycle ${c} ${s.name}`);
    }
    // No server waits much more than two of its periods between two picks.
    const last = new Map<LbServer, number>();
    seq.forEach((s, i) => {
      const prev = last.get(s);
      if (prev !== undefined) assert.ok(i - prev <= 2 * Math.ceil(T / s.eweight), `gap for ${s.name} in ${w}`);
      last.set(s, i);
    });
  }
});

test('a server added mid-way gets its share at once, others keep theirs', () => {
  const srvs = makeServers([1, 1, 2]);
  const lb = rr([srvs[0]!, srvs[1]!]);
  pickNames(lb, 5);
  lb.add(srvs[2]!);
  assert.equal(lb.size, 3);
  // It is used right away, not after the others finish some cycle.
  assert.ok(pickNames(lb, 3).includes('s3'));
  const counts = countPicks(lb, 4000);
  assert.ok(Math.abs(counts.get('s1')! - 1000) <= 2);
  assert.ok(Math.abs(counts.get('s2')! - 1000) <= 2);
  assert.ok(Math.abs(counts.get('s3')! - 2000) <= 2);
});

test('a removed server is never picked again; re-adding it restores it', () => {
  const srvs = makeServers([3, 1, 1]);
  const lb = rr(srvs);
  pickNames(lb, 4);
  lb.remove(srvs[0]!);
  assert.equal(lb.size, 2);
  const seq = pickNames(lb, 10);
  assert.ok(!seq.includes('s1'));
  assert.deepEqual([...new Set(seq)].sort(), ['s2', 's3']);
  lb.add(srvs[0]!);
  const counts = countPicks(lb, 5000);
  assert.ok(Math.abs(counts.get('s1')! - 3000) <= 2);
  lb.remove(srvs[1]!);
  lb.remove(srvs[2]!);
  lb.remove(srvs[0]!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});

test('weight changes take effect at once, including drain to 0 and slow start ramps', () => {
  const srvs = makeServers([1, 1]);
  const lb = rr(srvs);
  pickNames(lb, 3);
  srvs[0]!.eweight = 3;
  lb.weightChanged(srvs[0]!);
  let counts = countPicks(lb, 4000);
  assert.ok(Math.abs(counts.get('s1')! - 3000) <= 2, String(counts.get('s1')));
  srvs[0]!.eweight = 0;
  lb.weightChanged(srvs[0]!);
  assert.equal(lb.size, 1);
  assert.deepEqual(pickNames(lb, 5), ['s2', 's2', 's2', 's2', 's2']);
  // Slow start: fractional weights ramping up.
  for (const w of [0.1, 0.25, 0.5, 0.75, 1]) {
    srvs[0]!.eweight = w;
    lb.weightChanged(srvs[0]!);
    counts = countPicks(lb, 2000);
    const share = (counts.get('s1') ?? 0) / 2000;
    // Weights move in steps of 1/16 (BE_WEIGHT_SCALE), as in HAProxy.
    const sw = Math.round(w * 16);
    assert.ok(Math.abs(share - sw / (sw + 16)) < 0.005, `weight ${w}: share ${share}`);
  }
});

test('a drained server added with weight 0 is never picked and not counted', () => {
  const srvs = makeServers([0, 2]);
  const lb = rr(srvs);
  assert.equal(lb.size, 1);
  assert.deepEqual(pickNames(lb, 3), ['s2', 's2', 's2']);
  srvs[1]!.eweight = 0;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});

test('full servers are skipped and rejoin promptly when they have room again', () => {
  const srvs = makeServers([1, 1, 1]);
  const lb = rr(srvs);
  srvs[0]!.maxconn = 1;
  srvs[0]!.conns = 1;
  const seq = pickNames(lb, 1000);
  assert.ok(!seq.includes('s1'));
  srvs[0]!.conns = 0;
  // No starvation: it is used within its next period and gets its share from then on.
  assert.ok(pickNames(lb, 3).includes('s1'));
  const counts = countPicks(lb, 3000);
  assert.ok(Math.abs(counts.get('s1')! - 1000) <= 3);
  for (const s of srvs) {
    s.maxconn = 1;
    s.conns = 1;
  }
  assert.equal(lb.pick(undefined, null), null);
  assert.equal(lb.pick(undefined, srvs[1]!), null);
});

test('avoid skips the previous server unless it is the only one possible', () => {
  const srvs = makeServers([1, 1]);
  const lb = rr(srvs);
  for (let i = 0; i < 10; i++) assert.equal(lb.pick(undefined, srvs[0]!), srvs[1]);
  srvs[1]!.maxconn = 1;
  srvs[1]!.conns = 1;
  assert.equal(lb.pick(undefined, srvs[0]!), srvs[0]);
  const solo = rr(makeServers([4]));
  const only = solo.pick(undefined, null)!;
  assert.equal(solo.pick(undefined, only), only);
});

test('virtual time is rebased without disturbing the schedule', () => {
  const srvs = makeServers([1, 2, 1]);
  const lb = new RoundRobin(3); // rebase after 3 virtual cycles
  addAll(lb, srvs);
  const first = pickNames(lb, 4);
  for (let c = 0; c < 50; c++) assert.deepEqual(pickNames(lb, 4), first, `cycle ${c}`);
  // Still exact after a weight change made positions non-integral.
  srvs[0]!.eweight = 3;
  lb.weightChanged(srvs[0]!);
  const counts = countPicks(lb, 6 * 200);
  assert.ok(Math.abs(counts.get('s1')! - 600) <= 2);
  assert.ok(Math.abs(counts.get('s2')! - 400) <= 2);
});
