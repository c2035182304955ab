// The hashing algorithms (`source`, `uri`, `url_param`, `hdr`): the key is hashed per
// `hash-type` and mapped to a server, either through the static server map (`map-based`, the
// default: hash % total weight) or through the consistent hashing ring (`consistent`: dynamic
// weights, only the keys of a changed server move). Without a key they fall back to round
// robin over the same structure, as HAProxy does.

import type { HashTypeConfig } from '../config/model.js';
import { ChashRing } from './chash.js';
import { genHash, sourceHash } from './hash.js';
import { ServerMap } from './map.js';
import type { LbAlgorithm, LbServer } from './types.js';
import { scaledWeight } from './weight.js';

/** How the key is turned into a hash: `source` folds an IP address, the others hash the text. */
export type HashKeyKind = 'source' | 'text';

export class HashLb implements LbAlgorithm {
  private readonly map: ServerMap | null;
  private readonly ring: ChashRing | null;

  constructor(
    private readonly kind: HashKeyKind,
    private readonly hashType: HashTypeConfig,
  ) {
    if (hashType.method === 'consistent') {
      this.map = null;
      this.ring = new ChashRing();
    } else {
      this.map = new ServerMap();
      this.ring = null;
    }
  }

  get size(): number {
    return this.map ? this.map.size : this.ring!.size;
  }

  add(srv: LbServer): void {
    if (this.map) this.map.add(srv);
    else this.ring!.add(srv, scaledWeight(srv));
  }

  remove(srv: LbServer): void {
    if (this.map) this.map.remove(srv);
    else this.ring!.remove(srv);
  }

  weightChanged(srv: LbServer): void {
    if (this.map) this.map.weightChanged(srv);
    else this.ring!.resize(srv, scaledWeight(srv));
  }

  taken(_srv: LbServer): void {}

  released(_srv: LbServer): void {}

  pick(key: string | undefined, avoid: LbServer | null): LbServer | null {
    if (key !== undefined) {
      const h = this.hashOf(key);
      if (h >= 0) return this.map ? this.map.lookup(h, avoid) : this.ring!.lookup(h, avoid);
    }
    return this.map ? this.map.nextRoundRobin(avoid) : this.ring!.nextRoundRobin(avoid);
  }

  home(key: string): LbServer | null {
    if (this.size === 0) return null;
    const h = this.hashOf(key);
    if (h < 0) return null;
    return this.map ? this.map.home(h) : this.ring!.home(h);
  }

  /** The 32-bit hash of `key`, or -1 when it cannot be hashed (not an address for `source`). */
  hashOf(key: string): number {
    // With a single server there is nothing to choose: HAProxy skips hashing then.
    if (this.size === 1) return 0;
    return this.kind === 'source' ? sourceHash(key, this.hashType.avalanche) : genHash(key, this.hashType);
  }
}
