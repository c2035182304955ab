// `balance leastconn`: the server with the fewest connections (served plus queued) relative to
// its weight. As in HAProxy the sort key is (conns + 1) * SRV_EWGHT_MAX / eweight, with 0 for an
// idle server so that under low load every idle server is used before any busy one; counting
// the connection about to be added orders equal loads by weight. Servers with equal keys take
// turns: a server whose key changes goes behind the others with the same key.

import { IndexedHeap, type HeapItem } from './heap.js';
import type { LbAlgorithm, LbServer } from './types.js';
import { scaledWeight, SRV_EWGHT_MAX } from './weight.js';

interface LcEntry extends HeapItem {
  readonly srv: LbServer;
  /** Internal weight; 0 = drained, in no heap. */
  w: number;
  key: number;
  /** Arrival order among equal keys. */
  seq: number;
}

export class LeastConn implements LbAlgorithm {
  private readonly entries = new Map<LbServer, LcEntry>();
  private readonly heap = new IndexedHeap<LcEntry>((a, b) => (a.key !== b.key ? a.key < b.key : a.seq < b.seq));
  private readonly scratch: LcEntry[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.size;
  }

  add(srv: LbServer): void {
    if (this.entries.has(srv)) return;
    const e: LcEntry = { srv, w: scaledWeight(srv), key: 0, seq: 0, hpos: -1 };
    this.entries.set(srv, e);
    if (e.w > 0) {
      e.key = lcKey(srv.conns, e.w);
      e.seq = ++this.seq;
      this.heap.push(e);
    }
  }

  remove(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (!e) return;
    this.heap.remove(e);
    this.entries.delete(srv);
  }

  weightChanged(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (!e) return;
    const w = scaledWeight(srv);
    if (w === e.w) return;
    e.w = w;
    if (w === 0) {
      this.heap.remove(e);
      return;
    }
    this.requeue(e);
  }

  taken(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (e && e.w > 0) this.requeue(e);
  }

  released(srv: LbServer): void {
    const e = this.entries.get(srv);
    if (e && e.w > 0) this.requeue(e);
  }

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    const heap = this.heap;
    const scratch = this.scratch;
    let chosen: LbServer | null = null;
    let avoided: LbServer | null = null;
    // Each server is examined at most once: a stale key is fixed and the server set aside.
    while (heap.size > 0) {
      const e = heap.peek()!;
      const key = lcKey(e.srv.conns, e.w);
      if (key !== e.key) {
        // conns moved without taken/released: resort it and look again.
        e.key = key;
        e.seq = ++this.seq;
        heap.update(e);
        if (heap.peek() !== e) continue;
      }
      heap.pop();
      scratch.push(e);
      if (e.srv.isFull()) continue;
      if (e.srv === avoid) {
        avoided = e.srv;
        continue;
      }
      chosen = e.srv;
      break;
    }
    for (let i = 0; i < scratch.length; i++) heap.push(scratch[i]!);
    scratch.length = 0;
    return chosen ?? avoided;
  }

  private requeue(e: LcEntry): void {
    e.key = lcKey(e.srv.conns, e.w);
    e.seq = ++this.seq;
    if (this.heap.has(e)) this.heap.update(e);
    else this.heap.push(e);
  }
}

/** The leastconn sort key of a server with `conns` connections and internal weight `w` > 0. */
export function lcKey(conns: number, w: number): number {
  return conns > 0 ? Math.floor(((conns + 1) * SRV_EWGHT_MAX) / w) : 0;
}
