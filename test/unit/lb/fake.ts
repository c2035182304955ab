// Fake servers for the balancing algorithm tests: a weight, a connection count and an optional
// maxconn that makes them full.

import type { LbAlgorithm, LbServer } from '../../../src/lb/types.js';

export class FakeServer implements LbServer {
  conns = 0;
  /** 0 = unlimited. */
  maxconn = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    public eweight: number,
  ) {}

  isFull(): boolean {
    return this.maxconn > 0 && this.conns >= this.maxconn;
  }
}

/** Servers s1..sN with the given weights and ids 1..N. */
export function makeServers(weights: readonly number[]): FakeServer[] {
  return weights.map((w, i) => new FakeServer(i + 1, `s${i + 1}`, w));
}

/** Adds every server to `lb`, in order. */
export function addAll(lb: LbAlgorithm, srvs: readonly LbServer[]): void {
  for (const s of srvs) lb.add(s);
}

/** Picks `n` times (no key, no avoid) and returns the names in order. */
export function pickNames(lb: LbAlgorithm, n: number, key?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(lb.pick(key, null)?.name ?? 'null');
  return out;
}

/** Counts picks per server name over `n` picks. */
export function countPicks(lb: LbAlgorithm, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const name = lb.pick(undefined, null)?.name ?? 'null';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
