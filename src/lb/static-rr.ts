// `balance static-rr`: weighted round robin over the static server map. No limit on the number
// of servers; weights are fixed when a server joins (a runtime change only drains it at 0 or
// restores it), and a server coming up rejoins as soon as the map is rebuilt.

import { ServerMap } from './map.js';
import type { LbAlgorithm, LbServer } from './types.js';

export class StaticRoundRobin implements LbAlgorithm {
  private readonly map = new ServerMap();

  get size(): number {
    return this.map.size;
  }

  add(srv: LbServer): void {
    this.map.add(srv);
  }

  remove(srv: LbServer): void {
    this.map.remove(srv);
  }

  weightChanged(srv: LbServer): void {
    this.map.weightChanged(srv);
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(_key: string | undefined, avoid: LbServer | null): LbServer | null {
    return this.map.nextRoundRobin(avoid);
  }
}
