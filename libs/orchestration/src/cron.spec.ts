import { FakeClock } from './clock';
import { CronExpressionError, CronSchedule, CronScheduler } from './cron';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('CronSchedule', () => {
  it('finds the next fire of a daily schedule, strictly after the given time', () => {
    const daily = new CronSchedule('30 1 * * *');
    expect(iso(daily.next(at('2026-11-27T12:00:00Z')))).toBe('2026-11-28T01:30:00.000Z');
    expect(iso(daily.next(at('2026-11-28T01:30:00Z')))).toBe('2026-11-29T01:30:00.000Z');
    expect(iso(daily.next(at('2026-11-28T01:29:59Z')))).toBe('2026-11-28T01:30:00.000Z');
  });

  it('steps, ranges, lists, months and weekdays (0 and 7 are Sunday)', () => {
    expect(iso(new CronSchedule('*/15 9-17 * * *').next(at('2026-11-27T17:50:00Z')))).toBe('2026-11-28T09:00:00.000Z');
    expect(iso(new CronSchedule('0 6 * * 1,3').next(at('2026-11-27T00:00:00Z')))).toBe('2026-11-30T06:00:00.000Z'); // Fri → Mon
    expect(iso(new CronSchedule('0 0 * * 7').next(at('2026-11-27T00:00:00Z')))).toBe('2026-11-29T00:00:00.000Z'); // Sunday
    expect(iso(new CronSchedule('0 0 1 1 *').next(at('2026-11-27T00:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(new CronSchedule('0 0 29 2 *').next(at('2026-03-01T00:00:00Z')))).toBe('2028-02-29T00:00:00.000Z');
  });

  it('with both day fields restricted, either matches (Vixie cron)', () => {
    // The 1st of the month or any Monday: after Fri 2026-11-27 comes Mon 11-30, then Tue 12-01.
    const s = new CronSchedule('0 0 1 * 1');
    expect(iso(s.next(at('2026-11-27T00:00:00Z')))).toBe('2026-11-30T00:00:00.000Z');
    expect(iso(s.next(at('2026-11-30T00:00:00Z')))).toBe('2026-12-01T00:00:00.000Z');
  });

  it('names the bad field', () => {
    expect(() => new CronSchedule('61 * * * *')).toThrow(CronExpressionError);
    expect(() => new CronSchedule('* * * *')).toThrow(/5 fields/);
    expect(() => new CronSchedule('0 x * * *')).toThrow(/hour "x"/);
  });

  it('converts to EventBridge cron (? in the free day field, weekdays from 1 = Sunday)', () => {
    expect(new CronSchedule('30 1 * * *').toEventBridge()).toBe('cron(30 1 * * ? *)');
    expect(new CronSchedule('0 6 * * 1-5').toEventBridge()).toBe('cron(0 6 ? * 2-6 *)');
    expect(() => new CronSchedule('0 0 1 * 1').toEventBridge()).toThrow(/both/);
  });
});

describe('CronScheduler', () => {
  it('runs the job at each fire time on the clock, and stops', async () => {
    const clock = new FakeClock(at('2026-11-27T00:00:00Z'));
    const fired: string[] = [];
    const scheduler: CronScheduler = new CronScheduler(
      new CronSchedule('30 1 * * *'),
      async (fire) => {
        fired.push(iso(fire));
        if (fired.length === 3) void scheduler.stop();
      },
      clock,
    );
    scheduler.start();
    for (let day = 0; day < 4 && fired.length < 3; day++) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(24 * 3_600_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await scheduler.stop();
    expect(fired).toEqual(['2026-11-27T01:30:00.000Z', '2026-11-28T01:30:00.000Z', '2026-11-29T01:30:00.000Z']);
  });

  it('waits months for a yearly schedule without firing early (timers are stepped, not one long timeout)', async () => {
    const clock = new FakeClock(at('2026-11-27T00:00:00Z'));
    const fired: string[] = [];
    const scheduler = new CronScheduler(new CronSchedule('0 0 1 1 *'), async (fire) => void fired.push(iso(fire)), clock);
    scheduler.start();
    for (let step = 0; step < 4 * 40 && fired.length === 0; step++) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(6 * 3_600_000);
      await new Promise((resolve) => setImmediate(resolve));
      if (clock.now() < at('2027-01-01T00:00:00Z')) expect(fired).toEqual([]);
    }
    await scheduler.stop();
    expect(fired).toEqual(['2027-01-01T00:00:00.000Z']);
  });
});
