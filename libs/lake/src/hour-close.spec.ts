import { HourTracker } from './hour-close';

const H = 3_600_000;
const T0 = Date.parse('2026-11-28T05:00:00Z');
const MIN = 60_000;

describe('HourTracker', () => {
  const assigned = (parts: number[]) => new Map([['t', new Set(parts)]]);

  it('closes an hour once the minimum of the partitions maximum event times passes its end + lateness', () => {
    const tracker = new HourTracker(10 * MIN, 5 * MIN, 0);
    tracker.assign(assigned([0, 1]), 0);
    tracker.observe('t', 0, T0 + 30 * MIN, 1);
    tracker.landed('t', ['2026-11-28T05']);
    tracker.observe('t', 0, T0 + H + 20 * MIN, 2);
    // Partition 1 has delivered nothing yet: it holds the watermark back.
    expect(tracker.due(3, () => [])).toEqual([]);
    tracker.observe('t', 1, T0 + H + 5 * MIN, 4);
    expect(tracker.lowWatermark('t', 5)).toBe(T0 + H + 5 * MIN);
    expect(tracker.due(5, () => [])).toEqual([]);
    tracker.observe('t', 1, T0 + H + 10 * MIN, 6);
    expect(tracker.due(7, () => [])).toEqual([{ topic: 't', hour: '2026-11-28T05', reason: 'watermark' }]);
  });

  it('closes ended hours when every partition has been quiet for the idle time, never right after start', () => {
    const start = T0 + 3 * H;
    const tracker = new HourTracker(10 * MIN, 5 * MIN, start);
    tracker.recovered('t', ['2026-11-28T05'], [], []);
    expect(tracker.due(start + MIN, () => [])).toEqual([]);
    expect(tracker.due(start + 5 * MIN, () => [])).toEqual([{ topic: 't', hour: '2026-11-28T05', reason: 'idle' }]);
  });

  it('re-closes a closed hour when segments land in it again, and retries a failed close', () => {
    const tracker = new HourTracker(10 * MIN, 5 * MIN, 0, 0);
    tracker.landed('t', ['2026-11-28T05']);
    tracker.closing('t', '2026-11-28T05', 1);
    expect(tracker.due(1, () => [])).toEqual([]);
    tracker.landed('t', ['2026-11-28T05']);
    const [due] = tracker.due(2, () => []);
    expect(due).toEqual({ topic: 't', hour: '2026-11-28T05', reason: 'late' });
    tracker.closing('t', '2026-11-28T05', 2);
    tracker.closeFailed(due);
    expect(tracker.due(2, () => [])).toEqual([due]);
  });

  it('re-closes an hour at most once per interval while late events keep coming', () => {
    const tracker = new HourTracker(10 * MIN, 5 * MIN, 0, MIN);
    tracker.landed('t', ['2026-11-28T05']);
    tracker.closing('t', '2026-11-28T05', 1_000);
    tracker.landed('t', ['2026-11-28T05']);
    expect(tracker.due(1_000 + MIN - 1, () => ['2026-11-28T05'])).toEqual([]);
    expect(tracker.due(1_000 + MIN, () => [])).toEqual([{ topic: 't', hour: '2026-11-28T05', reason: 'late' }]);
  });

  describe('with other sink instances of the group', () => {
    const hour = '2026-11-28T05';
    const ahead = () => {
      const tracker = new HourTracker(10 * MIN, 5 * MIN, 0);
      // This instance owns partition 0, far past the hour.
      tracker.assign(assigned([0]), 0);
      tracker.observe('t', 0, T0 + H + 30 * MIN, 1);
      tracker.landed('t', [hour]);
      return tracker;
    };

    it('holds the hour while a partition another instance owns lags behind', () => {
      const tracker = ahead();
      tracker.peers('t', new Map([[1, { maxEventTime: T0 + 50 * MIN, lastRecordAt: 1, openHours: [] }]]));
      expect(tracker.lowWatermark('t', 2)).toBe(T0 + 50 * MIN);
      expect(tracker.due(2, () => [])).toEqual([]);
      tracker.peers('t', new Map([[1, { maxEventTime: T0 + H + 10 * MIN, lastRecordAt: 3, openHours: [] }]]));
      expect(tracker.due(4, () => [])).toEqual([{ topic: 't', hour, reason: 'watermark' }]);
    });

    it('leaves an hour to the instance that still holds files of it open', () => {
      const tracker = ahead();
      tracker.peers('t', new Map([[1, { maxEventTime: T0 + H + 10 * MIN, lastRecordAt: 3, openHours: [hour] }]]));
      expect(tracker.due(4, () => [])).toEqual([]);
    });

    it('counts a peer partition that has delivered nothing yet as holding back, and its own report over a stale peer one', () => {
      const tracker = ahead();
      tracker.peers('t', new Map([[1, { maxEventTime: null, lastRecordAt: 1, openHours: [] }]]));
      expect(tracker.due(2, () => [])).toEqual([]);
      // A stale report for partition 0 (owned here now) does not count.
      tracker.peers('t', new Map([[0, { maxEventTime: T0, lastRecordAt: 1, openHours: [hour] }]]));
      expect(tracker.due(2, () => [])).toEqual([{ topic: 't', hour, reason: 'watermark' }]);
    });

    it('holds the hour for a partition of the topic nobody has reported yet, until it has been quiet since start', () => {
      const tracker = ahead();
      tracker.partitionCount('t', 2);
      // Partition 1's owner has not reported (its report not read yet): the hour must not close on partition 0 alone.
      expect(tracker.lowWatermark('t', 2)).toBeUndefined();
      expect(tracker.due(2, () => [])).toEqual([]);
      tracker.peers('t', new Map([[1, { maxEventTime: T0 + H + 10 * MIN, lastRecordAt: 3, openHours: [] }]]));
      expect(tracker.due(4, () => [])).toEqual([{ topic: 't', hour, reason: 'watermark' }]);

      const quiet = ahead();
      quiet.partitionCount('t', 2);
      // Never reported for the idle time since start: it stops holding back, as a quiet assigned partition would.
      expect(quiet.due(5 * MIN, () => [])).toEqual([{ topic: 't', hour, reason: 'watermark' }]);
    });

    it('is not idle while a peer partition still receives records', () => {
      const start = T0 + 3 * H;
      const tracker = new HourTracker(10 * MIN, 5 * MIN, start);
      tracker.recovered('t', [hour], [], []);
      tracker.peers('t', new Map([[2, { maxEventTime: T0 + 20 * MIN, lastRecordAt: start + 4 * MIN, openHours: [] }]]));
      expect(tracker.due(start + 5 * MIN, () => [])).toEqual([]);
      expect(tracker.due(start + 9 * MIN, () => [])).toEqual([{ topic: 't', hour, reason: 'idle' }]);
    });

    it('reports its own partitions with their maximum event time', () => {
      const tracker = ahead();
      expect([...tracker.ownProgress('t')]).toEqual([[0, { maxEventTime: T0 + H + 30 * MIN, lastRecordAt: 1 }]]);
    });
  });
});
