// The contract between a Backend and its balancing algorithms. Algorithms are stateful objects
// updated by events (server up, down, weight change, connection taken or released); they are
// never recomputed per request. They import no sockets.

/** What an algorithm sees of a server. The Backend's Server objects implement it. */
export interface LbServer {
  /** Numeric id, unique in the backend (declaration order from 1 unless `id` was set). */
  readonly id: number;
  readonly name: string;
  /** Current effective weight, 0..256 (0 = drained: never picked by balancing). */
  eweight: number;
  /** Current connections (served requests plus those queued on this server), for leastconn. */
  conns: number;
  /** True when the server cannot take one more request now (maxconn reached or a queue waiting). */
  isFull(): boolean;
}

/**
 * One balancing algorithm over one set of servers (the Backend keeps one instance for active
 * servers and one for backup servers). Servers are "in" the algorithm only while usable.
 */
export interface LbAlgorithm {
  /** A server became usable (up and not in maintenance). */
  add(srv: LbServer): void;
  /** A server stopped being usable. */
  remove(srv: LbServer): void;
  /** `srv.eweight` changed. Static algorithms may ignore it. */
  weightChanged(srv: LbServer): void;
  /** A request was assigned to `srv` (after pick), and `srv.conns` was already incremented. */
  taken(srv: LbServer): void;
  /** A request on `srv` ended, and `srv.conns` was already decremented. */
  released(srv: LbServer): void;
  /**
   * Chooses a server that is not full. `key` is the hash input for hashing algorithms (source
   * address, URI, parameter value, header value); when it is undefined, hashing algorithms fall
   * back to round robin as HAProxy does. `avoid` is a server to skip if any other is possible
   * (the previous one on a redispatch). Returns null when every server is full or none is usable.
   */
  pick(key: string | undefined, avoid: LbServer | null): LbServer | null;
  /**
   * Hashing algorithms only: the server `key` maps to, whether full or not (null when none is
   * usable or the key cannot be hashed). HAProxy keeps a request on that server and queues it
   * there when the server is full, instead of moving it elsewhere.
   */
  home?(key: string): LbServer | null;
  /**
   * Called once the servers usable at start-up were added: later additions are servers coming
   * back, which some algorithms place differently (HAProxy's roundrobin does).
   */
  initDone?(): void;
  /** Number of usable servers currently in the algorithm. */
  readonly size: number;
}
