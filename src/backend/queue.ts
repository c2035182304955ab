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
  /** Internal links; initialise to null. */
  qPrev: Pending | null;
  qNext: Pending | null;
  qOwner: PendingQueue | null;
  /** When it entered the queue (ms), for ordering between a server's and its backend's queues. */
  qSince: number;
}

export class PendingQueue {
  /** The server whose queue this is; null for a backend's queue. */
  constructor(readonly server: Server | null = null) {}
  private head: Pending | null = null;
  private tail: Pending | null = null;
  length = 0;

  push(p: Pending): void {
    p.qPrev = this.tail;
    p.qNext = null;
    p.qOwner = this;
    p.qSince = Date.now();
    if (this.tail) this.tail.qNext = p;
    else this.head = p;
    this.tail = p;
    this.length++;
  }

  /** The oldest entry without removing it. */
  peek(): Pending | null {
    return this.head;
  }

  shift(): Pending | null {
    const p = this.head;
    if (p) this.remove(p);
    return p;
  }

  /** Removes `p` if it is in this queue. */
  remove(p: Pending): void {
    if (p.qOwner !== this) return;
    if (p.qPrev) p.qPrev.qNext = p.qNext;
    else this.head = p.qNext;
    if (p.qNext) p.qNext.qPrev = p.qPrev;
    else this.tail = p.qPrev;
    p.qPrev = p.qNext = null;
    p.qOwner = null;
    this.length--;
  }
}
