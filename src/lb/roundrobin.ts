// `balance roundrobin`: smooth weighted round robin with dynamic weights.
//
// Each server owns a sequence of "periods" on a virtual time axis, of length 1/weight; a full
// cycle of the farm (total weight picks) advances virtual time by exactly 1. A server is eligible
// once its next period has started, and among eligible servers the one whose period ends first
// wins (earliest eligible deadline first). This interleaves servers in proportion to their
// weights (5:1:1 gives A B A A C A A) and gives each server exactly its weight over every full
// cycle while the farm is stable. Two heaps (waiting by start, eligible by deadline) make a pick
// O(log n); a server joining, leaving or changing weight only touches its own entry.
//
// Positions are `base + k / w` with integer k, so that in a stable farm every comparison is
// between correctly rounded quotients of small integers, which are equal exactly when the
// fractions are: the schedule is exact, not approximately fair.

import { IndexedHeap, type HeapItem } from './heap.js';
import type { LbAlgorithm, LbServer } from './types.js';
import { scaledWeight } from './weight.js';

interface RrEntry extends HeapItem {
  readonly srv: LbServer;
  /** Internal weight; 0 = drained, in no heap. */
  w: number;
  /** Virtual time from which this server's periods are counted. */
  base: number;
  /** Periods consumed since `base`. */
  k: number;
  /** Start of the next period, base + k / w: eligible when s <= now. */
  s: number;
  /** End of the next period, base + (k + 1) / w. */
  d: number;
  /** 0: in no heap, 1: waiting, 2: eligible. */
  where: number;
}

/** Virtual time is shifted back by a whole number of cycles past this point, to keep precision. */
const REBASE_AT = 2 ** 20;

export class RoundRobin implements LbAlgorithm {
  private readonly entries = new Map<LbServer, RrEntry>();
  private readonly waiting = new IndexedHeap<RrEntry>((a, b) =>
    a.s !== b.s ? a.s < b.s : a.srv.id < b.srv.id,
  );
  private readonly eligible = new IndexedHeap<RrEntry>((a, b) =>
    a.d !== b.d ? a.d < b.d : a.w !== b.w ? a.w > b.w : a.srv.id < b.srv.id,
  );
  /** Servers taken out during a pick (full or avoided), put back at its end. */
  private readonly scratch: RrEntry[] = [];
  private used = 0;
  private tot = 0;
  /** Virtual time is vtBase + picks / tot, `picks` counting since tot last changed. */
  private vtBase = 0;
  private picks = 0;

  /** `rebaseAt` (tests only) is the virtual time past which positions are shifted back. */
  constructor(private readonly rebaseAt: number = REBASE_AT) {}

  get size(): number {
    return this.used;
  }

  add(srv: LbServer): void {
    if (this.entries.has(srv)) return;
    const e: RrEntry = { srv, w: 0, base: 0, k: 0, s: 0, d: 0, where: 0, hpos: -1 };
    this.entries.set(srv, e);
    const w = scaledWeight(srv);
    if (w > 0) this.join(e, w);
  }

  remove(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (!e) return;
    if (e.w > 0) this.leave(e);
    this.entries.delete(srv);
  }

  weightChanged(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (!e) return;
    const nw = scaledWeight(srv);
    if (nw === e.w) return;
    if (e.w === 0) {
      this.join(e, nw);
      return;
    }
    if (nw === 0) {
      this.leave(e);
      return;
    }
    // Keep the start of the period being served and let the next one end with the new length,
    // but never in the past: a weight raise must not turn into a burst of catch-up picks.
    this.newEpoch();
    let ns = e.s - 1 / e.w + 1 / nw;
    if (ns < this.vtBase) ns = this.vtBase;
    this.unqueue(e);
    this.tot += nw - e.w;
    e.w = nw;
    e.base = ns;
    e.k = 0;
    setPos(e);
    this.enqueue(e, this.vtBase);
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    if (this.used === 0) return null;
    let now = this.vtBase + this.picks / this.tot;
    if (now >= this.rebaseAt) {
      this.rebase(Math.floor(now));
      now = this.vtBase + this.picks / this.tot;
    }
    this.promote(now);
    if (this.eligible.size === 0) {
      // Nobody's period has started (possible after weight changes): jump to the first start.
      const first = this.waiting.peek()!;
      this.vtBase = now = first.s;
      this.picks = 0;
      this.promote(now);
    }

    const scratch = this.scratch;
    let chosen: RrEntry | null = null;
    let avoided: RrEntry | null = null;
    for (;;) {
      const fromEligible = this.eligible.size > 0;
      const e = fromEligible ? this.eligible.pop() : this.waiting.pop();
      if (!e) break;
      e.where = 0;
      if (e.srv.isFull()) {
        // A saturated server whose turn came loses that turn, and virtual time moves on as if
        // it had been served: it stays in step with the others and gets its share again as
        // soon as it has room, with neither a backlog to catch up nor a debt to repay.
        if (fromEligible) {
          e.k++;
          setPos(e);
          this.picks++;
        }
        scratch.push(e);
        continue;
      }
      e.k++;
      setPos(e);
      this.picks++;
      if (e.srv === avoid) {
        avoided = e;
        scratch.push(e);
        continue;
      }
      chosen = e;
      break;
    }
    if (chosen === null) chosen = avoided;
    const vt = this.vtBase + this.picks / this.tot;
    for (let i = 0; i < scratch.length; i++) this.enqueue(scratch[i]!, vt);
    scratch.length = 0;
    if (chosen !== null && chosen !== avoided) this.enqueue(chosen, vt);
    return chosen === null ? null : chosen.srv;
  }

  private join(e: RrEntry, w: number): void {
    this.newEpoch();
    e.w = w;
    e.base = this.vtBase;
    e.k = 0;
    setPos(e);
    this.tot += w;
    this.used++;
    this.enqueue(e, this.vtBase);
  }

  private leave(e: RrEntry): void {
    this.newEpoch();
    this.unqueue(e);
    this.tot -= e.w;
    this.used--;
    e.w = 0;
    if (this.used === 0) {
      this.vtBase = 0;
      this.picks = 0;
    }
  }

  /** Freezes virtual time before the total weight changes (its rate depends on it). */
  private newEpoch(): void {
    if (this.tot > 0) this.vtBase += this.picks / this.tot;
    this.picks = 0;
  }

  private enqueue(e: RrEntry, now: number): void {
    if (e.s <= now) {
      e.where = 2;
      this.eligible.push(e);
    } else {
      e.where = 1;
      this.waiting.push(e);
    }
  }

  private unqueue(e: RrEntry): void {
    if (e.where === 1) this.waiting.remove(e);
    else if (e.where === 2) this.eligible.remove(e);
    e.where = 0;
  }

  private promote(now: number): void {
    for (;;) {
      const e = this.waiting.peek();
      if (!e || e.s > now) return;
      this.waiting.pop();
      e.where = 2;
      this.eligible.push(e);
    }
  }

  /** Shifts every position back by `m` whole cycles; integer bases stay exact. */
  private rebase(m: number): void {
    if (Number.isInteger(this.vtBase)) {
      this.picks += (this.vtBase - m) * this.tot;
      this.vtBase = 0;
    } else {
      this.vtBase -= m;
    }
    for (const e of this.entries.values()) {
      if (e.w === 0) continue;
      if (Number.isInteger(e.base)) {
        e.k += (e.base - m) * e.w;
        e.base = 0;
      } else {
        e.base -= m;
      }
      setPos(e);
    }
    this.waiting.rebuild();
    this.eligible.rebuild();
  }
}

function setPos(e: RrEntry): void {
  e.s = e.base + e.k / e.w;
  e.d = e.base + (e.k + 1) / e.w;
}
