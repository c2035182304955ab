// `balance random(<draws>)`: power of N random choices. N servers are drawn with a probability
// proportional to their weight, and the least loaded of them (fewest conns relative to weight)
// wins. HAProxy draws through its consistent hashing ring, whose arcs only approximate the
// weights; a Fenwick tree of weights gives exact proportions with O(log n) draws and updates.

import type { LbAlgorithm, LbServer } from './types.js';
import { scaledWeight } from './weight.js';

interface RndEntry {
  readonly srv: LbServer;
  /** Internal weight; 0 = drained (never drawn). */
  w: number;
  /** Position in the Fenwick tree. */
  slot: number;
}

export class RandomLb implements LbAlgorithm {
  private readonly entries = new Map<LbServer, RndEntry>();
  private slots: (RndEntry | null)[] = [];
  private tree = new Float64Array(1); // 1-based Fenwick tree over slot weights
  private cap = 0;
  /** Highest power of two <= cap, where the Fenwick descent starts. */
  private topStep = 0;
  private readonly free: number[] = [];
  private total = 0;
  private used = 0;
  private readonly draws: number;

  /** `draws` is the number of servers compared per pick (at least 1; HAProxy's default is 2). */
  constructor(
    draws: number,
    private readonly rand: () => number = Math.random,
  ) {
    this.draws = draws >= 1 ? Math.floor(draws) : 1;
  }

  get size(): number {
    return this.used;
  }

  add(srv: LbServer): void {
    if (this.entries.has(srv)) return;
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      this.slots.push(null);
      if (slot >= this.cap) this.grow();
    }
    const e: RndEntry = { srv, w: 0, slot };
    this.slots[slot] = e;
    this.entries.set(srv, e);
    this.setWeight(e, scaledWeight(srv));
  }

  remove(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (!e) return;
    this.setWeight(e, 0);
    this.slots[e.slot] = null;
    this.free.push(e.slot);
    this.entries.delete(srv);
  }

  weightChanged(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (e) this.setWeight(e, scaledWeight(srv));
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    if (this.used === 0) return null;
    let best: RndEntry | null = null;
    let candidates = 0;
    // Draws landing on a full or avoided server do not count, within a bounded budget.
    for (let attempts = this.draws * 3 + 2; attempts > 0 && candidates < this.draws; attempts--) {
      const e = this.draw();
      const srv = e.srv;
      if (srv === avoid || srv.isFull()) continue;
      candidates++;
      // Keep the newer draw on equal loads, like HAProxy when it has no request rates to compare.
      if (best === null || srv.conns * best.w <= best.srv.conns * e.w) best = e;
    }
    return best !== null ? best.srv : this.scan(avoid);
  }

  /** One server drawn with probability weight / total. */
  private draw(): RndEntry {
    let r = Math.floor(this.rand() * this.total);
    if (r >= this.total) r = this.total - 1;
    const tree = this.tree;
    let pos = 0;
    for (let step = this.topStep; step > 0; step >>= 1) {
      const nxt = pos + step;
      if (nxt <= this.cap && tree[nxt]! <= r) {
        pos = nxt;
        r -= tree[nxt]!;
      }
    }
    return this.slots[pos]!;
  }

  /**
   * Saturated farm (every draw was full or avoided): any usable server with room, from a random
   * starting point, `avoid` only when it is the only one.
   */
  private scan(avoid: LbServer | null): LbServer | null {
    const n = this.slots.length;
    let avoided: LbServer | null = null;
    let i = Math.floor(this.rand() * n);
    for (let k = 0; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
      const e = this.slots[i];
      if (!e || e.w === 0 || e.srv.isFull()) continue;
      if (e.srv !== avoid) return e.srv;
      avoided = e.srv;
    }
    return avoided;
  }

  private setWeight(e: RndEntry, w: number): void {
    const delta = w - e.w;
    if (delta === 0) return;
    if (e.w === 0) this.used++;
    else if (w === 0) this.used--;
    e.w = w;
    this.total += delta;
    for (let i = e.slot + 1; i <= this.cap; i += i & -i) this.tree[i] = this.tree[i]! + delta;
  }

  private grow(): void {
    const cap = this.cap === 0 ? 8 : this.cap * 2;
    const tree = new Float64Array(cap + 1);
    for (let s = 0; s < this.slots.length; s++) {
      const e = this.slots[s];
      if (e) tree[s + 1] = e.w;
    }
    // Linear-time Fenwick construction: push each node's sum to its parent.
    for (let i = 1; i <= cap; i++) {
      const p = i + (i & -i);
      if (p <= cap) tree[p] = tree[p]! + tree[i]!;
    }
    this.tree = tree;
    this.cap = cap;
    let top = 1;
    while (top * 2 <= cap) top *= 2;
    this.topStep = top;
  }
}
