import { ConfigError } from '@app/config';
import { landingDefaults, loadLandingSettings, parseByteSize, parseDurationMs } from './lake-settings';

const defaults = { defaultLakeUrl: 's3://securecart-lake/', catalogTopics: ['a.b.v1', 'c.d.v1'] };

function badVariables(env: NodeJS.ProcessEnv): string[] {
  try {
    loadLandingSettings(env, defaults);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => p.variable).sort();
  }
  throw new Error('expected a ConfigError');
}

describe('loadLandingSettings', () => {
  it('defaults to every catalog topic in the platform bucket', () => {
    const s = loadLandingSettings({}, defaults);
    expect(s).toMatchObject({
      lakeUrl: 's3://securecart-lake/',
      topics: { names: ['a.b.v1', 'c.d.v1'] },
      groupId: 's3-sink',
      rotateRecords: landingDefaults.rotateRecords,
      allowedLatenessMs: 600_000,
      idleCloseMs: 300_000,
    });
    expect(s.crashAt).toBeUndefined();
  });

  it('reads lists, patterns, per-topic fields, masks and durations', () => {
    const s = loadLandingSettings(
      {
        LAKE_URL: 'file:///tmp/lake',
        SINK_TOPICS: '/^orders\\./',
        SINK_EVENT_TIME_FIELDS: 'clicks.v1=seenAt',
        SINK_MASK: 'orders.x.v1:email=hash,address=drop;clicks.v1:ip=drop',
        SINK_ROTATE_AGE: '90s',
        SINK_ROTATE_BYTES: '8MiB',
        SINK_CRASH_AT: 'after-upload:3',
      },
      defaults,
    );
    expect('pattern' in s.topics && s.topics.pattern.test('orders.order-placed.v1')).toBe(true);
    expect(s.eventTimeFields).toEqual({ 'clicks.v1': 'seenAt' });
    expect(s.masks).toEqual({ 'orders.x.v1': { email: 'hash', address: 'drop' }, 'clicks.v1': { ip: 'drop' } });
    expect(s.rotateAgeMs).toBe(90_000);
    expect(s.rotateBytes).toBe(8 * 1024 * 1024);
    expect(s.crashAt).toEqual({ point: 'after-upload', cut: 3 });
  });

  it('names every bad variable', () => {
    expect(
      badVariables({
        LAKE_URL: 'http://nope',
        SINK_TOPICS: 'ok,not a topic',
        SINK_MASK: 'topic:field=encrypt',
        SINK_ROTATE_AGE: 'soon',
        SINK_DEFLATE_LEVEL: '12',
        SINK_SESSION_TIMEOUT: '1s',
        SINK_CRASH_AT: 'sometimes',
      }),
    ).toEqual(['LAKE_URL', 'SINK_CRASH_AT', 'SINK_DEFLATE_LEVEL', 'SINK_MASK', 'SINK_ROTATE_AGE', 'SINK_SESSION_TIMEOUT', 'SINK_TOPICS']);
  });

  it('parses durations and sizes', () => {
    expect([parseDurationMs('250ms'), parseDurationMs('10m'), parseDurationMs('2h'), parseDurationMs('x')]).toEqual([250, 600_000, 7_200_000, undefined]);
    expect([parseByteSize('64MiB'), parseByteSize('512KiB'), parseByteSize('12'), parseByteSize('1 GB')]).toEqual([64 * 2 ** 20, 512 * 1024, 12, undefined]);
  });
});
