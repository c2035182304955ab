// The static server map (static-rr, map-based hashing) and `balance static-rr`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLbAlgorithm } from '../../../src/lb/index.js';
import { buildMapTable } from '../../../src/lb/map.js';
import { addAll, countPicks, makeServers, pickNames } from './fake.js';

const HT = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;

/** The slot rule spelled out directly: every server earns its weight per slot, best pays total. */
function naiveMap(weights: number[]): number[] {
  const tot = weights.reduce((a, b) => a + b, 0);
  const score = weights.map(() => 0);
  const out: number[] = [];
  for (let o = 0; o < tot; o++) {
    let best = -1;
    let max = 0;
    for (let i = 0; i < weights.length; i++) {
      if (tot === 1) {
        best = i;
        break;
      }
      score[i]! += weights[i]!;
      const v = Math.trunc((score[i]! + tot) / tot);
      if (best < 0 || v > max) {
        max = v;
        best = i;
      }
    }
    out.push(best);
    score[best]! -= tot;
  }
  return out;
}

// Seeded generator so that failures are reproducible.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test('map table matches HAProxy for known weights', () => {
  // Printed by HAProxy's map construction for these weights.
  const known: [number[], number[]][] = [
    [[5, 1, 1], [0, 0, 0, 1, 0, 0, 2]],
    [[3, 2], [0, 0, 1, 0, 1]],
    [[1, 2, 3, 4], [0, 1, 3, 2, 3, 1, 2, 3, 2, 3]],
    [[2, 2], [0, 1, 0, 1]],
    [[3, 2, 1], [0, 0, 1, 0, 1, 2]],
    [[1], [0]],
  ];
  for (const [w, table] of known) assert.deepEqual([...buildMapTable(w)], table, String(w));
});

test('map table equals the direct rule for random weights', () => {
  const rnd = lcg(7);
  for (let round = 0; round < 300; round++) {
    const n = 1 + Math.floor(rnd() * 12);
    const w = Array.from({ length: n }, () => 1 + Math.floor(rnd() * (rnd() < 0.3 ? 256 : 9)));
    const table = [...buildMapTable(w)];
    assert.deepEqual(table, naiveMap(w), String(w));
    // Each server holds exactly its weight in slots.
    const counts = w.map(() => 0);
    for (const i of table) counts[i]!++;
    assert.deepEqual(counts, w);
  }
});

test('scaling all weights repeats the same table, so hash % total is unchanged', () => {
  const rnd = lcg(11);
  for (let round = 0; round < 100; round++) {
    const n = 1 + Math.floor(rnd() * 6);
    const w = Array.from({ length: n }, () => 1 + Math.floor(rnd() * 10));
    const k = 2 + Math.floor(rnd() * 4);
    const base = [...buildMapTable(w)];
    const scaled = naiveMap(w.map((x) => x * k));
    for (let o = 0; o < scaled.length; o++) assert.equal(scaled[o], base[o % base.length], `${w} x${k}`);
  }
});

test('static-rr follows the map over each cycle', () => {
  const lb = createLbAlgorithm({ algo: 'static-rr' }, HT);
  addAll(lb, makeServers([5, 1, 1]));
  assert.equal(lb.size, 3);
  const seq = pickNames(lb, 14);
  assert.deepEqual(seq.slice(0, 7), ['s1', 's1', 's1', 's2', 's1', 's1', 's3']);
  assert.deepEqual(seq.slice(7), seq.slice(0, 7));
  // Common divisors do not change the order.
  const lb2 = createLbAlgorithm({ algo: 'static-rr' }, HT);
  addAll(lb2, makeServers([10, 2, 2]));
  assert.deepEqual(pickNames(lb2, 14), seq);
});

test('static-rr distributes exactly by weight over many cycles', () => {
  const lb = createLbAlgorithm({ algo: 'static-rr' }, HT);
  addAll(lb, makeServers([3, 7, 1, 9]));
  const counts = countPicks(lb, 20 * 100);
  assert.deepEqual(
    [...counts.entries()].sort(),
    [['s1', 300], ['s2', 700], ['s3', 100], ['s4', 900]],
  );
});

test('static-rr skips full servers and avoids the previous one', () => {
  const lb = createLbAlgorithm({ algo: 'static-rr' }, HT);
  const [a, b, c] = makeServers([1, 1, 1]);
  addAll(lb, [a!, b!, c!]);
  b!.maxconn = 1;
  b!.conns = 1;
  assert.deepEqual(pickNames(lb, 4), ['s1', 's3', 's1', 's3']);
  assert.equal(lb.pick(undefined, a!), c);
  assert.equal(lb.pick(undefined, c!), a);
  a!.maxconn = c!.maxconn = 1;
  a!.conns = c!.conns = 1;
  assert.equal(lb.pick(undefined, null), null);
  c!.conns = 0;
  // The avoided server is still returned when it is the only one with room.
  assert.equal(lb.pick(undefined, c!), c);
});

test('static-rr: weight changes are ignored except draining to 0 and restoring', () => {
  const lb = createLbAlgorithm({ algo: 'static-rr' }, HT);
  const srvs = makeServers([1, 1]);
  addAll(lb, srvs);
  srvs[0]!.eweight = 5;
  lb.weightChanged(srvs[0]!);
  assert.deepEqual(pickNames(lb, 4).sort(), ['s1', 's1', 's2', 's2']);
  srvs[1]!.eweight = 0;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 1);
  assert.deepEqual(pickNames(lb, 3), ['s1', 's1', 's1']);
  srvs[1]!.eweight = 1;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 2);
  assert.deepEqual(pickNames(lb, 6).sort(), ['s1', 's1', 's1', 's2', 's2', 's2']);
});

test('static-rr: servers come and go; the map keeps declaration (id) order', () => {
  const lb = createLbAlgorithm({ algo: 'static-rr' }, HT);
  const [a, b, c] = makeServers([2, 1, 1]);
  lb.add(c!);
  lb.add(a!);
  assert.deepEqual(pickNames(lb, 3), ['s1', 's1', 's3']);
  lb.add(b!);
  lb.remove(a!);
  assert.equal(lb.size, 2);
  const seq = pickNames(lb, 4);
  assert.deepEqual(seq.sort(), ['s2', 's2', 's3', 's3']);
  lb.remove(b!);
  lb.remove(c!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});
