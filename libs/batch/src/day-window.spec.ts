import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@app/config';
import { curatedManifestKey, rawManifestKey, rawSegmentKey } from '@app/lake';
import { FileObjectStore } from '@app/object-store';
import { loadBatchSettings } from './batch-settings';
import { checkDayReadiness, dayStartMillis, daysBetween, hoursOf, type OrderTopics } from './day-window';

const topics: OrderTopics = { placed: 'p', confirmed: 'c', rejected: 'r', cancelled: 'x', fraudAssessed: 'f' };

describe('days and hours', () => {
  it('accepts only real days', () => {
    expect(dayStartMillis('2026-11-27')).toBe(Date.UTC(2026, 10, 27));
    expect(() => dayStartMillis('2026-02-30')).toThrow(/not a day/);
    expect(() => dayStartMillis('27.11.2026')).toThrow(/not a day/);
  });

  it('lists a backfill range inclusively and refuses a reversed one', () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
    expect(() => daysBetween('2026-03-02', '2026-03-01')).toThrow(/after/);
  });

  it('reads the day plus the lookahead hours', () => {
    const hours = hoursOf('2026-11-27', 2);
    expect(hours).toHaveLength(26);
    expect([hours[0], hours[23], hours[25]]).toEqual(['2026-11-27T00', '2026-11-27T23', '2026-11-28T01']);
  });
});

describe('checkDayReadiness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batch-ready-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileObjectStore(pathToFileURL(dir).toString() + '/');
  const later = Date.UTC(2026, 10, 29);
  const options = { lookaheadHours: 1, readyAfterMs: 600_000, now: later };

  it('is ready for a day with no data once it has ended, and not before', async () => {
    expect(await checkDayReadiness(store, topics, '2026-11-20', options)).toMatchObject({ ready: true, hoursChecked: 125, compactedHours: 0 });
    const early = await checkDayReadiness(store, topics, '2026-11-20', { ...options, now: Date.UTC(2026, 10, 21, 1, 5) });
    expect(early.ready).toBe(false);
    expect(early.readyAt).toBe('2026-11-21T01:10:00.000Z');
  });

  it('waits for an hour that is not closed, then not compacted, then has a late segment', async () => {
    const seg = rawSegmentKey('p', '2026-11-27T05', 0, 0n);
    await store.put(seg, Buffer.from('segment'));
    let report = await checkDayReadiness(store, topics, '2026-11-27', options);
    expect(report.ready).toBe(false);
    expect(report.waitingFor).toEqual([expect.objectContaining({ topic: 'p', hour: '2026-11-27T05', state: 'not-closed' })]);

    await store.put(rawManifestKey('p', '2026-11-27T05'), Buffer.from('{}'));
    report = await checkDayReadiness(store, topics, '2026-11-27', options);
    expect(report.waitingFor).toEqual([expect.objectContaining({ state: 'not-compacted', detail: 'closed, not compacted yet' })]);

    const curated = { sources: [{ key: seg, bytes: 7 }], files: [], rows: 0 };
    await store.put(curatedManifestKey('p', '2026-11-27T05'), Buffer.from(JSON.stringify(curated)));
    report = await checkDayReadiness(store, topics, '2026-11-27', options);
    expect(report).toMatchObject({ ready: true, compactedHours: 1 });

    await store.put(rawSegmentKey('p', '2026-11-27T05', 0, 100n), Buffer.from('late'));
    report = await checkDayReadiness(store, topics, '2026-11-27', options);
    expect(report.waitingFor).toEqual([expect.objectContaining({ state: 'not-compacted', detail: '1 segment(s) landed since the last compaction' })]);
  });
});

describe('loadBatchSettings', () => {
  it('has defaults that work locally', () => {
    const s = loadBatchSettings({}, 's3://securecart-lake/');
    expect(s).toMatchObject({ lakeUrl: 's3://securecart-lake/', lookaheadHours: 1, readyAfterMs: 600_000, pollSeconds: 300, maxPolls: 24, timeScale: 1 });
    expect(s.schedule.expression).toBe('30 1 * * *');
  });

  it('names every bad variable', () => {
    try {
      loadBatchSettings({ BATCH_SCHEDULE: '61 * * * *', BATCH_READY_AFTER: 'soon', BATCH_MAX_POLLS: '0' }, 's3://b/');
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/BATCH_SCHEDULE/);
      expect((err as ConfigError).message).toMatch(/BATCH_READY_AFTER/);
      expect((err as ConfigError).message).toMatch(/BATCH_MAX_POLLS/);
    }
  });
});
