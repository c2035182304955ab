// `balance first`: lowest id with room first, weights ignored.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLbAlgorithm } from '../../../src/lb/index.js';
import { FakeServer } from './fake.js';

const HT = { method: 'map-based', fn: 'sdbm', avalanche: false } as const;

test('fills servers in id order, whatever the order they came up in', () => {
  const lb = createLbAlgorithm({ algo: 'first' }, HT);
  const s3 = new FakeServer(3, 'c', 10);
  const s1 = new FakeServer(1, 'a', 1);
  const s2 = new FakeServer(7, 'b', 1);
  for (const s of [s3, s2, s1]) {
    s.maxconn = 2;
    lb.add(s);
  }
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    const s = lb.pick(undefined, null) as FakeServer;
    s.conns++;
    lb.taken(s);
    order.push(s.name);
  }
  assert.deepEqual(order, ['a', 'a', 'c', 'c', 'b', 'b']);
  assert.equal(lb.pick(undefined, null), null);
  s3.conns--;
  lb.released(s3);
  assert.equal(lb.pick(undefined, null), s3);
  s1.conns = 0;
  assert.equal(lb.pick(undefined, null), s1);
});

test('without maxconn everything goes to the first server', () => {
  const lb = createLbAlgorithm({ algo: 'first' }, HT);
  const srvs = [new FakeServer(1, 'a', 1), new FakeServer(2, 'b', 100)];
  for (const s of srvs) lb.add(s);
  for (let i = 0; i < 5; i++) assert.equal(lb.pick(undefined, null), srvs[0]);
});

test('avoid, drain, removal', () => {
  const lb = createLbAlgorithm({ algo: 'first' }, HT);
  const a = new FakeServer(1, 'a', 1);
  const b = new FakeServer(2, 'b', 1);
  lb.add(a);
  lb.add(b);
  assert.equal(lb.size, 2);
  assert.equal(lb.pick(undefined, a), b);
  b.maxconn = 1;
  b.conns = 1;
  assert.equal(lb.pick(undefined, a), a);
  b.conns = 0;
  a.eweight = 0;
  lb.weightChanged(a);
  assert.equal(lb.size, 1);
  assert.equal(lb.pick(undefined, null), b);
  a.eweight = 1;
  lb.weightChanged(a);
  assert.equal(lb.pick(undefined, null), a);
  lb.remove(a);
  assert.equal(lb.pick(undefined, null), b);
  lb.remove(b);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
  const z = new FakeServer(5, 'z', 0);
  lb.add(z);
  assert.equal(lb.size, 0);
  assert.equal(lb.pick(undefined, null), null);
});
