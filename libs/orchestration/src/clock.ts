/** Time as the interpreter and the scheduler see it: injected, so tests run hours of waits instantly. */
export interface Clock {
  now(): number;
  /** Resolves after `ms` (Wait states, retry intervals, the scheduler's sleep until the next fire). */
  sleep(ms: number): Promise<void>;
  /** A timer that can be cancelled (task timeouts); `fired` resolves when it goes off. */
  timer(ms: number): { fired: Promise<void>; cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  timer(ms) {
    let handle: NodeJS.Timeout | undefined;
    const fired = new Promise<void>((resolve) => (handle = setTimeout(resolve, Math.max(0, ms))));
    return { fired, cancel: () => clearTimeout(handle) };
  },
};

/**
 * Real time with every wait scaled by `scale` (0.01: a 10 s retry interval takes 100 ms). For tests and
 * demos that run a workflow with production intervals against the real stack; `now()` stays real.
 */
export function scaledClock(scale: number): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) => systemClock.sleep(ms * scale),
    timer: (ms) => systemClock.timer(ms * scale),
  };
}

/**
 * A clock for unit tests: `sleep` moves time forward at once (and records how long it was asked to
 * sleep); `timer`s fire only when time is moved past them, by a sleep or by {@link advance}.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private readonly timers: { at: number; fire: () => void }[] = [];

  constructor(private current = Date.UTC(2026, 10, 27, 0, 0, 0)) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.advance(ms);
    // Let other promise chains run, as a real sleep would.
    await new Promise((resolve) => setImmediate(resolve));
  }

  timer(ms: number): { fired: Promise<void>; cancel(): void } {
    let entry: { at: number; fire: () => void } | undefined;
    const fired = new Promise<void>((resolve) => {
      entry = { at: this.current + ms, fire: resolve };
      this.timers.push(entry);
    });
    return {
      fired,
      cancel: () => {
        const i = this.timers.indexOf(entry!);
        if (i >= 0) this.timers.splice(i, 1);
      },
    };
  }

  advance(ms: number): void {
    this.current += Math.max(0, ms);
    for (const t of [...this.timers]) {
      if (t.at <= this.current) {
        this.timers.splice(this.timers.indexOf(t), 1);
        t.fire();
      }
    }
  }
}
