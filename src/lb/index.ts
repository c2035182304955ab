// Public face of the balancing algorithms. The Backend creates one algorithm per server group
// (active, backup) with createLbAlgorithm(), feeds it server events, and asks pick() for a server.
//
// What the Backend passes as the key of pick() (lbHashKey() computes it from raw request parts):
//   source     the client address text ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1")
//   uri        uriHashKey(request-target, balance)
//   url_param  urlParamValue(request-target, param), else with check_post on a POST
//              urlParamBodyValue(first body chunk, param)
//   hdr        hdrHashKey(value of the header's first occurrence, useDomainOnly)
//   others     undefined (ignored)
// Keys are latin1 strings (one character per byte), as the codecs produce them. An undefined key
// makes a hashing algorithm fall back to round robin.

import type { BalanceConfig, HashTypeConfig } from '../config/model.js';
import { First } from './first.js';
import { HashLb } from './hashing.js';
import { LeastConn } from './leastconn.js';
import { RandomLb } from './random.js';
import { RoundRobin } from './roundrobin.js';
import { StaticRoundRobin } from './static-rr.js';
import type { LbAlgorithm } from './types.js';

export type { LbAlgorithm, LbServer } from './types.js';
export {
  fullHash,
  genHash,
  hashCrc32,
  hashDjb2,
  hashNone,
  hashSdbm,
  hashWt6,
  sourceHash,
} from './hash.js';
export {
  hdrHashKey,
  lbHashKey,
  uriHashKey,
  uriPath,
  urlParamBodyValue,
  urlParamValue,
  type LbRequestParts,
} from './keys.js';
export { BE_WEIGHT_SCALE } from './weight.js';

/** A new, empty algorithm instance for `balance` (hashing ones configured by `hashType`). */
export function createLbAlgorithm(balance: BalanceConfig, hashType: HashTypeConfig): LbAlgorithm {
  switch (balance.algo) {
    case 'roundrobin':
      return new RoundRobin();
    case 'static-rr':
      return new StaticRoundRobin();
    case 'leastconn':
      return new LeastConn();
    case 'first':
      return new First();
    case 'random':
      return new RandomLb(balance.draws);
    case 'source':
      return new HashLb('source', hashType);
    case 'uri':
    case 'url_param':
    case 'hdr':
      return new HashLb('text', hashType);
  }
}

/**
 * True when the algorithm follows weight changes while a server is up (so `slowstart` may ramp
 * weights). Static ones (static-rr, map-based hashing) only see a weight drop to 0 or come back.
 */
export function isDynamicLb(balance: BalanceConfig, hashType: HashTypeConfig): boolean {
  switch (balance.algo) {
    case 'static-rr':
      return false;
    case 'source':
    case 'uri':
    case 'url_param':
    case 'hdr':
      return hashType.method === 'consistent';
    default:
      return true;
  }
}

/** True when the algorithm uses the key given to pick(). */
export function isHashingLb(balance: BalanceConfig): boolean {
  const a = balance.algo;
  return a === 'source' || a === 'uri' || a === 'url_param' || a === 'hdr';
}
