import { ConfigError } from '@app/config';
import { collectorDefaults, DEFAULT_BOT_USER_AGENTS, loadCollectorSettings } from './collector-settings';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadCollectorSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('collector settings', () => {
  it('defaults work locally: the catalog topic, PutRecords limits, bots dropped, no field touched', () => {
    const s = loadCollectorSettings({});
    expect(s).toMatchObject({ topic: 'clickstream.events.v1', maxBatchEvents: 500, maxBatchBytes: 5 * 1024 * 1024, autoRegister: true });
    expect(s.filter).toEqual({ dropBots: true, botUserAgents: DEFAULT_BOT_USER_AGENTS, dropFields: [], hashFields: [], hashSalt: '' });
    expect(s.maxInFlightBytes).toBe(collectorDefaults.maxInFlightBytes);
  });

  it('reads sizes, lists, patterns and flags', () => {
    const s = loadCollectorSettings({
      CLICKSTREAM_MAX_BATCH_BYTES: '1MiB',
      CLICKSTREAM_MAX_INFLIGHT_BYTES: '8MiB',
      CLICKSTREAM_DROP_FIELDS: 'country, referrer',
      CLICKSTREAM_HASH_FIELDS: 'customerId',
      CLICKSTREAM_HASH_SALT: 'pepper',
      CLICKSTREAM_BOT_USER_AGENTS: 'MyMonitor,/^Lighthouse/i',
      CLICKSTREAM_DROP_BOTS: 'false',
    });
    expect(s.maxBatchBytes).toBe(1024 * 1024);
    expect(s.filter.dropFields).toEqual(['country', 'referrer']);
    expect(s.filter.hashFields).toEqual(['customerId']);
    expect(s.filter.botUserAgents).toEqual(['mymonitor', /^Lighthouse/i]);
    expect(s.filter.dropBots).toBe(false);
    expect(loadCollectorSettings({ CLICKSTREAM_BOT_USER_AGENTS: 'none' }).filter.botUserAgents).toEqual([]);
  });

  it('names every bad variable at once', () => {
    const lines = problems({
      CLICKSTREAM_MAX_BATCH_EVENTS: '501',
      CLICKSTREAM_MAX_BATCH_BYTES: '6MiB',
      CLICKSTREAM_DROP_FIELDS: 'sessionId',
      CLICKSTREAM_HASH_FIELDS: 'pageUrl',
      CLICKSTREAM_BOT_USER_AGENTS: '/(/',
      CLICKSTREAM_DROP_BOTS: 'maybe',
      CLICKSTREAM_TOPIC: 'bad topic',
    }).join('\n');
    for (const v of ['CLICKSTREAM_MAX_BATCH_EVENTS', 'CLICKSTREAM_MAX_BATCH_BYTES', 'CLICKSTREAM_DROP_FIELDS', 'CLICKSTREAM_HASH_FIELDS', 'CLICKSTREAM_BOT_USER_AGENTS', 'CLICKSTREAM_DROP_BOTS', 'CLICKSTREAM_TOPIC']) {
      expect(lines).toContain(v);
    }
  });

  it('refuses a field both dropped and hashed, and an in-flight cap below one batch', () => {
    expect(problems({ CLICKSTREAM_DROP_FIELDS: 'customerId', CLICKSTREAM_HASH_FIELDS: 'customerId' }).join('\n')).toContain('CLICKSTREAM_HASH_FIELDS');
    expect(problems({ CLICKSTREAM_MAX_INFLIGHT_BYTES: '1MiB' }).join('\n')).toContain('CLICKSTREAM_MAX_INFLIGHT_BYTES');
  });
});
