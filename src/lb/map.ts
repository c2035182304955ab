// The weighted server map of static algorithms (`static-rr`, and `map-based` hashing): a table
// of `total weight` slots in which each server appears as many times as its weight, spread
// evenly, with ties going to the server declared first. The slot order is the one HAProxy builds,
// so that `hash % total weight` designates the same server as HAProxy does for the same servers
// and weights. The map is rebuilt only when the set of servers changes, lazily on the next pick.

import { IndexedHeap, type HeapItem } from './heap.js';
import type { LbServer } from './types.js';
import { gcd, staticWeight } from './weight.js';

interface MapMember {
  readonly srv: LbServer;
  /** Static weight (integer user weight; 0 = drained, not in the table). */
  w: number;
}

interface BuildNode extends HeapItem {
  readonly i: number;
  /** How far the server is ahead of its share: floor(slots seen * w / total) - times placed. */
  a: number;
}

/**
 * Builds the slot table for `weights` (positive integers, in server order): slot o holds the
 * index of its server. The rule is HAProxy's: at each slot every server earns its weight, the
 * one with the highest floor((earned + total) / total) takes the slot and pays `total`, the
 * earliest server winning ties. Earned credit only changes by whole units at known slots, so this
 * runs in O(total * log n) instead of scanning every server for every slot.
 */
export function buildMapTable(weights: readonly number[]): Int32Array {
  const n = weights.length;
  let tot = 0;
  for (const w of weights) tot += w;
  const table = new Int32Array(tot);
  if (tot <= 1 || n === 1) return table; // a single server fills every slot (index 0)

  // Server i gains one unit of credit at each slot o where floor((o + 1) * w / tot) grows, that
  // is o = ceil(m * tot / w) - 1 for m = 1..w. Bucket these events by slot.
  const head = new Int32Array(tot).fill(-1);
  const next = new Int32Array(tot);
  const who = new Int32Array(tot);
  let ev = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    for (let m = 1; m <= w; m++) {
      const o = Math.floor((m * tot + w - 1) / w) - 1;
      who[ev] = i;
      next[ev] = head[o]!;
      head[o] = ev++;
    }
  }

  const nodes: BuildNode[] = [];
  const heap = new IndexedHeap<BuildNode>((x, y) => (x.a !== y.a ? x.a > y.a : x.i < y.i));
  for (let i = 0; i < n; i++) {
    const node = { i, a: 0, hpos: -1 };
    nodes.push(node);
    heap.push(node);
  }
  for (let o = 0; o < tot; o++) {
    for (let e = head[o]!; e >= 0; e = next[e]!) {
      const node = nodes[who[e]!]!;
      node.a++;
      heap.update(node);
    }
    const best = heap.peek()!;
    table[o] = best.i;
    best.a--;
    heap.update(best);
  }
  return table;
}

/** A server map with its round-robin cursor, shared by static-rr and map-based hashing. */
export class ServerMap {
  /** Every server in the map, usable or drained, ordered by id (HAProxy: declaration order). */
  private readonly members: MapMember[] = [];
  private readonly index = new Map<LbServer, MapMember>();
  private table: LbServer[] = [];
  private dirty = false;
  private rrIdx = 0;
  private used = 0;

  /** Number of servers with a non-zero weight. */
  get size(): number {
    return this.used;
  }

  /** Adds `srv` with its current weight (taken once: later weight changes only drain or restore it). */
  add(srv: LbServer): void {
    if (this.index.has(srv)) return;
    const m: MapMember = { srv, w: staticWeight(srv) };
    let lo = 0;
    let hi = this.members.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.members[mid]!.srv.id < srv.id) lo = mid + 1;
      else hi = mid;
    }
    this.members.splice(lo, 0, m);
    this.index.set(srv, m);
    if (m.w > 0) {
      this.used++;
      this.dirty = true;
    }
  }

  remove(srv: LbServer): void {
    const m = this.index.get(srv);
    if (!m) return;
    this.index.delete(srv);
    this.members.splice(this.members.indexOf(m), 1);
    if (m.w > 0) {
      this.used--;
      this.dirty = true;
    }
  }

  /**
   * Static weights: as in HAProxy, only a change to or from 0 matters (the server leaves or
   * rejoins the map); any other change is ignored while the server stays in.
   */
  weightChanged(srv: LbServer): void {
    const m = this.index.get(srv);
    if (!m) return;
    const w = staticWeight(srv);
    if ((w > 0) === (m.w > 0)) return;
    m.w = w;
    this.used += w > 0 ? 1 : -1;
    this.dirty = true;
  }

  /** The slot table (rebuilt first if the server set changed); empty when no server is usable. */
  slots(): readonly LbServer[] {
    if (this.dirty) this.rebuild();
    return this.table;
  }

  /**
   * Next server in slot order from the round-robin cursor that is not full, skipping `avoid`
   * unless it is the only one possible; null when all are full.
   */
  nextRoundRobin(avoid: LbServer | null): LbServer | null {
    const table = this.slots();
    const tot = table.length;
    if (tot === 0) return null;
    if (this.rrIdx >= tot) this.rrIdx = 0;
    const start = this.rrIdx;
    let idx = start;
    let avoided: LbServer | null = null;
    let avoidedNext = 0;
    do {
      const srv = table[idx]!;
      idx = idx + 1 === tot ? 0 : idx + 1;
      if (!srv.isFull()) {
        if (srv !== avoid) {
          this.rrIdx = idx;
          return srv;
        }
        avoided = srv;
        avoidedNext = idx;
      }
    } while (idx !== start);
    if (avoided) this.rrIdx = avoidedNext;
    return avoided;
  }

  /** The server of slot `hash % total weight`, full or not; null when the map is empty. */
  home(hash: number): LbServer | null {
    const table = this.slots();
    return table.length === 0 ? null : table[hash % table.length]!;
  }

  /**
   * The server of slot `hash % total weight`; when it is full or is `avoid`, the next suitable
   * one in slot order (`avoid` only as a last resort). Null when all are full.
   */
  lookup(hash: number, avoid: LbServer | null): LbServer | null {
    const table = this.slots();
    const tot = table.length;
    if (tot === 0) return null;
    const start = hash % tot;
    let idx = start;
    let avoided: LbServer | null = null;
    do {
      const srv = table[idx]!;
      if (!srv.isFull()) {
        if (srv !== avoid) return srv;
        avoided = srv;
      }
      idx = idx + 1 === tot ? 0 : idx + 1;
    } while (idx !== start);
    return avoided;
  }

  private rebuild(): void {
    this.dirty = false;
    const live: MapMember[] = [];
    let g = 0;
    for (const m of this.members) {
      if (m.w > 0) {
        live.push(m);
        g = g === 0 ? m.w : gcd(g, m.w);
      }
    }
    // Dividing by the common divisor keeps the table small. HAProxy divides by the divisor of
    // all configured servers instead; the resulting table is the same pattern repeated, so
    // `hash % total` designates the same server either way.
    const weights = live.map((m) => m.w / g);
    const idx = buildMapTable(weights);
    const table: LbServer[] = new Array(idx.length);
    for (let o = 0; o < idx.length; o++) table[o] = live[idx[o]!]!.srv;
    this.table = table;
  }
}
