// Coarse shared timers for the hot path. Every connection phase has a deadline, refreshed on
// each read or write: arming a Timer only stores a number, and one wheel swept every few
// milliseconds fires the due ones. A refreshed timer found in a slot before its time is simply
// put back in the slot it now belongs to, so refreshing costs nothing per read. A disarmed timer
// leaves its slot at once (O(1)): the wheel must not keep finished streams alive, or every one of
// them would survive into the old generation and cost a major collection.

/** A deadline owned by a connection or stream. `expire` 0 means disarmed. */
export interface Timer {
  expire: number;
  /** Internal: the absolute slot tick the timer currently sits in, -1 if none. */
  slot: number;
  /** Internal: its index in that slot's list. */
  pos: number;
  /** Called once when the deadline passes (the timer is disarmed first). */
  onTimeout(now: number): void;
}

const RESOLUTION = 8; // ms per slot
const SLOTS = 1024; // ~8 s per turn; later deadlines wait in the last slot of their turn

class TimerWheel {
  private readonly slots: Timer[][] = Array.from({ length: SLOTS }, () => []);
  private tick = Math.floor(Date.now() / RESOLUTION);
  private handle: NodeJS.Timeout | null = null;
  private count = 0;
  /** Monotonic-enough clock for deadlines, refreshed at each sweep and by callers. */
  now = Date.now();

  /** Arms `t` to fire `ms` from now (ms <= 0 or undefined: disarm). */
  arm(t: Timer, ms: number | undefined): void {
    if (ms === undefined || ms <= 0) {
      this.disarm(t);
      return;
    }
    const now = Date.now();
    t.expire = now + ms;
    if (t.slot < 0) this.place(t, t.expire);
    else if (t.expire < (t.slot + 1) * RESOLUTION) {
      // Earlier than the slot it sits in: move it forward so it is not late.
      this.remove(t);
      this.place(t, t.expire);
    }
  }

  /** Disarms `t` and takes it out of the wheel. */
  disarm(t: Timer): void {
    t.expire = 0;
    if (t.slot >= 0) this.remove(t);
  }

  private remove(t: Timer): void {
    const list = this.slots[t.slot % SLOTS]!;
    const i = t.pos;
    if (list[i] === t) {
      const last = list.pop()!;
      if (last !== t) {
        list[i] = last;
        last.pos = i;
      }
      this.count--;
    }
    t.slot = -1;
    t.pos = -1;
  }

  private place(t: Timer, expire: number): void {
    let s = Math.floor(expire / RESOLUTION);
    if (s <= this.tick) s = this.tick + 1;
    if (s >= this.tick + SLOTS) s = this.tick + SLOTS - 1;
    t.slot = s;
    const list = this.slots[s % SLOTS]!;
    t.pos = list.length;
    list.push(t);
    this.count++;
    if (this.handle === null) this.start();
  }

  private start(): void {
    this.tick = Math.floor(Date.now() / RESOLUTION);
    this.handle = setInterval(() => this.sweep(), RESOLUTION);
    this.handle.unref();
  }

  private sweep(): void {
    const now = Date.now();
    this.now = now;
    const target = Math.floor(now / RESOLUTION);
    while (this.tick < target) {
      this.tick++;
      const idx = this.tick % SLOTS;
      const list = this.slots[idx]!;
      if (list.length === 0) continue;
      this.slots[idx] = [];
      this.count -= list.length;
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        // A handler earlier in this list may have disarmed or moved this one already.
        if (t.slot !== this.tick) continue;
        t.slot = -1;
        t.pos = -1;
        if (t.expire === 0) continue;
        if (t.expire > now) {
          this.place(t, t.expire);
          continue;
        }
        t.expire = 0;
        try {
          t.onTimeout(now);
        } catch (err) {
          // A timeout handler must never take the wheel down with it.
          process.emitWarning(`timer handler failed: ${(err as Error).stack ?? err}`);
        }
      }
    }
    if (this.count === 0 && this.handle !== null) {
      clearInterval(this.handle);
      this.handle = null;
    }
  }

  /** Number of timers sitting in the wheel (armed or awaiting lazy removal). */
  get size(): number {
    return this.count;
  }
}

/** The process-wide wheel. */
export const wheel = new TimerWheel();

/** A Timer object with every field initialised. */
export function newTimer(onTimeout: (now: number) => void): Timer {
  return { expire: 0, slot: -1, pos: -1, onTimeout };
}
