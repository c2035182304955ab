// What health and agent checks share: one run at a time, each scheduled after the previous one
// ended, on a timer that never keeps the process alive, and a stop that cancels what is pending.

export abstract class PeriodicCheck {
  protected timer: NodeJS.Timeout | null = null;
  protected stopped = false;
  /** When the next run is due (ms since epoch). */
  protected dueAt = 0;

  /** Schedules the first run `delayMs` from now (the runtime staggers them). */
  start(delayMs: number): void {
    this.schedule(delayMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.onStop();
  }

  protected schedule(ms: number): void {
    if (this.stopped) return;
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.runOnce();
    }, ms);
    this.timer.unref();
  }

  /** One run; it calls schedule() for the next one when it ends. */
  protected abstract runOnce(): void;
  /** Releases what a run in progress holds. */
  protected abstract onStop(): void;
}
