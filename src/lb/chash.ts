// The consistent hashing ring of `hash-type consistent`: each server owns 16 points per unit of
// weight (BE_WEIGHT_SCALE), placed where HAProxy places them for the default `hash-key id`
// (point j of server id i at fullHash(i * 4096 + j)), so that keys map to the same servers as in
// HAProxy given the same ids and weights. A key goes to the point closest to its hash on either
// side; when a server goes away or changes weight only its own points move.
//
// The ring is kept as sorted typed arrays: lookups are a binary search and never allocate.
// Added points are sorted per server and merged into the ring at the next lookup (all servers
// of a start-up in one pass); removed points are filtered out at once.

import { fullHash } from './hash.js';
import type { LbServer } from './types.js';
import { SRV_EWGHT_MAX } from './weight.js';

interface RingMember {
  readonly srv: LbServer;
  /** Index in ChashRing.slots, stored per point instead of an object reference. */
  readonly slot: number;
  /** Points on the ring or waiting to be merged into it (j = 0..points-1). */
  points: number;
}

/** A sorted run of ring points: the ring itself, or points waiting to be merged into it. */
interface Run {
  keys: Uint32Array;
  /** Point index j of each point, so that a weight drop removes a server's highest points. */
  idx: Uint32Array;
  /** Member slot owning each point. */
  owners: Int32Array;
}

const EMPTY_RUN: Run = newRun(0);

export class ChashRing {
  private readonly members = new Map<LbServer, RingMember>();
  /** Members by slot; freed slots are reused. */
  private readonly slots: (RingMember | null)[] = [];
  private readonly freeSlots: number[] = [];
  private ring: Run = EMPTY_RUN;
  /** Points added since the last lookup; merged all at once so that start-up stays O(P log n). */
  private pending: Run[] = [];
  /** Ring position of the last server returned by nextRoundRobin, -1 for none. */
  private last = -1;
  private used = 0;

  /** Number of servers with points on the ring. */
  get size(): number {
    return this.used;
  }

  /** Number of points on the ring. */
  get pointCount(): number {
    this.flush();
    return this.ring.keys.length;
  }

  has(srv: LbServer): boolean {
    return this.members.has(srv);
  }

  /** Adds `srv` with `points` points (0: known but drained). */
  add(srv: LbServer, points: number): void {
    if (this.members.has(srv)) return;
    const slot = this.freeSlots.pop() ?? this.slots.length;
    const m: RingMember = { srv, slot, points: 0 };
    this.slots[slot] = m;
    this.members.set(srv, m);
    this.setPoints(m, points);
  }

  remove(srv: LbServer): void {
    const m = this.members.get(srv);
    if (!m) return;
    this.setPoints(m, 0);
    this.members.delete(srv);
    this.slots[m.slot] = null;
    this.freeSlots.push(m.slot);
  }

  /** Changes the number of points of `srv`, adding or removing only the difference. */
  resize(srv: LbServer, points: number): void {
    const m = this.members.get(srv);
    if (m) this.setPoints(m, points);
  }

  /**
   * The server owning the point closest to `hash` (the one before it on a tie), or when that one
   * is full or is `avoid`, the next suitable one clockwise (`avoid` only as a last resort).
   * Null when every server is full or the ring is empty.
   */
  lookup(hash: number, avoid: LbServer | null): LbServer | null {
    const pos = this.closest(hash);
    return pos < 0 ? null : this.walk(pos, avoid);
  }

  /** The server owning the point closest to `hash`, full or not; null on an empty ring. */
  home(hash: number): LbServer | null {
    const pos = this.closest(hash);
    return pos < 0 ? null : this.slots[this.ring.owners[pos]!]!.srv;
  }

  /** Position of the point closest to `hash` (the one before it on a tie), -1 when empty. */
  private closest(hash: number): number {
    if (this.pending.length > 0) this.flush();
    const keys = this.ring.keys;
    const n = keys.length;
    if (n === 0) return -1;
    let next = lowerBound(keys, hash);
    if (next === n) next = 0;
    const prev = next === 0 ? n - 1 : next - 1;
    const dp = (hash - keys[prev]!) >>> 0;
    const dn = (keys[next]! - hash) >>> 0;
    return dp <= dn ? prev : next;
  }

  /**
   * Round robin along the ring, for requests without a key: the server of the point after the
   * previous one that is not full, skipping `avoid` unless it is the only one possible.
   */
  nextRoundRobin(avoid: LbServer | null): LbServer | null {
    if (this.pending.length > 0) this.flush();
    const owners = this.ring.owners;
    const n = owners.length;
    if (n === 0) return null;
    let pos = this.last;
    let avoided = -1;
    for (let steps = 0; steps < n; steps++) {
      pos = pos + 1 >= n ? 0 : pos + 1;
      const srv = this.slots[owners[pos]!]!.srv;
      if (srv.isFull()) continue;
      if (srv !== avoid) {
        this.last = pos;
        return srv;
      }
      if (avoided < 0) avoided = pos;
    }
    if (avoided < 0) return null;
    this.last = avoided;
    return this.slots[owners[avoided]!]!.srv;
  }

  private walk(pos: number, avoid: LbServer | null): LbServer | null {
    const owners = this.ring.owners;
    const n = owners.length;
    let avoided: LbServer | null = null;
    let rejected = -1;
    for (let steps = 0; steps < n; steps++) {
      const m = owners[pos]!;
      if (m !== rejected) {
        const srv = this.slots[m]!.srv;
        if (!srv.isFull()) {
          if (srv !== avoid) return srv;
          avoided = srv;
        }
        rejected = m;
      }
      pos = pos + 1 === n ? 0 : pos + 1;
    }
    return avoided;
  }

  private setPoints(m: RingMember, points: number): void {
    if (points > SRV_EWGHT_MAX) points = SRV_EWGHT_MAX;
    if (points === m.points) return;
    if (m.points === 0) this.used++;
    else if (points === 0) this.used--;
    if (points > m.points) {
      this.pending.push(pointsRun(m, m.points, points));
    } else {
      this.flush();
      this.removePoints(m, points);
    }
    m.points = points;
  }

  /** Merges the pending runs into the ring, pairwise so that n runs cost O(P log n). */
  private flush(): void {
    if (this.pending.length === 0) return;
    const lastKey = this.last >= 0 && this.last < this.ring.keys.length ? this.ring.keys[this.last]! : -1;
    // Existing points come first on equal keys, then runs in the order they were added.
    let runs: Run[] = [this.ring, ...this.pending];
    this.pending = [];
    while (runs.length > 1) {
      const merged: Run[] = [];
      for (let i = 0; i + 1 < runs.length; i += 2) merged.push(mergeRuns(runs[i]!, runs[i + 1]!));
      if (runs.length % 2 === 1) merged.push(runs[runs.length - 1]!);
      runs = merged;
    }
    this.ring = runs[0]!;
    this.reposition(lastKey);
  }

  private removePoints(m: RingMember, keep: number): void {
    const lastKey = this.last >= 0 && this.last < this.ring.keys.length ? this.ring.keys[this.last]! : -1;
    const old = this.ring;
    const n = old.keys.length - (m.points - keep);
    const run = newRun(n);
    let o = 0;
    for (let a = 0; a < old.keys.length; a++) {
      if (old.owners[a] === m.slot && old.idx[a]! >= keep) continue;
      run.keys[o] = old.keys[a]!;
      run.idx[o] = old.idx[a]!;
      run.owners[o] = old.owners[a]!;
      o++;
    }
    this.ring = run;
    this.reposition(lastKey);
  }

  /** Keeps the round-robin cursor near where it was after the ring changed. */
  private reposition(lastKey: number): void {
    this.last = lastKey < 0 ? -1 : lowerBound(this.ring.keys, lastKey) - 1;
  }
}

/** The points j = from..to-1 of member `m`, sorted. */
function pointsRun(m: RingMember, from: number, to: number): Run {
  const base = Math.imul(m.srv.id, SRV_EWGHT_MAX) >>> 0;
  const count = to - from;
  // Pack (key, j) into one double to sort them natively: key * 4096 + j < 2^44.
  const packed = new Float64Array(count);
  for (let j = from; j < to; j++) packed[j - from] = fullHash((base + j) >>> 0) * SRV_EWGHT_MAX + j;
  packed.sort();
  const run = newRun(count);
  run.owners.fill(m.slot);
  for (let i = 0; i < count; i++) {
    const p = packed[i]!;
    const j = p % SRV_EWGHT_MAX;
    run.keys[i] = (p - j) / SRV_EWGHT_MAX;
    run.idx[i] = j;
  }
  return run;
}

function newRun(n: number): Run {
  return { keys: new Uint32Array(n), idx: new Uint32Array(n), owners: new Int32Array(n) };
}

/** Stable merge of two sorted runs (`a` first on equal keys). */
function mergeRuns(a: Run, b: Run): Run {
  const na = a.keys.length;
  const nb = b.keys.length;
  const n = na + nb;
  const out = newRun(n);
  let i = 0;
  let j = 0;
  for (let o = 0; o < n; o++) {
    if (j >= nb || (i < na && a.keys[i]! <= b.keys[j]!)) {
      out.keys[o] = a.keys[i]!;
      out.idx[o] = a.idx[i]!;
      out.owners[o] = a.owners[i]!;
      i++;
    } else {
      out.keys[o] = b.keys[j]!;
      out.idx[o] = b.idx[j]!;
      out.owners[o] = b.owners[j]!;
      j++;
    }
  }
  return out;
}

/** First index whose key is >= `v` (keys.length when none). */
function lowerBound(keys: Uint32Array, v: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
