// Queues of requests waiting for a server slot (HAProxy's pendconns). A FIFO with O(1) removal
// from the middle, since a queued request can be aborted or time out while others wait.

import type { Server } from './server.js';
import type { Cause } from '../core/errors.js';

/** A request waiting in a queue. The owner (a Stream) implements it. */
export interface Pending {
  /** Called when a slot was given to it on `srv`. */
  dequeued(srv: Server): void;
  /**
   * Ends it now with termination cause `cause` (a server marked DOWN with `on-marked-down
   * shutdown-sessions`: 'D'; a backup server's stream when an active one came UP: 'U').
   */
  kill(cause: Cause.Down | Cause.Up): void;
  /**
   * The server it waited for went down (`option redispatch`): it has left the server's queue
   * and goes through load balancing again (HAProxy's pendconn_redistribute).
   */
  requeue(): void;
  /** Internal links; initialise to null. */
  qPrev: Pending | null;
  qNext: Pending | null;
  qOwner: PendingQueue | null;
  /** When it entered the queue (ms), for ordering between a server's and its backend's queues. */
  qSince: number;
  /** The queue's `served` count when it entered (internal; initialise to 0). */
  qServedAtPush: number;
  /**
   * Its places in server queues and in backend queues (%sq, %bq), summed over every wait, as
   * HAProxy's srv_queue_pos / prx_queue_pos; initialise to 0, the log reads them.
   */
  qSrvPos: number;
  qBePos: number;
}

export class PendingQueue {
  /** The server whose queue this is; null for a backend's queue. */
  constructor(readonly server: Server | null = null) {}
  private head: Pending | null = null;
  private tail: Pending | null = null;
  length = 0;
  /**
   * Entries that ever left this queue for a slot through the normal hand-over (HAProxy's queue
   * `idx`). A leaving entry's place is how many left that way while it waited, plus one: neither
   * aborted entries nor those a server coming up took advance the places behind them.
   */
  private served = 0;

  push(p: Pending): void {
    p.qPrev = this.tail;
    p.qNext = null;
    p.qOwner = this;
    p.qSince = Date.now();
    p.qServedAtPush = this.served;
    if (this.tail) this.tail.qNext = p;
    else this.head = p;
    this.tail = p;
    this.length++;
  }

  /** The oldest entry without removing it. */
  peek(): Pending | null {
    return this.head;
  }

  /**
   * Removes `p` to give it a slot; `advance`: it counts as served, so those still waiting move
   * up a place (HAProxy's pendconn_process_next_strm; not pendconn_grab_from_px).
   */
  serve(p: Pending, advance: boolean): void {
    if (p.qOwner !== this) return;
    this.remove(p);
    if (advance) this.served++;
  }

  /** Removes `p` if it is in this queue (aborted, timed out, or served), recording its place. */
  remove(p: Pending): void {
    if (p.qOwner !== this) return;
    const place = this.served - p.qServedAtPush + 1;
    if (this.server !== null) p.qSrvPos += place;
    else p.qBePos += place;
    if (p.qPrev) p.qPrev.qNext = p.qNext;
    else this.head = p.qNext;
    if (p.qNext) p.qNext.qPrev = p.qPrev;
    else this.tail = p.qPrev;
    p.qPrev = p.qNext = null;
    p.qOwner = null;
    this.length--;
  }
}
