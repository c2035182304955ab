// The indexed heap under random pushes, pops, removals and key changes, against a sorted list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IndexedHeap } from '../../../src/lb/heap.js';

interface Item {
  id: number;
  key: number;
  hpos: number;
}

test('indexed heap keeps the minimum first through every operation', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return Math.floor((seed / 4294967296) * n);
  };
  const heap = new IndexedHeap<Item>((a, b) => (a.key !== b.key ? a.key < b.key : a.id < b.id));
  const inside = new Set<Item>();
  let nextId = 0;
  const expectMin = (): Item | undefined =>
    [...inside].sort((a, b) => a.key - b.key || a.id - b.id)[0];
  for (let step = 0; step < 5000; step++) {
    const op = rnd(5);
    const items = [...inside];
    if (op <= 1 || items.length === 0) {
      const it = { id: nextId++, key: rnd(50), hpos: -1 };
      heap.push(it);
      inside.add(it);
    } else if (op === 2) {
      const it = heap.pop()!;
      assert.equal(it, expectMin());
      assert.equal(it.hpos, -1);
      inside.delete(it);
    } else if (op === 3) {
      const it = items[rnd(items.length)]!;
      heap.remove(it);
      assert.equal(heap.has(it), false);
      inside.delete(it);
    } else {
      const it = items[rnd(items.length)]!;
      it.key = rnd(50);
      heap.update(it);
    }
    assert.equal(heap.size, inside.size);
    assert.equal(heap.peek(), expectMin());
  }
  // Removing or updating something that is not in the heap is harmless.
  const stray = { id: -1, key: 0, hpos: -1 };
  heap.remove(stray);
  heap.update(stray);
  assert.equal(heap.size, inside.size);
});
