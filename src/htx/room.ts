// Whether a rewrite still fits in HAProxy's buffer. A rule that adds or grows a header, or
// changes the start line, fails in HAProxy when the message would no longer fit in tune.bufsize
// (less its header): the head, the body bytes already beside it, and the slots of removed fields.
// A removed field keeps its slot, and its payload leaves a hole, until HAProxy defragments the
// buffer, which it does only when a new payload finds no contiguous room at the end.

import type { HtxRequest, HtxResponse } from './index.js';
import { HTX_BLK, htxAdjust, htxDataSize, htxRequestSize, htxResponseSize } from './size.js';

/** The rewrite accounting of one message, as HAProxy's buffer would hold it. */
export class HtxRoom {
  /** Slots of removed fields still counted. */
  private slots = 0;
  /** Payload bytes freed in the middle of the buffer. */
  private holes = 0;
  /** Body bytes received so far and held beside the head (the rules run before any leaves). */
  body = 0;
  /** What HAProxy's copy of the fields leaves out, taken before the first rewrite. */
  private readonly adjust: number;
  /** What the body received may fill: a read stops at recvMax, counting the head as received. */
  private readonly bodyMax: number;

  constructor(
    readonly msg: HtxRequest | HtxResponse,
    private readonly response: boolean,
    /** tune.bufsize less the message header: what the blocks may take. */
    private readonly size: number,
    /** What a read may fill (size - tune.maxrewrite): the body beside the head stops there. */
    recvMax: number,
  ) {
    this.adjust = htxAdjust(msg.headers);
    this.bodyMax = recvMax - this.headSize() - HTX_BLK;
  }

  private headSize(): number {
    const m = this.msg;
    return (this.response ? htxResponseSize(m as HtxResponse) : htxRequestSize(m as HtxRequest)) + this.adjust;
  }

  /** The space the message takes now. */
  used(): number {
    const body = Math.max(this.msg.bodyWithHead ?? 0, htxDataSize(Math.min(this.body, this.bodyMax)));
    return this.headSize() + body + this.slots * HTX_BLK;
  }

  /** A field of `len` bytes (name and value) left the message. */
  removed(len: number): void {
    this.slots++;
    this.holes += len;
  }

  /** After a field was added: false when it does not fit (the caller takes it back). */
  added(): boolean {
    const used = this.used();
    if (used > this.size) return false;
    // The new payload goes after the others; without contiguous room there, HAProxy defragments.
    if (used + this.holes > this.size) this.defragmented();
    return true;
  }

  /**
   * After a block (start line, field) went from `before` to `after` payload bytes: false when
   * the message no longer fits (the caller restores it).
   */
  resized(before: number, after: number): boolean {
    // Checked whichever way the block went: a rewrite may have changed fields beside it.
    const used = this.used();
    if (used > this.size) return false;
    if (after <= before) {
      this.holes += before - after;
      return true;
    }
    // A grown block is written anew after the others, leaving its old payload as a hole, or,
    // without the room for it there, the buffer is defragmented first.
    if (used + this.holes + before >= this.size) this.defragmented();
    else this.holes += before;
    return true;
  }

  private defragmented(): void {
    this.slots = 0;
    this.holes = 0;
  }
}
