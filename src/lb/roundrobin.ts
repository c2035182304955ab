// `balance roundrobin`: HAProxy's fast weighted round robin ("fwrr"), reproduced so that the same
// servers, weights and events give the same sequence of servers as HAProxy 2.6.
//
// The model. Weights are on the internal scale (user weight x 16). A "time range" spans
// `currWeight` positions; `currPos` advances by one per pick. Each server has a next position
// `npos`; when picked, it moves forward by its step (total weight / own weight, the remainder
// carried in `rweight`), so a server of weight w comes back w times per range. Servers live in
// one of three ordered sets:
//   init  servers not yet placed in this range, heaviest first: they fill the holes (a pick where
//         no placed server is due yet), which is what spreads light servers through the range;
//   curr  placed servers, by next position (ties: heavier first, then first queued);
//   next  servers whose next position falls beyond the range, heaviest first.
// When curr and init are both empty, init and next swap and a new range starts at `currWeight`
// (the weight total of that moment): positions are forgotten and servers are placed again.
//
// Order inside a set is (key, insertion order), as HAProxy's ebtrees keep duplicates in the order
// they were inserted; that insertion order decides ties and is part of the observable sequence.
// Positions, steps and keys are computed with the C unsigned 32-bit arithmetic HAProxy uses, so
// that even the odd corners (a weight change late in a range) land where HAProxy lands.
//
// A pick costs O(log n): a heap peek, a pop and a push. Full servers are taken out as they come up
// (they lose that turn) and put back at the end of the pick, as HAProxy does.

import { IndexedHeap, type HeapItem } from './heap.js';
import type { LbAlgorithm, LbServer } from './types.js';
import { BE_WEIGHT_SCALE, SRV_EWGHT_MAX, SRV_UWGHT_RANGE, scaledWeight } from './weight.js';

interface FwrrEntry extends HeapItem {
  readonly srv: LbServer;
  /** Between add() and remove(). */
  added: boolean;
  /** Committed internal weight (HAProxy's cur_eweight); 0 while not usable. */
  cur: number;
  /** Next and last positions, and the carried remainder of the step (all unsigned 32-bit). */
  npos: number;
  lpos: number;
  rweight: number;
  /** Sort key in its set (unsigned 32-bit) and insertion stamp that orders equal keys. */
  key: number;
  seq: number;
  /** The set it was last queued in (null once taken down); only meaningful between picks. */
  tree: FwrrTree | null;
}

type FwrrTree = IndexedHeap<FwrrEntry>;

function newTree(): FwrrTree {
  return new IndexedHeap<FwrrEntry>((a, b) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq));
}

/** C `unsigned int` wrap-around. */
function u32(x: number): number {
  return x >>> 0;
}

export class RoundRobin implements LbAlgorithm {
  /** Kept across remove()/add(): HAProxy keeps a down server's last position and remainder. */
  private readonly entries = new WeakMap<LbServer, FwrrEntry>();
  private readonly curr = newTree();
  private init = newTree();
  private next = newTree();
  private currPos = 0;
  private currWeight = 0;
  private nextWeight = 0;
  private used = 0;
  private seq = 0;
  /**
   * True until the first event that is not add(): servers added meanwhile form the initial farm,
   * placed as HAProxy places the servers that are up at startup (all in init, no positions).
   */
  private pristine = true;
  /** Servers taken out during a pick (full or avoided), put back at its end. */
  private readonly extracted: FwrrEntry[] = [];

  get size(): number {
    return this.used;
  }

  /**
   * Ends the initial phase: servers added from now on are servers coming up, placed relative to
   * the current position. Any pick, remove or weight change ends it too.
   */
  initDone(): void {
    this.pristine = false;
  }

  add(srv: LbServer): void {
    let e = this.entries.get(srv);
    if (e === undefined) {
      e = { srv, added: false, cur: 0, npos: 0, lpos: 0, rweight: 0, key: 0, seq: 0, tree: null, hpos: -1 };
      this.entries.set(srv, e);
    }
    if (e.added) return;
    e.added = true;
    const w = scaledWeight(srv);
    if (w > 0) this.up(e, w);
  }

  remove(srv: LbServer): void {
    this.pristine = false;
    const e = this.entries.get(srv);
    if (e === undefined || !e.added) return;
    if (e.cur > 0) this.down(e);
    e.added = false;
  }

  weightChanged(srv: LbServer): void {
    this.pristine = false;
    const e = this.entries.get(srv);
    if (e === undefined || !e.added) return;
    const nw = scaledWeight(srv);
    const ow = e.cur;
    if (nw === ow) return;
    if (ow === 0) {
      this.up(e, nw);
      return;
    }
    if (nw === 0) {
      this.down(e);
      return;
    }
    this.nextWeight += nw - ow;
    if (e.tree === this.init) {
      // Not placed yet: only its rank by weight changes (queued behind its equals).
      this.dequeue(e);
      this.queueByWeight(this.init, e, nw);
    } else {
      // Placed in curr or next (a usable server is always in one of the three sets between
      // picks): the next position becomes the last one plus the new step, but never later than
      // before, and never so close that it would be picked twice in a row.
      if (e.tree === this.next) e.npos = u32(e.npos + this.currWeight);
      const prevNext = e.npos;
      const step = Math.floor(u32(this.nextWeight) / nw);
      e.npos = u32(e.lpos + step);
      e.rweight = 0;
      if (e.npos > prevNext) e.npos = prevNext;
      if (e.npos < u32(this.currPos + 2)) e.npos = u32(this.currPos + step);
      this.dequeue(e);
      this.queueSrv(e, nw);
    }
    e.cur = nw;
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    this.pristine = false;
    if (this.used === 0) return null;
    const extracted = this.extracted;
    let switched = false;
    let avoided: FwrrEntry | null = null;
    let chosen: FwrrEntry | null = null;
    for (;;) {
      // A range of weight 0 (everything was down when it started) restarts with today's weights.
      if (this.currWeight === 0) this.currPos = this.currWeight = this.nextWeight;
      let e = this.fromGroup();
      if (e === null) {
        if (switched) {
          // Nobody else could take it: the avoided server is better than nothing.
          chosen = avoided;
          break;
        }
        switched = true;
        this.switchTrees();
        e = this.fromGroup();
        if (e === null) {
          chosen = avoided;
          break;
        }
      }
      // Even a full or avoided server consumes its turn, so that it keeps its place.
      this.updatePosition(e);
      this.dequeue(e);
      this.currPos++;
      if (!e.srv.isFull()) {
        if (e.srv !== avoid || avoided !== null) {
          chosen = e;
          break;
        }
        avoided = e;
      }
      extracted.push(e);
    }

    if (chosen !== null) this.queueSrv(chosen, chosen.cur);
    // Put back the servers taken out, most recent first (HAProxy chains them as a stack). After a
    // switch their positions belong to the old range: only their weight still counts.
    for (let i = extracted.length - 1; i >= 0; i--) {
      const e = extracted[i]!;
      if (e === chosen) continue;
      if (switched) this.queueByWeight(this.init, e, e.cur);
      else this.queueSrv(e, e.cur);
    }
    extracted.length = 0;
    return chosen === null ? null : chosen.srv;
  }

  /** The server due now in curr, else an unplaced one from init, else curr's first even if early. */
  private fromGroup(): FwrrEntry | null {
    const s1 = this.curr.peek();
    if (s1 !== undefined && s1.npos <= u32(this.currPos)) return s1;
    const s2 = this.init.peek();
    if (s2 !== undefined) {
      s2.npos = 0;
      s2.rweight = 0;
      return s2;
    }
    return s1 ?? null;
  }

  /** Moves `e` (just picked) forward by its step; a position of 0 means "never placed". */
  private updatePosition(e: FwrrEntry): void {
    const w = e.cur;
    if (w === 0) return;
    if (e.npos === 0) e.npos = u32(this.currPos);
    e.lpos = e.npos;
    const nw = u32(this.nextWeight);
    e.npos = u32(e.npos + Math.floor(nw / w));
    e.rweight = u32(e.rweight + (nw % w));
    if (e.rweight >= w) {
      e.rweight -= w;
      e.npos = u32(e.npos + 1);
    }
  }

  /** Queues `e` (weight `w` > 0) in curr by position, or in next when beyond this range. */
  private queueSrv(e: FwrrEntry, w: number): void {
    const cw = this.currWeight;
    if (w <= 0 || e.npos >= u32(2 * cw) || e.npos >= u32(cw + this.nextWeight)) {
      e.npos = u32(e.npos - cw);
      this.queueByWeight(this.next, e, w);
      return;
    }
    // Position first; at equal positions the heavier server, then the one with the larger
    // remainder (it is "more late"), comes first.
    const frac = Math.floor(u32(SRV_EWGHT_MAX + e.rweight - w) / BE_WEIGHT_SCALE);
    this.insert(this.curr, e, u32(SRV_UWGHT_RANGE * e.npos + frac));
  }

  private queueByWeight(tree: FwrrTree, e: FwrrEntry, w: number): void {
    this.insert(tree, e, u32(SRV_EWGHT_MAX - w));
  }

  private insert(tree: FwrrTree, e: FwrrEntry, key: number): void {
    e.key = key;
    e.seq = this.seq++;
    e.tree = tree;
    tree.push(e);
  }

  /** Takes `e` out of its set; `e.tree` still names it until `e` is queued again. */
  private dequeue(e: FwrrEntry): void {
    if (e.tree !== null) e.tree.remove(e);
  }

  private switchTrees(): void {
    const t = this.init;
    this.init = this.next;
    this.next = t;
    this.currWeight = this.nextWeight;
    this.currPos = this.currWeight;
  }

  /** A server becomes usable with weight `w` > 0. */
  private up(e: FwrrEntry, w: number): void {
    this.nextWeight += w;
    this.used++;
    if (this.pristine) {
      // Part of the initial farm: the first range spans the whole farm's weight.
      this.currPos = this.currWeight = this.nextWeight;
      this.queueByWeight(this.init, e, w);
    } else {
      this.place(e, w);
    }
    e.cur = w;
  }

  /**
   * Places a server coming up about one step of the current total ahead, so that it neither
   * jumps the queue nor waits for the next range.
   */
  private place(e: FwrrEntry, w: number): void {
    const ahead = u32(this.nextWeight + this.currWeight - this.currPos);
    e.npos = u32(this.currPos + Math.floor(ahead / w));
    this.queueSrv(e, w);
  }

  private down(e: FwrrEntry): void {
    this.nextWeight -= e.cur;
    this.used--;
    this.dequeue(e);
    e.tree = null;
    e.cur = 0;
  }
}
