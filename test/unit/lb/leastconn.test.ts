// `balance leastconn`: fewest connections per weight, round robin among equals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLbAlgorithm } from '../../../src/lb/index.js';
import { lcKey } from '../../../src/lb/leastconn.js';
import type { LbAlgorithm } from '../../../src/lb/types.js';
import { addAll, makeServers, type FakeServer } from './fake.js';

const HT = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;

function lc(srvs: FakeServer[]): LbAlgorithm {
  const lb = createLbAlgorithm({ algo: 'leastconn' }, HT);
  addAll(lb, srvs);
  return lb;
}

/** Picks like the Backend does: the chosen server gets one more connection. */
function take(lb: LbAlgorithm, avoid: FakeServer | null = null): FakeServer | null {
  const s = lb.pick(undefined, avoid) as FakeServer | null;
  if (s) {
    s.conns++;
    lb.taken(s);
  }
  return s;
}

function release(lb: LbAlgorithm, s: FakeServer): void {
  s.conns--;
  lb.released(s);
}

test('sort key as HAProxy: (conns + 1) * 4096 / eweight, 0 when idle', () => {
  assert.equal(lcKey(0, 16), 0);
  assert.equal(lcKey(1, 16), 512);
  assert.equal(lcKey(1, 32), 256);
  assert.equal(lcKey(3, 48), Math.floor((4 * 4096) / 48));
});

test('every idle server is used before any gets a second connection, in turn', () => {
  const srvs = makeServers([1, 1, 1]);
  const lb = lc(srvs);
  assert.deepEqual([take(lb), take(lb), take(lb)].map((s) => s!.name), ['s1', 's2', 's3']);
  assert.deepEqual([take(lb), take(lb), take(lb)].map((s) => s!.name), ['s1', 's2', 's3']);
});

test('follows connection counts as they change', () => {
  const srvs = makeServers([1, 1, 1]);
  const [a, b, c] = srvs;
  const lb = lc(srvs);
  for (let i = 0; i < 6; i++) take(lb);
  release(lb, b!);
  assert.equal(take(lb), b);
  release(lb, c!);
  release(lb, c!);
  assert.equal(take(lb), c);
  assert.equal(take(lb), c);
  // Now all have 2: round robin again, starting with the one that has waited longest.
  release(lb, a!);
  release(lb, b!);
  release(lb, c!);
  assert.deepEqual([take(lb), take(lb), take(lb)].map((s) => s!.name), ['s1', 's2', 's3']);
});

test('weights: connections split in proportion to weight', () => {
  const srvs = makeServers([2, 1, 3]);
  const lb = lc(srvs);
  for (let i = 0; i < 600; i++) take(lb);
  assert.ok(Math.abs(srvs[0]!.conns - 200) <= 2, String(srvs[0]!.conns));
  assert.ok(Math.abs(srvs[1]!.conns - 100) <= 2, String(srvs[1]!.conns));
  assert.ok(Math.abs(srvs[2]!.conns - 300) <= 2, String(srvs[2]!.conns));
});

test('weight changes reorder at once; weight 0 drains', () => {
  const srvs = makeServers([1, 1]);
  const lb = lc(srvs);
  for (let i = 0; i < 4; i++) take(lb);
  srvs[1]!.eweight = 4;
  lb.weightChanged(srvs[1]!);
  assert.equal(take(lb), srvs[1]);
  srvs[1]!.eweight = 0;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 1);
  for (let i = 0; i < 5; i++) assert.equal(take(lb), srvs[0]);
  srvs[1]!.eweight = 1;
  lb.weightChanged(srvs[1]!);
  assert.equal(lb.size, 2);
  assert.equal(take(lb), srvs[1]);
});

test('servers added and removed mid-way', () => {
  const srvs = makeServers([1, 1, 1]);
  const lb = lc([srvs[0]!, srvs[1]!]);
  for (let i = 0; i < 4; i++) take(lb);
  lb.add(srvs[2]!);
  assert.equal(take(lb), srvs[2]);
  assert.equal(take(lb), srvs[2]);
  lb.remove(srvs[0]!);
  for (let i = 0; i < 6; i++) assert.notEqual(take(lb), srvs[0]);
  lb.remove(srvs[1]!);
  lb.remove(srvs[2]!);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});

test('full servers are skipped; avoid is honoured unless it is the only choice', () => {
  const srvs = makeServers([1, 1, 1]);
  const lb = lc(srvs);
  srvs[0]!.maxconn = 1;
  srvs[0]!.conns = 1;
  lb.taken(srvs[0]!);
  srvs[1]!.maxconn = 2;
  assert.equal(take(lb), srvs[1]);
  assert.equal(take(lb), srvs[2]);
  assert.equal(take(lb), srvs[1]); // now full
  for (let i = 0; i < 3; i++) assert.equal(take(lb), srvs[2]);
  assert.equal(lb.pick(undefined, srvs[2]!), srvs[2]);
  srvs[2]!.maxconn = srvs[2]!.conns;
  assert.equal(lb.pick(undefined, null), null);
  release(lb, srvs[0]!);
  assert.equal(lb.pick(undefined, null), srvs[0]);
  release(lb, srvs[1]!);
  assert.equal(lb.pick(undefined, srvs[0]!), srvs[1]);
});

test('conns changed behind its back are noticed at pick time', () => {
  const srvs = makeServers([1, 1]);
  const lb = lc(srvs);
  srvs[0]!.conns = 10; // no taken() call
  assert.equal(lb.pick(undefined, null), srvs[1]);
  assert.equal(lb.pick(undefined, null), srvs[1]);
});
