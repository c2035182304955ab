// `balance first`: the usable server with the lowest id that still has room takes the request,
// so that the fewest servers are busy (useful with `maxconn`). Weights are ignored, except that
// a drained server (weight 0) is never used.

import type { LbAlgorithm, LbServer } from './types.js';

export class First implements LbAlgorithm {
  /** Usable servers with a non-zero weight, by ascending id. */
  private readonly order: LbServer[] = [];
  /** Every server added, drained or not. */
  private readonly members = new Set<LbServer>();

  get size(): number {
    return this.order.length;
  }

  add(srv: LbServer): void {
    if (this.members.has(srv)) return;
    this.members.add(srv);
    if (srv.eweight > 0) this.insert(srv);
  }

  remove(srv: LbServer): void {
    if (!this.members.delete(srv)) return;
    this.drop(srv);
  }

  weightChanged(srv: LbServer): void {
    if (!this.members.has(srv)) return;
    const at = this.order.indexOf(srv);
    if (srv.eweight > 0 && at < 0) this.insert(srv);
    else if (!(srv.eweight > 0) && at >= 0) this.order.splice(at, 1);
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    let avoided: LbServer | null = null;
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const srv = order[i]!;
      if (srv.isFull()) continue;
      if (srv !== avoid) return srv;
      avoided = srv;
    }
    return avoided;
  }

  private insert(srv: LbServer): void {
    const order = this.order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order[mid]!.id < srv.id) lo = mid + 1;
      else hi = mid;
    }
    order.splice(lo, 0, srv);
  }

  private drop(srv: LbServer): void {
    const at = this.order.indexOf(srv);
    if (at >= 0) this.order.splice(at, 1);
  }
}
