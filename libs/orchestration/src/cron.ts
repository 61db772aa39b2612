/**
 * Five-field cron expressions (`minute hour day-of-month month day-of-week`, UTC), as crontab reads
 * them: `*`, lists, ranges and steps (`1,15`, `9-17`, `*\/15`, `0-30/10`); day-of-week 0-7 with 0 and
 * 7 Sunday. When both day fields are restricted a day matches either, as in Vixie cron.
 */
import type { Clock } from './clock';

export class CronExpressionError extends Error {
  readonly retriable = false;
  constructor(expression: string, problem: string) {
    super(`cron expression "${expression}": ${problem}`);
    this.name = 'CronExpressionError';
  }
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(expression: string, text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronExpressionError(expression, `${field.name} "${part}" is not a number, range, list or step`);
    const from = m[1] === '*' ? field.min : Number(m[2]);
    const to = m[1] === '*' ? field.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? field.max : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < field.min || to > field.max || from > to || step < 1) {
      throw new CronExpressionError(expression, `${field.name} "${part}" is outside ${field.min}-${field.max}`);
    }
    for (let v = from; v <= to; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v);
  }
  return values;
}

export class CronSchedule {
  private readonly minutes: Set<number>;
  private readonly hours: Set<number>;
  private readonly days: Set<number>;
  private readonly months: Set<number>;
  private readonly weekdays: Set<number>;
  private readonly dayRestricted: boolean;
  private readonly weekdayRestricted: boolean;

  constructor(readonly expression: string) {
    const parts = expression.trim().split(/\s+/);
    if (parts.length !== 5) throw new CronExpressionError(expression, `expected 5 fields (minute hour day month weekday), got ${parts.length}`);
    [this.minutes, this.hours, this.days, this.months, this.weekdays] = parts.map((p, i) => parseField(expression, p, FIELDS[i]));
    this.dayRestricted = parts[2] !== '*';
    this.weekdayRestricted = parts[4] !== '*';
  }

  matches(epochMillis: number): boolean {
    const d = new Date(epochMillis);
    if (!this.minutes.has(d.getUTCMinutes()) || !this.hours.has(d.getUTCHours()) || !this.months.has(d.getUTCMonth() + 1)) return false;
    const day = this.days.has(d.getUTCDate());
    const weekday = this.weekdays.has(d.getUTCDay());
    if (this.dayRestricted && this.weekdayRestricted) return day || weekday;
    return day && weekday;
  }

  /** The first matching minute strictly after `epochMillis`. */
  next(epochMillis: number): number {
    let t = Math.floor(epochMillis / 60_000) * 60_000 + 60_000;
    // Whole days that cannot match are skipped; within a day, minute by minute (at most 1,440 steps).
    for (let guard = 0; guard < 366 * 5 * 1_440; guard++) {
      const d = new Date(t);
      if (!this.months.has(d.getUTCMonth() + 1) || !this.dayMatches(d)) {
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        continue;
      }
      if (this.matches(t)) return t;
      t += 60_000;
    }
    throw new CronExpressionError(this.expression, 'never fires');
  }

  private dayMatches(d: Date): boolean {
    const day = this.days.has(d.getUTCDate());
    const weekday = this.weekdays.has(d.getUTCDay());
    return this.dayRestricted && this.weekdayRestricted ? day || weekday : day && weekday;
  }

  /**
   * The same schedule as an EventBridge `cron(...)` expression (six fields, `?` in one day field,
   * day-of-week 1-7 from Sunday), for the AWS deployment's schedule rule.
   */
  toEventBridge(): string {
    const [minute, hour, day, month, weekday] = this.expression.trim().split(/\s+/);
    if (this.dayRestricted && this.weekdayRestricted) {
      throw new CronExpressionError(this.expression, 'EventBridge cannot restrict both day of month and day of week');
    }
    const ebWeekday = this.weekdayRestricted ? weekday.replace(/\d+/g, (n) => String((Number(n) % 7) + 1)) : '?';
    return `cron(${minute} ${hour} ${this.weekdayRestricted ? '?' : day} ${month} ${ebWeekday} *)`;
  }
}

/**
 * Calls `job` at every time the schedule fires until stopped. A run that overruns the next fire time
 * is not started twice: the next fire is computed after the run ends, so fires missed meanwhile are
 * skipped (a day they would have built can be run by hand: `npm run batch:run -- ... --from/--to`).
 */
export class CronScheduler {
  private stopped = false;
  private cancelSleep?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly schedule: CronSchedule,
    private readonly job: (fireTime: number) => Promise<void>,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** The next time the job will run. */
  nextFire(): number {
    return this.schedule.next(this.clock.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelSleep?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const fire = this.nextFire();
      let cancelled = false;
      let resolveCancel: () => void = () => undefined;
      const cancel = new Promise<void>((resolve) => (resolveCancel = resolve));
      // In steps of at most 6 hours: Node's timers overflow past 2^31 ms (24.8 days) and fire at once.
      while (!cancelled && this.clock.now() < fire) {
        const timer = this.clock.timer(Math.min(fire - this.clock.now(), 6 * 3_600_000));
        this.cancelSleep = () => {
          cancelled = true;
          timer.cancel();
          resolveCancel();
        };
        await Promise.race([timer.fired, cancel]);
        timer.cancel();
      }
      if (cancelled || this.stopped) return;
      try {
        await this.job(fire);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
