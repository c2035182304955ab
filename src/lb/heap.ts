// An indexed binary min-heap: each element remembers its slot so that it can be removed or
// re-sorted in O(log n) when its key changes (a server's load or position moved). Elements
// carry the slot themselves (`hpos`), which is why one element may sit in one heap at a time.

/** What an element must carry to live in an IndexedHeap. -1 means "in no heap". */
export interface HeapItem {
  hpos: number;
}

export class IndexedHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** `less(a, b)` is true when `a` must come out before `b`; it must be a strict order. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** The first element, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Inserts `e`, which must not be in any heap. */
  push(e: T): void {
    const i = this.items.length;
    this.items.push(e);
    e.hpos = i;
    this.up(i);
  }

  /** Removes and returns the first element, or undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (last !== top) {
      items[0] = last;
      last.hpos = 0;
      this.down(0);
    }
    top.hpos = -1;
    return top;
  }

  /** Removes `e` if it is in this heap. */
  remove(e: T): void {
    const i = e.hpos;
    const items = this.items;
    if (i < 0 || items[i] !== e) return;
    const last = items.pop()!;
    if (last !== e) {
      items[i] = last;
      last.hpos = i;
      this.up(i);
      this.down(last.hpos);
    }
    e.hpos = -1;
  }

  /** Restores the order after the key of `e` (which is in this heap) changed. */
  update(e: T): void {
    const i = e.hpos;
    if (i < 0 || this.items[i] !== e) return;
    this.up(i);
    this.down(e.hpos);
  }

  /** True when `e` is currently in this heap. */
  has(e: T): boolean {
    return e.hpos >= 0 && this.items[e.hpos] === e;
  }

  /** Re-sorts every element after keys changed globally (e.g. a rebase of positions). */
  rebuild(): void {
    const items = this.items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): void {
    const items = this.items;
    const e = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = items[p]!;
      if (!this.less(e, pe)) break;
      items[i] = pe;
      pe.hpos = i;
      i = p;
    }
    items[i] = e;
    e.hpos = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(items[r]!, items[l]!)) c = r;
      const ce = items[c]!;
      if (!this.less(ce, e)) break;
      items[i] = ce;
      ce.hpos = i;
      i = c;
    }
    items[i] = e;
    e.hpos = i;
  }
}
