// `balance roundrobin`: HAProxy's fwrr sequence, smooth, dynamic. The sequences asserted here were
// checked against haproxy 2.6 (roundrobin-haproxy.test.ts compares many more with the real one).

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

const seq = (lb: RoundRobin, n: number): string => pickNames(lb, n).join(' ');

test("the sequences haproxy 2.6 gives: heaviest first, light servers fill the holes", () => {
  assert.equal(seq(rr(makeServers([1, 1, 1])), 6), 's1 s2 s3 s1 s2 s3');
  assert.equal(seq(rr(makeServers([3, 2, 1])), 12), 's1 s2 s1 s3 s1 s2 s1 s2 s1 s3 s1 s2');
  assert.equal(seq(rr(makeServers([5, 1, 1])), 14), 's1 s1 s1 s2 s1 s1 s3 s1 s1 s1 s2 s1 s1 s3');
  assert.equal(seq(rr(makeServers([10, 1, 1, 1])), 13), 's1 s1 s1 s1 s2 s1 s1 s1 s3 s1 s1 s1 s4');
  // The heaviest server starts even when declared last.
  assert.equal(seq(rr(makeServers([2, 3, 5, 7])), 12), 's4 s3 s4 s2 s3 s4 s1 s4 s3 s2 s4 s3');
  assert.equal(createLbAlgorithm({ algo: 'roundrobin' }, HT) instanceof RoundRobin, true);
});

test('every server gets its share at every point, without long gaps', () => {
  const rnd = lcg(3);
  for (let round = 0; round < 150; round++) {
    const n = 1 + Math.floor(rnd() * 8);
    const w = Array.from({ length: n }, () => 1 + Math.floor(rnd() * (rnd() < 0.3 ? 256 : 6)));
    const T = w.reduce((a, b) => a + b, 0);
    const srvs = makeServers(w);
    const lb = rr(srvs);
    const count = new Map<LbServer, number>(srvs.map((s) => [s, 0]));
    const last = new Map<LbServer, number>();
    // Four full ranges of HAProxy's fwrr (16 picks per unit of weight).
    for (let i = 1; i <= 64 * T; i++) {
      const s = lb.pick(undefined, null)!;
      count.set(s, count.get(s)! + 1);
      const prev = last.get(s);
      if (prev !== undefined) assert.ok(i - prev <= 3 * Math.ceil(T / s.eweight), `gap for ${s.name} in ${w}`);
      last.set(s, i);
      if (i % 7 === 0 || i % (16 * T) === 0) {
        for (const x of srvs) {
          const ideal = (i * x.eweight) / T;
          assert.ok(Math.abs(count.get(x)! - ideal) <= 5, `weights ${w}: ${x.name} has ${count.get(x)} after ${i}`);
        }
      }
    }
  }
});

test('a server coming up mid-way is placed about one step ahead and gets its share', () => {
  const srvs = makeServers([1, 1, 2]);
  const lb = rr([srvs[0]!, srvs[1]!]);
  assert.equal(seq(lb, 5), 's1 s2 s1 s2 s1');
  lb.add(srvs[2]!);
  assert.equal(lb.size, 3);
  assert.ok(pickNames(lb, 3).includes('s3'));
  const counts = countPicks(lb, 4000);
  assert.ok(Math.abs(counts.get('s1')! - 1000) <= 8);
  assert.ok(Math.abs(counts.get('s2')! - 1000) <= 8);
  assert.ok(Math.abs(counts.get('s3')! - 2000) <= 8);
});

test('servers added before the first pick form the initial farm; later ones come up', () => {
  // Explicitly ended initial phase: the same as a server coming up after traffic started.
  const srvs = makeServers([1, 1, 4]);
  const a = new RoundRobin();
  a.add(srvs[0]!);
  a.add(srvs[1]!);
  a.initDone();
  a.add(srvs[2]!);
  const b = rr(makeServers([1, 1, 4]));
  // As haproxy 2.6 does: in the initial farm the heaviest starts; coming up (enabled after the
  // start), it is placed one of its steps ahead.
  assert.equal(seq(b, 6), 's3 s3 s1 s3 s3 s2');
  assert.equal(seq(a, 6), 's1 s3 s3 s2 s3 s3');
});

test('a removed server is never picked again; re-adding it restores its share', () => {
  const srvs = makeServers([3, 1, 1]);
  const lb = rr(srvs);
  pickNames(lb, 4);
  lb.remove(srvs[0]!);
  lb.remove(srvs[0]!); // twice is harmless
  assert.equal(lb.size, 2);
  const s = pickNames(lb, 10);
  assert.ok(!s.includes('s1'));
  assert.deepEqual([...new Set(s)].sort(), ['s2', 's3']);
  lb.add(srvs[0]!);
  lb.add(srvs[0]!);
  assert.equal(lb.size, 3);
  const counts = countPicks(lb, 5000);
  assert.ok(Math.abs(counts.get('s1')! - 3000) <= 8);
  lb.remove(srvs[1]!);
  lb.remove(srvs[2]!);
  lb.remove(srvs[0]!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
  // Back from nothing: the farm works again.
  lb.add(srvs[1]!);
  lb.add(srvs[2]!);
  assert.deepEqual([...new Set(pickNames(lb, 10))].sort(), ['s2', 's3']);
});

test('weight changes take effect at once, including drain to 0 and slow start ramps', () => {
  const srvs = makeServers([1, 1]);
  const lb = rr(srvs);
  pickNames(lb, 3);
  srvs[0]!.eweight = 3;
  lb.weightChanged(srvs[0]!);
  let counts = countPicks(lb, 4000);
  assert.ok(Math.abs(counts.get('s1')! - 3000) <= 8, String(counts.get('s1')));
  srvs[0]!.eweight = 0;
  lb.weightChanged(srvs[0]!);
  assert.equal(lb.size, 1);
  assert.equal(seq(lb, 5), 's2 s2 s2 s2 s2');
  // Slow start: fractional weights ramping up, in steps of 1/16 as in HAProxy.
  for (const w of [0.1, 0.25, 0.5, 0.75, 1]) {
    srvs[0]!.eweight = w;
    lb.weightChanged(srvs[0]!);
    counts = countPicks(lb, 2000);
    const share = (counts.get('s1') ?? 0) / 2000;
    const sw = Math.round(w * 16);
    assert.ok(Math.abs(share - sw / (sw + 16)) < 0.01, `weight ${w}: share ${share}`);
  }
  // A server not added is ignored.
  const stranger = makeServers([5])[0]!;
  lb.weightChanged(stranger);
  assert.equal(lb.size, 2);
});

test('a weight change before the first pick only reorders the initial farm', () => {
  const srvs = makeServers([1, 1, 1]);
  const lb = rr(srvs);
  srvs[2]!.eweight = 2;
  lb.weightChanged(srvs[2]!);
  // As haproxy 2.6 does: s3 is drawn first by its new weight, and steps use the new total.
  assert.equal(seq(lb, 8), 's3 s1 s3 s2 s3 s1 s3 s2');
});

test('a drained server added with weight 0 is never picked and not counted', () => {
  const srvs = makeServers([0, 2]);
  const lb = rr(srvs);
  assert.equal(lb.size, 1);
  assert.equal(seq(lb, 3), 's2 s2 s2');
  srvs[0]!.eweight = 1;
  lb.weightChanged(srvs[0]!);
  assert.equal(lb.size, 2);
  assert.ok(pickNames(lb, 3).includes('s1'));
  srvs[1]!.eweight = 0;
  lb.weightChanged(srvs[1]!);
  srvs[0]!.eweight = 0;
  lb.weightChanged(srvs[0]!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});

test('full servers lose their turn and rejoin at their place when they have room again', () => {
  const srvs = makeServers([2, 1, 1]);
  const lb = rr(srvs);
  for (const s of srvs) s.maxconn = 1;
  // As haproxy 2.6 does with s1 holding one request (maxconn 1) during five quick ones.
  const held = lb.pick(undefined, null) as FakeServer;
  assert.equal(held.name, 's1');
  held.conns = 1;
  assert.equal(seq(lb, 5), 's2 s3 s2 s3 s2');
  held.conns = 0;
  assert.equal(seq(lb, 3), 's1 s3 s1');

  srvs[0]!.conns = 1;
  const s = pickNames(lb, 1000);
  assert.ok(!s.includes('s1'));
  srvs[0]!.conns = 0;
  assert.ok(pickNames(lb, 3).includes('s1'));
  const counts = countPicks(lb, 4000);
  assert.ok(Math.abs(counts.get('s1')! - 2000) <= 8);
  for (const x of srvs) x.conns = 1;
  assert.equal(lb.pick(undefined, null), null);
  assert.equal(lb.pick(undefined, srvs[1]!), null);
  // Everybody full across a range switch, then free again: the farm resumes.
  for (let i = 0; i < 100; i++) assert.equal(lb.pick(undefined, null), null);
  for (const x of srvs) x.conns = 0;
  const after = countPicks(lb, 400);
  assert.ok(Math.abs(after.get('s1')! - 200) <= 8);
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
  // As haproxy 2.6 does when s1 (weight 4) is dead and each failure is redispatched.
  const w = makeServers([4, 2, 1]);
  const r = rr(w);
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    let s = r.pick(undefined, null)!;
    if (s === w[0]) s = r.pick(undefined, s)!;
    out.push(s.name);
  }
  assert.equal(out.join(' '), 's2 s3 s2 s2 s3 s2 s2 s3');
});

test('positions stay bounded over a long run', () => {
  const srvs = makeServers([256, 255, 1, 7]);
  const lb = rr(srvs);
  const T = 256 + 255 + 1 + 7;
  const first = pickNames(lb, 16 * T);
  for (let c = 0; c < 20; c++) assert.deepEqual(pickNames(lb, 16 * T), first, `range ${c}`);
});
