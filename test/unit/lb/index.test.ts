// The factory and the properties the Backend asks about.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BalanceConfig, HashTypeConfig } from '../../../src/config/model.js';
import { createLbAlgorithm, isDynamicLb, isHashingLb } from '../../../src/lb/index.js';
import { addAll, makeServers } from './fake.js';

const MAP: HashTypeConfig = { method: 'map-based', fn: 'sdbm', avalanche: false };
const CONS: HashTypeConfig = { method: 'consistent', fn: 'sdbm', avalanche: true };

const ALL: BalanceConfig[] = [
  { algo: 'roundrobin' },
  { algo: 'static-rr' },
  { algo: 'leastconn' },
  { algo: 'first' },
  { algo: 'source' },
  { algo: 'uri', len: 0, depth: 0, whole: false, pathOnly: false },
  { algo: 'url_param', param: 'id', checkPost: false },
  { algo: 'hdr', header: 'host', useDomainOnly: false },
  { algo: 'random', draws: 2 },
];

test('every algorithm honours the common contract', () => {
  for (const balance of ALL) {
    for (const ht of [MAP, CONS]) {
      const lb = createLbAlgorithm(balance, ht);
      const what = `${balance.algo}/${ht.method}`;
      assert.equal(lb.size, 0, what);
      assert.equal(lb.pick(undefined, null), null, what);
      const srvs = makeServers([1, 2, 0]);
      addAll(lb, srvs);
      lb.add(srvs[0]!); // adding twice is harmless
      assert.equal(lb.size, 2, what);
      for (let i = 0; i < 50; i++) {
        const s = lb.pick(i % 2 ? `10.0.0.${i}` : undefined, null);
        assert.ok(s === srvs[0] || s === srvs[1], what); // never the drained one
      }
      // avoid: the other one when possible.
      for (let i = 0; i < 20; i++) assert.equal(lb.pick(undefined, srvs[0]!), srvs[1], what);
      // Full servers are never returned.
      srvs[1]!.maxconn = 1;
      srvs[1]!.conns = 1;
      for (let i = 0; i < 20; i++) assert.equal(lb.pick(i % 2 ? '10.1.2.3' : undefined, null), srvs[0], what);
      srvs[0]!.maxconn = 1;
      srvs[0]!.conns = 1;
      assert.equal(lb.pick('10.1.2.3', null), null, what);
      assert.equal(lb.pick(undefined, null), null, what);
      lb.remove(srvs[0]!);
      lb.remove(srvs[0]!); // removing twice is harmless
      lb.remove(srvs[1]!);
      lb.remove(srvs[2]!);
      assert.equal(lb.size, 0, what);
      assert.equal(lb.pick(undefined, null), null, what);
    }
  }
});

test('dynamic and hashing properties', () => {
  const dyn = (b: BalanceConfig, ht: HashTypeConfig): boolean => isDynamicLb(b, ht);
  assert.equal(dyn({ algo: 'roundrobin' }, MAP), true);
  assert.equal(dyn({ algo: 'leastconn' }, MAP), true);
  assert.equal(dyn({ algo: 'first' }, MAP), true);
  assert.equal(dyn({ algo: 'random', draws: 2 }, MAP), true);
  assert.equal(dyn({ algo: 'static-rr' }, CONS), false);
  assert.equal(dyn({ algo: 'source' }, MAP), false);
  assert.equal(dyn({ algo: 'source' }, CONS), true);
  assert.equal(isHashingLb({ algo: 'hdr', header: 'host', useDomainOnly: true }), true);
  assert.equal(isHashingLb({ algo: 'random', draws: 3 }), false);
});
