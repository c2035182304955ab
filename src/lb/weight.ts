// Weight conventions shared by the algorithms. A server's `eweight` is on the user scale (0..256,
// possibly fractional while a slow start ramps it). Dynamic algorithms work on a finer integer
// scale, as HAProxy does (BE_WEIGHT_SCALE), so that a ramping weight still moves in small steps.

import type { LbServer } from './types.js';

/** Ratio between the internal weight of dynamic algorithms and the user weight. */
export const BE_WEIGHT_SCALE = 16;

/** The user weight range (`weight` accepts 0..256). */
export const SRV_UWGHT_RANGE = 256;

/** Largest internal weight: 256 * 16. */
export const SRV_EWGHT_MAX = SRV_UWGHT_RANGE * BE_WEIGHT_SCALE;

/** Internal integer weight of `srv` for dynamic algorithms (0 when drained). */
export function scaledWeight(srv: LbServer): number {
  const w = srv.eweight;
  if (!(w > 0)) return 0;
  const s = Math.round(w * BE_WEIGHT_SCALE);
  // A tiny positive weight still means "usable": never round it down to drained.
  return s > 0 ? (s > SRV_EWGHT_MAX ? SRV_EWGHT_MAX : s) : 1;
}

/** Integer user weight of `srv` for static (map) algorithms (0 when drained). */
export function staticWeight(srv: LbServer): number {
  const w = srv.eweight;
  if (!(w > 0)) return 0;
  const s = Math.round(w);
  return s > 0 ? (s > SRV_UWGHT_RANGE ? SRV_UWGHT_RANGE : s) : 1;
}

/** Greatest common divisor of two positive integers. */
export function gcd(a: number, b: number): number {
  while (b) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
