// What a blocked process waits for: an ioreq completion, space in a full ring, a pending
// unmap. A counting semaphore: notify() hands out permits (a permit given while nobody waits
// is kept, so a wake-up that comes before the wait is not lost); broadcast() wakes every
// current waiter without keeping a permit (for "re-check your condition").

/** The engine's side of a waiter: resumes it at the current virtual time. */
export interface Waiter {
  readonly name: string;
  wake(): void;
}

export class Signal {
  readonly name: string;
  private permits = 0;
  private readonly waiters: Waiter[] = [];
  /** How many times a waiter was woken (for reports). */
  wakeups = 0;

  constructor(name: string) {
    this.name = name;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get pending(): number {
    return this.permits;
  }

  /** Gives `n` permits: each wakes the oldest waiter, or is kept for a later wait. */
  notify(n = 1): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${this.name}: notify count must be an integer >= 0, got ${n}`);
    for (let i = 0; i < n; i++) {
      const w = this.waiters.shift();
      if (w) {
        this.wakeups++;
        w.wake();
      } else {
        this.permits++;
      }
    }
  }

  /** Wakes every current waiter; keeps no permit. */
  broadcast(): void {
    const ws = this.waiters.splice(0);
    this.wakeups += ws.length;
    for (const w of ws) w.wake();
  }

  /** Takes a permit if one is kept (true), else queues `w` (false). */
  acquire(w: Waiter): boolean {
    if (this.permits > 0) {
      this.permits--;
      return true;
    }
    this.waiters.push(w);
    return false;
  }
}
